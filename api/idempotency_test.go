package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// doWithKey sends a JSON POST with an Idempotency-Key.
func (h *harness) doWithKey(path, token, key string, body any) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.doWith("POST", path, token, body, map[string]string{"Idempotency-Key": key})
}

// DESIGN.md §5: every POST that creates or pays accepts an Idempotency-Key; a retried request
// returns the first response and changes nothing.
func TestIdempotencyKeyAnswersRetriesWithTheFirstResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:edX+Idem")+"+2026", "49.00")
	user := dbtest.Unique("idem-")
	tok := h.token(user, false)
	basket := map[string]any{"products": []any{map[string]any{"sku": skus["verified"]}}}

	t.Run("ABasketAndItsCheckoutOnce", func(t *testing.T) {
		first := h.doWithKey("/api/v2/baskets/", tok, "basket-1", basket)
		require.Equal(t, http.StatusOK, first.Code, first.Body.String())
		again := h.doWithKey("/api/v2/baskets/", tok, "basket-1", basket)
		require.Equal(t, http.StatusOK, again.Code)
		require.JSONEq(t, first.Body.String(), again.Body.String(), "the first answer again")
		id := jsonBody(t, first)["id"]

		started, _, _ := h.checkouts.counts()
		checkout := map[string]any{"basket_id": id}
		paid := h.doWithKey("/api/v2/checkout/", tok, "pay-1", checkout)
		require.Equal(t, http.StatusOK, paid.Code, paid.Body.String())
		for range 3 {
			retry := h.doWithKey("/api/v2/checkout/", tok, "pay-1", checkout)
			require.Equal(t, http.StatusOK, retry.Code)
			require.JSONEq(t, paid.Body.String(), retry.Body.String())
		}
		after, _, _ := h.checkouts.counts()
		require.Equal(t, started+1, after, "one checkout started for four requests")
	})

	t.Run("TheKeyOfAnotherRequestIsRefused", func(t *testing.T) {
		other := map[string]any{"products": []any{map[string]any{"sku": skus["audit"]}}}
		rec := h.doWithKey("/api/v2/baskets/", tok, "basket-1", other)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
		require.Contains(t, jsonBody(t, rec)["detail"], "another request")
	})

	t.Run("KeysArePerUser", func(t *testing.T) {
		rec := h.doWithKey("/api/v2/baskets/", h.token(dbtest.Unique("idem-other-"), false), "basket-1", basket)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	})

	t.Run("ARefusedRequestIsNotKept", func(t *testing.T) {
		bad := map[string]any{"products": []any{map[string]any{"sku": "NO-SUCH-SKU"}}}
		require.Equal(t, http.StatusBadRequest, h.doWithKey("/api/v2/baskets/", tok, "fix-me", bad).Code)
		rec := h.doWithKey("/api/v2/baskets/", tok, "fix-me", basket)
		require.Equal(t, http.StatusOK, rec.Code, "the corrected retry runs: %s", rec.Body.String())
	})

	t.Run("ABadKeyIsRefused", func(t *testing.T) {
		rec := h.doWithKey("/api/v2/baskets/", tok, "has space", basket)
		require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
		require.Equal(t, "Idempotency-Key", jsonBody(t, rec)["field"])
	})
}
