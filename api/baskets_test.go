package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

func TestBaskets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:edX+Bsk")+"+2026", "49.00")
	other := h.publish(dbtest.Unique("course-v1:edX+Bsk2")+"+2026", "10.50")

	t.Run("CreateAndShow", func(t *testing.T) {
		user := dbtest.Unique("buyer-")
		tok := h.token(user, false)
		body := requireStatus(t, h.do("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": skus["verified"]}, map[string]any{"sku": other["verified"]}}}), http.StatusOK)
		require.Nil(t, body["order"])
		require.Nil(t, body["payment_data"])
		id := int64(body["id"].(float64))

		basket := requireStatus(t, h.do("GET", "/api/v2/baskets/"+itoa(id)+"/", tok, nil), http.StatusOK)
		require.Equal(t, "Open", basket["status"])
		require.Equal(t, "59.50", basket["total_incl_tax"])
		require.Equal(t, "59.50", basket["total_incl_tax_excl_discounts"])
		require.Equal(t, "0.00", basket["total_discount"])
		require.Equal(t, "USD", basket["currency"])
		require.Equal(t, "EDX-"+itoa(100000+id), basket["order_number"])
		lines := basket["lines"].([]any)
		require.Len(t, lines, 2)
		first := lines[0].(map[string]any)
		require.Equal(t, skus["verified"], first["sku"])
		require.Equal(t, "49.00", first["unit_price_incl_tax"])
		require.Contains(t, first["title"], "with verified certificate")

		t.Run("OneOpenBasketPerUserReplacedOnCreate", func(t *testing.T) {
			body := requireStatus(t, h.do("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": skus["audit"]}}}), http.StatusOK)
			require.Equal(t, float64(id), body["id"])
			basket := requireStatus(t, h.do("GET", "/api/v2/baskets/"+itoa(id)+"/", tok, nil), http.StatusOK)
			require.Len(t, basket["lines"], 1)
			require.Equal(t, "0.00", basket["total_incl_tax"])
			require.Equal(t, 1, h.count("SELECT count(*) FROM baskets b JOIN users u ON u.id = b.owner_id WHERE u.username = $1 AND b.status = 'Open'", user))
		})
		t.Run("OthersSee404AndStaffSeesIt", func(t *testing.T) {
			requireStatus(t, h.do("GET", "/api/v2/baskets/"+itoa(id)+"/", h.token("snoop", false), nil), http.StatusNotFound)
			requireStatus(t, h.do("GET", "/api/v2/baskets/"+itoa(id)+"/", h.token("support", true), nil), http.StatusOK)
			requireStatus(t, h.do("GET", "/api/v2/baskets/"+itoa(id)+"/", "", nil), http.StatusUnauthorized)
			requireStatus(t, h.do("GET", "/api/v2/baskets/99999999/", tok, nil), http.StatusNotFound)
			requireStatus(t, h.do("GET", "/api/v2/baskets/x/", tok, nil), http.StatusNotFound)
		})
	})

	t.Run("EdXErrorsAre400AndChangeNothing", func(t *testing.T) {
		user := dbtest.Unique("bad-buyer-")
		tok := h.token(user, false)
		expired := h.expiredSeat()
		cases := map[string]struct {
			body      any
			developer string
			userMsg   string
		}{
			"NoProducts":      {map[string]any{"products": []any{}}, "No product objects could be found in the request body", "You can't check out with an empty basket."},
			"ProductsMissing": {map[string]any{}, "No product objects could be found in the request body", "You can't check out with an empty basket."},
			"MissingSKU":      {map[string]any{"products": []any{map[string]any{"id": 1}}}, "SKU missing from a requested product object", "We couldn't locate the identification code necessary to find one of your products."},
			"UnknownSKU":      {map[string]any{"products": []any{map[string]any{"sku": "NOSUCH1"}}}, "Catalog does not contain a product with SKU [NOSUCH1]", "We couldn't find one of the products you're looking for."},
			"Unavailable":     {map[string]any{"products": []any{map[string]any{"sku": expired}}}, "Product with SKU [" + expired + "] is [Unavailable]", "One of the products you're trying to order is unavailable."},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				body := requireStatus(t, h.do("POST", "/api/v2/baskets/", tok, tc.body), http.StatusBadRequest)
				require.Equal(t, tc.developer, body["developer_message"])
				require.Equal(t, tc.userMsg, body["user_message"])
			})
		}
		for _, raw := range []string{`{"products":`, `{"products":"ABC"}`, `{"products":[{"sku":5}]}`, `{"checkout":"yes","products":[]}`} {
			rec := h.do("POST", "/api/v2/baskets/", tok, raw)
			require.Equal(t, http.StatusBadRequest, rec.Code, raw)
			jsonBody(t, rec)
		}
		require.Equal(t, 0, h.count("SELECT count(*) FROM baskets b JOIN users u ON u.id = b.owner_id WHERE u.username = $1", user))
	})

	t.Run("MixedCurrencyIs400", func(t *testing.T) {
		eur := h.publish(dbtest.Unique("course-v1:edX+Eur")+"+2026", "20.00")
		requireStatus(t, h.do("PUT", "/api/v2/stockrecords/"+eur["verified"]+"/", h.token("s", true), `{"price_currency":"EUR"}`), http.StatusOK)
		body := requireStatus(t, h.do("POST", "/api/v2/baskets/", h.token(dbtest.Unique("mixed-"), false), map[string]any{"products": []any{map[string]any{"sku": eur["verified"]}, map[string]any{"sku": skus["verified"]}}}), http.StatusBadRequest)
		require.Contains(t, body["developer_message"], "one currency")
		requireStatus(t, h.do("GET", "/api/v2/baskets/calculate/?sku="+eur["verified"]+"&sku="+skus["verified"], h.token("calc", false), nil), http.StatusBadRequest)
	})

	t.Run("PurchasedSeatIsNotAddedAgain", func(t *testing.T) {
		user := dbtest.Unique("repeat-")
		tok := h.token(user, false)
		body := requireStatus(t, h.do("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": skus["verified"]}}}), http.StatusOK)
		h.placeOrderDirectly(int64(body["id"].(float64)))

		body = requireStatus(t, h.do("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": skus["verified"]}, map[string]any{"sku": other["verified"]}}}), http.StatusOK)
		basket := requireStatus(t, h.do("GET", "/api/v2/baskets/"+itoa(int64(body["id"].(float64)))+"/", tok, nil), http.StatusOK)
		lines := basket["lines"].([]any)
		require.Len(t, lines, 1)
		require.Equal(t, other["verified"], lines[0].(map[string]any)["sku"])

		body = requireStatus(t, h.do("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": skus["verified"]}}}), http.StatusBadRequest)
		require.Equal(t, "You have already purchased these products.", body["user_message"])
	})
}

