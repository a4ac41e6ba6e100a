package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// lastStarted is the order number of the last checkout the fake was asked to start.
func (f *fakeCheckouts) lastStarted() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.started) == 0 {
		return ""
	}
	return f.started[len(f.started)-1].OrderNumber
}

// basketStatus is the status of a basket in the database.
func (h *harness) basketStatus(id int64) string {
	h.t.Helper()
	var status string
	require.NoError(h.t, dbtest.Pool(h.t).QueryRow(h.t.Context(), `SELECT status FROM baskets WHERE id = $1`, id).Scan(&status))
	return status
}

func TestFreeCheckout(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, testPaymentPage)
	c := k.course(t, "Free", "49.00")
	_, fullOff := k.couponCode(t, c.stockRecord, map[string]any{"benefit_value": "100.00"})
	const path = "/checkout/free-checkout/"

	// fill puts the SKU (with code) in a new learner's basket and returns its id and the token.
	fill := func(t *testing.T, sku, code string) (int64, string) {
		tok := k.token(dbtest.Unique("free-"), false)
		require.Equal(t, http.StatusSeeOther, k.navigate(basketAddPath(code, sku), tok).Code)
		id, err := k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK)["basket_id"].(interface{ Int64() (int64, error) }).Int64()
		require.NoError(t, err)
		return id, tok
	}

	t.Run("NotLoggedInGoesToTheLMSLogin", func(t *testing.T) {
		rec := k.navigate(path, "")
		require.Equal(t, http.StatusFound, rec.Code)
		require.Equal(t, testLMS+"/login?next="+url.QueryEscape("http://shop.test"+path), rec.Header().Get("Location"))
	})
	for name, basket := range map[string]struct{ sku, code string }{"AuditSeat": {c.auditSKU, ""}, "FullDiscount": {c.sku, fullOff}} {
		t.Run("AFreeBasketIsPlacedAndShowsTheReceipt/"+name, func(t *testing.T) {
			id, tok := fill(t, basket.sku, basket.code)
			require.Equal(t, true, k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK)["is_free_basket"])
			started, _, _ := k.checkouts.counts()
			rec := k.navigate(path, tok)
			require.Equal(t, http.StatusFound, rec.Code, rec.Body.String())
			number := commerce.OrderNumber("EDX", id)
			require.Equal(t, "http://shop.test/checkout/receipt/?order_number="+number, rec.Header().Get("Location"))
			now, _, _ := k.checkouts.counts()
			require.Equal(t, started+1, now)
			require.Equal(t, number, k.checkouts.lastStarted())
			require.Equal(t, "Frozen", k.basketStatus(id))
		})
	}
	t.Run("ABasketThatIsNotFreeIsRefusedAndStaysOpen", func(t *testing.T) {
		id, tok := fill(t, c.sku, "")
		started, _, _ := k.checkouts.counts()
		rec := k.navigate(path, tok)
		requirePage(t, rec, http.StatusBadRequest, rec.Body.String(), "Your basket is not free; please pay for it on the payment page.")
		body := requireStatus(t, k.getAccepting(path, tok, "application/json"), http.StatusBadRequest)
		require.Equal(t, "Your basket is not free; please pay for it on the payment page.", body["user_message"])
		require.Contains(t, body["developer_message"], "49.00 USD is to be paid")
		now, _, _ := k.checkouts.counts()
		require.Equal(t, started, now, "nothing started")
		require.Equal(t, "Open", k.basketStatus(id))
		require.Equal(t, 0, k.count("SELECT count(*) FROM checkouts WHERE basket_id = $1", id))
	})
	t.Run("NoBasketIsRefused", func(t *testing.T) {
		rec := k.navigate(path, k.token(dbtest.Unique("free-none-"), false))
		requirePage(t, rec, http.StatusBadRequest, rec.Body.String(), "Your basket is empty.")
	})
}
