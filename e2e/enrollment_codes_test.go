package e2e_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
	"github.com/stretchr/testify/require"
)

func TestEnrollmentCodesBoughtInBulkEnrollTheirRedeemers(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	id := "course-v1:E2E+Codes" + randomHex(3) + "+2026"
	var pub struct {
		Products []struct {
			ProductClass string `json:"product_class"`
			PartnerSKU   string `json:"partner_sku"`
			Price        string `json:"price"`
		} `json:"products"`
	}
	require.Equal(t, http.StatusCreated, s.call("POST", "/api/v2/publication/", s.token("e2e-staff", true), map[string]any{
		"id": id, "name": "Bulk", "create_or_activate_enrollment_code": true,
		"products": []any{map[string]any{"product_class": "Seat", "price": "30.00", "attribute_values": []any{
			map[string]any{"name": "certificate_type", "value": "verified"},
			map[string]any{"name": "id_verification_required", "value": true}}}},
	}, &pub))
	skus := map[string]string{}
	for _, p := range pub.Products {
		skus[p.ProductClass] = p.PartnerSKU
		require.Equal(t, "30.00", p.Price)
	}
	require.Len(t, skus, 2, "a seat and its enrollment code")

	// An organisation buys three codes.
	var basket basketResponse
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/baskets/", s.token("buyer", false), map[string]any{
		"products": []any{map[string]any{"sku": skus["Enrollment Code"], "quantity": 3}}, "checkout": true}, &basket))
	require.Equal(t, "90.00", basket.PaymentData.PaymentFormData["amount"])
	number := s.orderNumber(basket)
	s.pay(basket, cybersim.ActionPay)
	s.waitForOrder("buyer", number, "Complete")

	var order struct {
		Lines []struct {
			EnrollmentCodes []string `json:"enrollment_codes"`
		} `json:"lines"`
	}
	require.Equal(t, http.StatusOK, s.call("GET", "/api/v2/orders/"+number+"/", s.token("buyer", false), nil, &order))
	codes := order.Lines[0].EnrollmentCodes
	require.Len(t, codes, 3)
	require.Empty(t, s.lms.Enrollments(), "buying codes enrolls nobody")

	req, err := http.NewRequest("GET", s.apiURL+"/coupons/enrollment_code_csv/"+number+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "JWT "+s.token("buyer", false))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	require.NoError(t, err)
	require.Len(t, rows, 4, "a header and three codes")
	require.Equal(t, codes[0], rows[1][0])
	require.Equal(t, id, rows[1][2])
	require.Equal(t, http.StatusNotFound, s.call("GET", "/coupons/enrollment_code_csv/"+number+"/", s.token("stranger", false), nil, nil))

	// A learner redeems one: the seat costs nothing and the learner is enrolled.
	tok := s.token("redeemer", false)
	var b basketResponse
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": skus["Seat"]}}}, &b))
	var priced struct {
		TotalInclTax string `json:"total_incl_tax"`
	}
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/baskets/"+itoa(b.ID)+"/vouchers/", tok, map[string]any{"code": strings.ToLower(codes[0])}, &priced))
	require.Equal(t, "0.00", priced.TotalInclTax)
	var free map[string]any
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": b.ID}, &free))
	require.Equal(t, "free", free["payment_processor"])
	s.waitForOrder("redeemer", s.orderNumber(b), "Complete")
	e, ok := s.lms.Enrollment("redeemer", id)
	require.True(t, ok)
	require.Equal(t, "verified", e.Mode)

	// The code is single use.
	var other basketResponse
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/baskets/", s.token("latecomer", false), map[string]any{"products": []any{map[string]any{"sku": skus["Seat"]}}}, &other))
	var refused map[string]any
	require.Equal(t, http.StatusBadRequest, s.call("POST", "/api/v2/baskets/"+itoa(other.ID)+"/vouchers/", s.token("latecomer", false), map[string]any{"code": codes[0]}, &refused))
	require.Contains(t, refused["developer_message"], "has already been used")
}
