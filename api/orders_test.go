package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// placeOrder freezes the user's basket through the API and places its order through the store
// with an accepted payment, as the checkout workflow does.
func (h *harness) placeOrder(user string, skus ...string) (string, string) {
	h.t.Helper()
	id, tok := h.basketFor(user, skus...)
	requireStatus(h.t, h.do("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": id}), http.StatusOK)
	number := commerce.OrderNumber("EDX", id)
	co, _, err := h.store.CheckoutByOrderNumber(context.Background(), number)
	require.NoError(h.t, err)
	_, created, err := h.store.PlaceOrder(context.Background(), co, &commerce.Payment{
		Processor: "cybersource", TransactionID: "T-" + number, Amount: co.Total, Currency: co.Currency, CardType: "visa", Label: "Visa 1111",
	})
	require.NoError(h.t, err)
	require.True(h.t, created)
	return number, tok
}

func TestOrders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:edX+Ord")+"+2026", "49.00")
	user := dbtest.Unique("orderer-")
	number, tok := h.placeOrder(user, skus["verified"])
	staff := h.token("order-staff", true)

	t.Run("DetailHasEdXFields", func(t *testing.T) {
		body := requireStatus(t, h.do("GET", "/api/v2/orders/"+number+"/", tok, nil), http.StatusOK)
		require.Equal(t, number, body["number"])
		require.Equal(t, "Open", body["status"])
		require.Equal(t, "USD", body["currency"])
		require.Equal(t, "49.00", body["total_excl_tax"])
		require.Equal(t, "49.00", body["total_before_discounts_incl_tax"])
		require.Equal(t, "0.00", body["discount"])
		require.Equal(t, "cybersource", body["payment_processor"])
		require.Equal(t, "Visa 1111", body["payment_method"])
		require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, body["date_placed"])
		require.Equal(t, map[string]any{"email": user + "@example.com", "username": user}, body["user"])
		line := body["lines"].([]any)[0].(map[string]any)
		require.Equal(t, "49.00", line["line_price_excl_tax"])
		require.Equal(t, "49.00", line["unit_price_excl_tax"])
		require.Equal(t, float64(1), line["quantity"])
		require.Equal(t, "Open", line["status"])
		require.Equal(t, skus["verified"], line["product"].(map[string]any)["partner_sku"])
		require.Equal(t, []any{}, body["vouchers"])
	})
	t.Run("OthersSee404StaffSeesIt", func(t *testing.T) {
		requireStatus(t, h.do("GET", "/api/v2/orders/"+number+"/", h.token("stranger", false), nil), http.StatusNotFound)
		requireStatus(t, h.do("GET", "/api/v2/orders/"+number+"/", staff, nil), http.StatusOK)
		requireStatus(t, h.do("GET", "/api/v2/orders/EDX-1/", tok, nil), http.StatusNotFound)
		requireStatus(t, h.do("GET", "/api/v2/orders/"+number+"/", "", nil), http.StatusUnauthorized)
	})
	t.Run("ListIsOwnOrStaffsChoice", func(t *testing.T) {
		body := requireStatus(t, h.do("GET", "/api/v2/orders/", tok, nil), http.StatusOK)
		require.Equal(t, float64(1), body["count"])
		require.Equal(t, number, body["results"].([]any)[0].(map[string]any)["number"])
		body = requireStatus(t, h.do("GET", "/api/v2/orders/", h.token("empty-orders", false), nil), http.StatusOK)
		require.Equal(t, float64(0), body["count"])
		requireStatus(t, h.do("GET", "/api/v2/orders/?username="+user, h.token("nosy", false), nil), http.StatusForbidden)
		body = requireStatus(t, h.do("GET", "/api/v2/orders/?username="+user, staff, nil), http.StatusOK)
		require.Equal(t, float64(1), body["count"])
		body = requireStatus(t, h.do("GET", "/api/v2/orders/?username=nobody-here", staff, nil), http.StatusOK)
		require.Equal(t, float64(0), body["count"])
		requireStatus(t, h.do("GET", "/api/v2/orders/?username="+user, tok, nil), http.StatusOK)
	})
	t.Run("Receipt", func(t *testing.T) {
		body := requireStatus(t, h.do("GET", "/checkout/receipt/?order_number="+number, tok, nil), http.StatusOK)
		require.Equal(t, number, body["number"])
		requireStatus(t, h.do("GET", "/checkout/receipt/?order_number="+number, h.token("stranger", false), nil), http.StatusNotFound)
		requireStatus(t, h.do("GET", "/checkout/receipt/?order_number="+number, "", nil), http.StatusUnauthorized)
		req := httptest.NewRequest("GET", "/checkout/receipt/?order_number="+number, nil)
		req.Header.Set("Accept", "text/html")
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), number)
		require.NotContains(t, rec.Body.String(), user, "the anonymous page shows nothing personal")
	})
	t.Run("FulfillIsStaffOnlyAndSignalsRetry", func(t *testing.T) {
		requireStatus(t, h.do("PUT", "/api/v2/orders/"+number+"/fulfill/", tok, nil), http.StatusForbidden)
		_, _, before := h.checkouts.counts()
		body := requireStatus(t, h.do("PUT", "/api/v2/orders/"+number+"/fulfill/", staff, nil), http.StatusOK)
		require.Equal(t, number, body["number"])
		_, _, after := h.checkouts.counts()
		require.Equal(t, before+1, after)
		requireStatus(t, h.do("PUT", "/api/v2/orders/EDX-1/fulfill/", staff, nil), http.StatusNotFound)

		_, err := h.store.MarkOrderFulfilled(context.Background(), number, "test")
		require.NoError(t, err)
		requireStatus(t, h.do("PUT", "/api/v2/orders/"+number+"/fulfill/", staff, nil), http.StatusNotAcceptable)
		_, _, final := h.checkouts.counts()
		require.Equal(t, after, final, "a Complete order is not fulfilled again")
		requireStatus(t, h.do("DELETE", "/api/v2/orders/"+number+"/fulfill/", staff, nil), http.StatusMethodNotAllowed)
	})
	t.Run("PaymentForAPlacedOrderIsNotSignalledAgain", func(t *testing.T) {
		_, before, _ := h.checkouts.counts()
		rec := h.postForm("/payment/cybersource/notify/", signedReply(acceptReply(number, "49.00", "T-"+number)))
		require.Equal(t, http.StatusOK, rec.Code)
		_, after, _ := h.checkouts.counts()
		require.Equal(t, before, after, "a replay of the order's payment")
	})
	t.Run("ASecondPaymentForAPlacedOrderReachesItsWorkflow", func(t *testing.T) {
		_, before, _ := h.checkouts.counts()
		rec := h.postForm("/payment/cybersource/notify/", signedReply(acceptReply(number, "49.00", "ANOTHER-TXN")))
		require.Equal(t, http.StatusOK, rec.Code, "an excessive payment is recorded, then handed to the workflow that flags it for ops")
		_, after, _ := h.checkouts.counts()
		require.Equal(t, before+1, after)
	})
}
