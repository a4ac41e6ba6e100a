package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// checkoutOf freezes a new learner's basket of skus through the API and returns its order number
// and the learner.
func (h *harness) checkoutOf(skus ...string) (string, string) {
	h.t.Helper()
	user := dbtest.Unique("stuck-")
	id, tok := h.basketFor(user, skus...)
	requireStatus(h.t, h.do("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": id}), http.StatusOK)
	return commerce.OrderNumber("EDX", id), user
}

// stuckOrders lists the stuck orders with query, all on one page, by order number.
func (h *harness) stuckOrders(t *testing.T, query string) (map[string]map[string]any, map[string]any) {
	t.Helper()
	body := requireStatus(t, h.do("GET", "/api/v2/ops/stuck-orders/?page_size=1000"+query, h.token("ops-staff", true), nil), http.StatusOK)
	out := map[string]map[string]any{}
	for _, r := range body["results"].([]any) {
		r := r.(map[string]any)
		out[r["order_number"].(string)] = r
	}
	return out, body
}

func TestStuckOrdersAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, skus := h.course("Stuck", "49.00")
	flagged, flaggedUser := h.checkoutOf(skus["verified"])
	require.NoError(t, h.store.FlagForOps(context.Background(), flagged, "Excessive payment T-2 for "+flagged, false))
	waiting, _ := h.checkoutOf(skus["verified"])
	aged, _ := h.checkoutOf(skus["verified"])
	_, err := dbtest.Pool(t).Exec(context.Background(), "UPDATE checkouts SET updated_at = now() - interval '2 hours' WHERE order_number = $1", aged)
	require.NoError(t, err)

	t.Run("StaffOnly", func(t *testing.T) {
		requireStatus(t, h.do("GET", "/api/v2/ops/stuck-orders/", h.token(dbtest.Unique("learner-"), false), nil), http.StatusForbidden)
		requireStatus(t, h.do("GET", "/api/v2/ops/stuck-orders/", "", nil), http.StatusUnauthorized)
	})

	t.Run("NeedingAttentionAndStuckByDefault", func(t *testing.T) {
		got, body := h.stuckOrders(t, "")
		require.GreaterOrEqual(t, body["count"], float64(2))
		require.NotContains(t, got, waiting, "awaiting payment for less than 15 minutes")
		require.Contains(t, got, aged)
		f := got[flagged]
		require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, f["updated_at"])
		delete(f, "updated_at")
		require.Equal(t, map[string]any{
			"order_number": flagged, "username": flaggedUser, "status": "NeedsAttention",
			"reason": "Excessive payment T-2 for " + flagged, "total": "49.00", "currency": "USD",
			"processor": "cybersource", "workflow_id": "checkout-" + flagged,
		}, f)
		require.Equal(t, "AwaitingPayment", got[aged]["status"])
		require.Equal(t, "", got[aged]["reason"])
	})

	t.Run("OlderThan", func(t *testing.T) {
		got, _ := h.stuckOrders(t, "&older_than=3h")
		require.NotContains(t, got, aged)
		require.Contains(t, got, flagged, "attention is needed whatever the age")
		got, _ = h.stuckOrders(t, "&older_than=1h30m")
		require.Contains(t, got, aged)
		require.NotContains(t, got, waiting)
	})

	t.Run("OlderThanIsADurationFromAMinuteToThirtyDays", func(t *testing.T) {
		staff := h.token("ops-staff", true)
		for _, v := range []string{"abc", "15", "30s", "-1h", "721h", "1e9h"} {
			body := requireStatus(t, h.do("GET", "/api/v2/ops/stuck-orders/?older_than="+v, staff, nil), http.StatusBadRequest)
			require.Equal(t, "older_than", body["field"], v)
		}
		for _, v := range []string{"1m", "720h"} {
			requireStatus(t, h.do("GET", "/api/v2/ops/stuck-orders/?older_than="+v, staff, nil), http.StatusOK)
		}
	})

	t.Run("Paginated", func(t *testing.T) {
		body := requireStatus(t, h.do("GET", "/api/v2/ops/stuck-orders/?page_size=1", h.token("ops-staff", true), nil), http.StatusOK)
		require.Len(t, body["results"].([]any), 1)
		require.GreaterOrEqual(t, body["count"], float64(2))
		require.Contains(t, body["next"], "page=2")
		require.Nil(t, body["previous"])
		first := body["results"].([]any)[0].(map[string]any)
		at, err := time.Parse(time.RFC3339, first["updated_at"].(string))
		require.NoError(t, err)
		require.True(t, at.Before(time.Now()))
	})
}