func TestCalculate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.publish(dbtest.Unique("course-v1:edX+CalcA")+"+2026", "49.00")
	b := h.publish(dbtest.Unique("course-v1:edX+CalcB")+"+2026", "0.99")
	user := dbtest.Unique("calc-")
	tok := h.token(user, false)
	path := "/api/v2/baskets/calculate/?sku=" + a["verified"] + "&sku=" + b["verified"] + "&sku=" + a["verified"]

	body := requireStatus(t, h.do("GET", path, tok, nil), http.StatusOK)
	require.Equal(t, map[string]any{"total_incl_tax_excl_discounts": "49.99", "total_incl_tax": "49.99", "currency": "USD"}, body)
	require.Equal(t, 0, h.count("SELECT count(*) FROM baskets b JOIN users u ON u.id = b.owner_id WHERE u.username = $1", user), "calculate writes nothing")

	requireStatus(t, h.do("GET", path+"&username="+user, tok, nil), http.StatusOK)
	requireStatus(t, h.do("GET", path+"&is_anonymous=true", tok, nil), http.StatusOK)
	requireStatus(t, h.do("GET", path+"&username=nobody-at-all", h.token("calc-staff", true), nil), http.StatusOK)

	cases := map[string]struct {
		path   string
		status int
		detail string
	}{
		"NoSKU":          {"/api/v2/baskets/calculate/", http.StatusBadRequest, "No SKUs provided."},
		"EmptySKU":       {"/api/v2/baskets/calculate/?sku=", http.StatusBadRequest, "No SKUs provided."},
		"UnknownSKU":     {"/api/v2/baskets/calculate/?sku=" + a["verified"] + "&sku=ZZZZZZZ", http.StatusBadRequest, "Products with SKU(s) [ZZZZZZZ] do not exist."},
		"BothUserParams": {path + "&username=" + user + "&is_anonymous=true", http.StatusBadRequest, "Provide username or is_anonymous query param, but not both"},
		"OthersUsername": {path + "&username=someone-else", http.StatusForbidden, "Unauthorized user credentials"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			body := requireStatus(t, h.do("GET", tc.path, tok, nil), tc.status)
			require.Equal(t, tc.detail, body["detail"])
		})
	}
}

// expiredSeat publishes a verified seat that expired an hour ago and returns its SKU.
func (h *harness) expiredSeat() string {
	h.t.Helper()
	id := dbtest.Unique("course-v1:edX+Old") + "+2026"
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	raw := pubJSON(id, "Old", `{"product_class":"Seat","price":"5","expires":"`+past+`","attribute_values":[{"name":"certificate_type","value":"verified"},{"name":"id_verification_required","value":true}]}`)
	body := requireStatus(h.t, h.do("POST", "/api/v2/publication/", h.token("s", true), raw), http.StatusCreated)
	return body["products"].([]any)[0].(map[string]any)["partner_sku"].(string)
}

// placeOrderDirectly records an order for every line of the basket, as checkout will.
func (h *harness) placeOrderDirectly(basketID int64) {
	h.t.Helper()
	ctx := context.Background()
	pool := dbtest.Pool(h.t)
	_, err := pool.Exec(ctx, `UPDATE baskets SET status = 'Submitted', date_submitted = now() WHERE id = $1`, basketID)
	require.NoError(h.t, err)
	var orderID int64
	require.NoError(h.t, pool.QueryRow(ctx, `
		INSERT INTO orders (number, basket_id, user_id, currency, total_incl_tax, total_excl_tax, total_before_discounts_incl_tax, status)
		SELECT 'TEST-' || b.id, b.id, b.owner_id, 'USD', 0, 0, 0, 'Complete' FROM baskets b WHERE b.id = $1
		RETURNING id`, basketID).Scan(&orderID))
	_, err = pool.Exec(ctx, `
		INSERT INTO order_lines (order_id, product_id, stock_record_id, partner_sku, title, quantity,
			unit_price_incl_tax, unit_price_excl_tax, line_price_incl_tax, line_price_excl_tax,
			line_price_before_discounts_incl_tax, line_price_before_discounts_excl_tax, status)
		SELECT $1, l.product_id, l.stock_record_id, s.partner_sku, 't', 1, l.price_incl_tax, l.price_excl_tax,
			l.price_incl_tax, l.price_excl_tax, l.price_incl_tax, l.price_excl_tax, 'Complete'
		FROM basket_lines l JOIN stock_records s ON s.id = l.stock_record_id WHERE l.basket_id = $2`, orderID, basketID)
	require.NoError(h.t, err)
}
