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

// receiptPage fetches the receipt page as the owner's browser would.
func (h *harness) receiptPage(number, token string) string {
	h.t.Helper()
	req := httptest.NewRequest("GET", "/checkout/receipt/?order_number="+number, nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Authorization", "JWT "+token)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	require.Equal(h.t, http.StatusOK, rec.Code, rec.Body.String())
	return rec.Body.String()
}

// The receipt follows the enrollment while it is under way (the page reloads itself), and once
// the fulfillment failed and waits for ops it says so plainly and stops reloading.
func TestReceiptPageFollowsTheFulfillment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:edX+Rcpt")+"+2026", "49.00")
	number, tok := h.placeOrder(dbtest.Unique("receipt-"), skus["verified"])

	page := h.receiptPage(number, tok)
	require.Contains(t, page, `<meta http-equiv="refresh"`, "an Open order is still being fulfilled")
	require.Contains(t, page, "paid with Credit or debit card (Visa 1111)", "the processor named as the basket page names it")
	require.NotContains(t, page, "fulfillment-problem")

	ctx := context.Background()
	require.NoError(t, h.store.RecordFulfillmentAttempts(ctx, number, skus["verified"], commerce.LineServerError, "LMS answered 400", 1))
	o, err := h.store.FinishFulfillment(ctx, number)
	require.NoError(t, err)
	require.Equal(t, commerce.OrderFulfillmentError, o.Status)

	page = h.receiptPage(number, tok)
	require.Contains(t, page, `id="fulfillment-problem"`)
	require.Contains(t, page, "you do not need to pay again")
	require.NotContains(t, page, `http-equiv="refresh"`, "no reloading while ops fix it")
}

// A learner whose payment did not go through is shown the way back to their basket (the
// service's basket page when no PAYMENT_PAGE_URL is set); a payment under review keeps the
// basket frozen, so no link.
func TestCancelPageLinksBackToTheBasket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for outcome, link := range map[string]bool{"declined": true, "cancelled": true, "error": true, "review": false} {
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/checkout/cancel-checkout/?order_number=EDX-100001&outcome="+outcome, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		if link {
			require.Contains(t, rec.Body.String(), `<a id="back-to-basket" href="http://shop.test/basket/">`, outcome)
		} else {
			require.NotContains(t, rec.Body.String(), "back-to-basket", outcome)
		}
	}
}
