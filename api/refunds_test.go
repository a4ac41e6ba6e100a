package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// approval is one call of fakeRefunds.Approve.
type approval struct {
	ID     int64
	Revoke bool
	Total  string
}

// fakeRefunds records what the API asks of the refund workflows; err makes every call fail and
// then, when set, runs on each approval (as the workflow would, e.g. to move the refund).
type fakeRefunds struct {
	mu       sync.Mutex
	err      error
	then     func(r commerce.Refund)
	approved []approval
}

func (f *fakeRefunds) Approve(_ context.Context, r commerce.Refund, revokeFulfillment bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.approved = append(f.approved, approval{ID: r.ID, Revoke: revokeFulfillment, Total: commerce.FormatMoney(r.Total)})
	if f.then != nil {
		f.then(r)
	}
	return nil
}

func (f *fakeRefunds) set(err error, then func(r commerce.Refund)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err, f.then = err, then
}

// approvalsOf returns the approvals asked for refund id.
func (f *fakeRefunds) approvalsOf(id int64) []approval {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []approval{}
	for _, a := range f.approved {
		if a.ID == id {
			out = append(out, a)
		}
	}
	return out
}

// newRefundHarness is the harness with refunds run by a recording fake (nil: not configured).
func newRefundHarness(t *testing.T, refunds *fakeRefunds) *harness {
	t.Helper()
	h := newHarness(t)
	h.handler = h.withConfig(func(c *api.Config) {
		if refunds != nil {
			c.Refunds = refunds
		}
	})
	return h
}

// course publishes a course with an audit and a verified seat and returns its id and SKUs.
func (h *harness) course(prefix, verifiedPrice string) (string, map[string]string) {
	h.t.Helper()
	id := dbtest.Unique("course-v1:edX+"+prefix) + "+2026"
	return id, h.publish(id, verifiedPrice)
}

// completeOrder places the user's order of skus and completes its fulfillment.
func (h *harness) completeOrder(user string, skus ...string) (string, string) {
	h.t.Helper()
	number, tok := h.placeOrder(user, skus...)
	_, err := h.store.MarkOrderFulfilled(context.Background(), number, "enrolled")
	require.NoError(h.t, err)
	return number, tok
}

// refundIDs decodes a JSON list of refund ids.
func refundIDs(t *testing.T, rec interface{ Bytes() []byte }) []int64 {
	t.Helper()
	var ids []int64
	require.NoError(t, json.Unmarshal(rec.Bytes(), &ids), string(rec.Bytes()))
	return ids
}

func refundPath(id int64) string { return fmt.Sprintf("/api/v2/refunds/%d/", id) }

func processPath(id int64) string { return fmt.Sprintf("/api/v2/refunds/%d/process/", id) }

func TestCreateRefundsAPI(t *testing.T) {
	t.Parallel()
	fr := &fakeRefunds{}
	h := newRefundHarness(t, fr)
	staff := h.token("refund-staff", true)

	t.Run("TheLearnerRefundsACourseOnce", func(t *testing.T) {
		course, skus := h.course("RfOwn", "49.00")
		user := dbtest.Unique("refunder-")
		number, tok := h.completeOrder(user, skus["verified"])
		rec := h.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": user, "course_id": course})
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		ids := refundIDs(t, rec.Body)
		require.Len(t, ids, 1)
		r, err := h.store.Refund(context.Background(), ids[0])
		require.NoError(t, err)
		require.Equal(t, number, r.OrderNumber)
		require.Equal(t, user, r.Username)
		require.Equal(t, "49.00", commerce.FormatMoney(r.Total))
		require.Equal(t, commerce.RefundOpen, r.Status)
		require.Empty(t, fr.approvalsOf(ids[0]), "a refund of money waits for staff")

		rec = h.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": user, "course_id": course})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.JSONEq(t, `[]`, rec.Body.String())
	})

	t.Run("ByOrderNumber", func(t *testing.T) {
		_, skus := h.course("RfNum", "49.00")
		user := dbtest.Unique("refunder-")
		number, tok := h.completeOrder(user, skus["verified"])
		rec := h.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": user, "order_number": number})
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		require.Len(t, refundIDs(t, rec.Body), 1)
	})

	t.Run("ALearnerCannotActForAnother", func(t *testing.T) {
		course, skus := h.course("RfNosy", "49.00")
		user := dbtest.Unique("refunder-")
		number, _ := h.completeOrder(user, skus["verified"])
		nosyName := dbtest.Unique("nosy-")
		nosy := h.token(nosyName, false)
		for _, body := range []map[string]any{
			{"username": user, "course_id": course},
			{"username": user, "order_number": number},
			{"course_id": course},
			{"username": "", "course_id": course},
		} {
			body := requireStatus(t, h.do("POST", "/api/v2/refunds/", nosy, body), http.StatusForbidden)
			require.Equal(t, "You do not have permission to perform this action.", body["detail"])
		}
		require.Zero(t, h.count("SELECT count(*) FROM refunds WHERE order_number = $1", number))

		body := requireStatus(t, h.do("POST", "/api/v2/refunds/", nosy, map[string]any{"username": nosyName, "order_number": number}), http.StatusBadRequest)
		require.Equal(t, "Order "+number+" does not exist.", body["detail"])
		body = requireStatus(t, h.do("POST", "/api/v2/refunds/", staff, map[string]any{"username": nosyName, "order_number": number}), http.StatusBadRequest)
		require.Equal(t, "Order "+number+" does not exist.", body["detail"], "staff acting for nosy: still not nosy's order")
		require.Zero(t, h.count("SELECT count(*) FROM refunds WHERE order_number = $1", number))
	})

	t.Run("StaffActForAnyone", func(t *testing.T) {
		course, skus := h.course("RfStaff", "49.00")
		user := dbtest.Unique("refunder-")
		h.completeOrder(user, skus["verified"])
		body := requireStatus(t, h.do("POST", "/api/v2/refunds/", staff, map[string]any{"username": "nobody-" + user, "course_id": course}), http.StatusBadRequest)
		require.Equal(t, `User "nobody-`+user+`" does not exist.`, body["detail"])
		rec := h.do("POST", "/api/v2/refunds/", staff, map[string]any{"username": user, "course_id": course})
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		ids := refundIDs(t, rec.Body)
		require.Len(t, ids, 1)
		r, err := h.store.Refund(context.Background(), ids[0])
		require.NoError(t, err)
		require.Equal(t, user, r.Username, "the refund is the learner's, not staff's")
	})

	t.Run("NoCourseNoOrder", func(t *testing.T) {
		user := dbtest.Unique("refunder-")
		tok := h.token(user, false)
		for _, body := range []map[string]any{{"username": user}, {"username": user, "course_id": "  "}, {"username": user, "course_id": ""}} {
			got := requireStatus(t, h.do("POST", "/api/v2/refunds/", tok, body), http.StatusBadRequest)
			require.Equal(t, map[string]any{"detail": "No course_id specified."}, got)
		}
		rec := h.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": user, "course_id": "course-v1:edX+None+2026"})
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.JSONEq(t, `[]`, rec.Body.String())
	})

	t.Run("BadRequests", func(t *testing.T) {
		user := dbtest.Unique("refunder-")
		tok := h.token(user, false)
		requireStatus(t, h.do("POST", "/api/v2/refunds/", "", map[string]any{"username": user, "course_id": "x"}), http.StatusUnauthorized)
		requireStatus(t, h.do("POST", "/api/v2/refunds/", tok, `{"username":`), http.StatusBadRequest)
		requireStatus(t, h.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": 7, "course_id": "x"}), http.StatusBadRequest)
		requireStatus(t, h.do("POST", "/api/v2/refunds/", tok, ""), http.StatusBadRequest)
	})

	t.Run("ARefundOfNothingIsApprovedAtOnce", func(t *testing.T) {
		course, skus := h.course("RfFree", "49.00")
		user := dbtest.Unique("refunder-")
		_, tok := h.completeOrder(user, skus["audit"])
		rec := h.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": user, "course_id": course})
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		ids := refundIDs(t, rec.Body)
		require.Len(t, ids, 1)
		require.Equal(t, []approval{{ID: ids[0], Revoke: true, Total: "0.00"}}, fr.approvalsOf(ids[0]))
	})
}

func TestCreateRefundsAPIWhenApprovalCannotRun(t *testing.T) {
	t.Parallel()
	for name, refunds := range map[string]*fakeRefunds{"NotConfigured": nil, "TemporalDown": {err: fmt.Errorf("start refund workflow: %w", commerce.ErrUnavailable)}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newRefundHarness(t, refunds)
			course, skus := h.course("RfDown", "49.00")
			user := dbtest.Unique("refunder-")
			_, tok := h.completeOrder(user, skus["audit"])
			rec := h.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": user, "course_id": course})
			require.Equal(t, http.StatusCreated, rec.Code, "the refund exists: %s", rec.Body.String())
			ids := refundIDs(t, rec.Body)
			require.Len(t, ids, 1)
			r, err := h.store.Refund(context.Background(), ids[0])
			require.NoError(t, err)
			require.Equal(t, commerce.RefundOpen, r.Status, "left for staff to approve")
		})
	}
}

func TestGetRefundAPI(t *testing.T) {
	t.Parallel()
	h := newRefundHarness(t, &fakeRefunds{})
	course, skus := h.course("RfGet", "49.00")
	user := dbtest.Unique("refunder-")
	number, tok := h.completeOrder(user, skus["verified"])
	rec := h.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": user, "course_id": course})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	id := refundIDs(t, rec.Body)[0]
	r, err := h.store.Refund(context.Background(), id)
	require.NoError(t, err)

	t.Run("EdXShape", func(t *testing.T) {
		body := requireStatus(t, h.do("GET", refundPath(id), tok, nil), http.StatusOK)
		require.Equal(t, float64(id), body["id"])
		require.Equal(t, number, body["order"])
		require.Equal(t, map[string]any{"email": user + "@example.com", "username": user}, body["user"])
		require.Equal(t, "49.00", body["total_credit_excl_tax"])
		require.Equal(t, "USD", body["currency"])
		require.Equal(t, "Open", body["status"])
		require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, body["created"])
		require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, body["modified"])
		require.Equal(t, []any{map[string]any{
			"id": float64(r.Lines[0].ID), "order_line": float64(r.Lines[0].OrderLineID), "partner_sku": skus["verified"],
			"title": r.Lines[0].Title, "course_id": course, "mode": "verified", "line_credit_excl_tax": "49.00",
			"quantity": float64(1), "status": "Open",
		}}, body["lines"])
	})
	t.Run("OnlyTheLearnerAndStaffSeeIt", func(t *testing.T) {
		requireStatus(t, h.do("GET", refundPath(id), h.token(dbtest.Unique("stranger-"), false), nil), http.StatusNotFound)
		requireStatus(t, h.do("GET", refundPath(id), h.token("refund-viewer", true), nil), http.StatusOK)
		requireStatus(t, h.do("GET", refundPath(id), "", nil), http.StatusUnauthorized)
		requireStatus(t, h.do("GET", refundPath(1<<60), tok, nil), http.StatusNotFound)
		requireStatus(t, h.do("GET", "/api/v2/refunds/abc/", tok, nil), http.StatusNotFound)
	})
}

func TestProcessRefundAPI(t *testing.T) {
	t.Parallel()
	fr := &fakeRefunds{}
	h := newRefundHarness(t, fr)
	staff := h.token("refund-processor", true)
	ctx := context.Background()

	// refund creates an Open refund of 49.00 for a new learner and returns its id.
	refund := func(t *testing.T) int64 {
		t.Helper()
		course, skus := h.course("RfProc", "49.00")
		user := dbtest.Unique("refunder-")
		_, tok := h.completeOrder(user, skus["verified"])
		rec := h.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": user, "course_id": course})
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		return refundIDs(t, rec.Body)[0]
	}
	statusOf := func(t *testing.T, id int64) commerce.RefundStatus {
		t.Helper()
		r, err := h.store.Refund(ctx, id)
		require.NoError(t, err)
		return r.Status
	}

	t.Run("StaffOnly", func(t *testing.T) {
		id := refund(t)
		requireStatus(t, h.do("PUT", processPath(id), h.token(dbtest.Unique("learner-"), false), map[string]any{"action": "approve"}), http.StatusForbidden)
		requireStatus(t, h.do("PUT", processPath(id), "", map[string]any{"action": "approve"}), http.StatusUnauthorized)
		require.Empty(t, fr.approvalsOf(id))
	})

	t.Run("UnknownActionOrRefund", func(t *testing.T) {
		id := refund(t)
		body := requireStatus(t, h.do("PUT", processPath(id), staff, map[string]any{"action": "Refund"}), http.StatusBadRequest)
		require.Equal(t, "The action [refund] is not valid.", body["detail"])
		body = requireStatus(t, h.do("PUT", processPath(id), staff, map[string]any{}), http.StatusBadRequest)
		require.Equal(t, "The action [] is not valid.", body["detail"])
		requireStatus(t, h.do("PUT", processPath(1<<60), staff, map[string]any{"action": "approve"}), http.StatusNotFound)
		requireStatus(t, h.do("PUT", "/api/v2/refunds/x/process/", staff, map[string]any{"action": "approve"}), http.StatusNotFound)
		requireStatus(t, h.do("POST", processPath(id), staff, map[string]any{"action": "approve"}), http.StatusMethodNotAllowed)
		require.Empty(t, fr.approvalsOf(id))
		require.Equal(t, commerce.RefundOpen, statusOf(t, id))
	})

	t.Run("ApproveHandsTheRefundToItsWorkflow", func(t *testing.T) {
		id := refund(t)
		fr.set(nil, func(r commerce.Refund) {
			_, err := h.store.SetRefundStatus(ctx, r.ID, commerce.RefundPaymentRefunded)
			require.NoError(t, err)
		})
		defer fr.set(nil, nil)
		body := requireStatus(t, h.do("PUT", processPath(id), staff, map[string]any{"action": "APPROVE"}), http.StatusOK)
		require.Equal(t, []approval{{ID: id, Revoke: true, Total: "49.00"}}, fr.approvalsOf(id))
		require.Equal(t, "Payment Refunded", body["status"], "the refund as it is now")
		require.Equal(t, float64(id), body["id"])
		require.Equal(t, "49.00", body["total_credit_excl_tax"])
	})

	t.Run("ApprovePaymentOnlyKeepsTheEnrollments", func(t *testing.T) {
		id := refund(t)
		body := requireStatus(t, h.do("PATCH", processPath(id), staff, map[string]any{"action": "approve_payment_only"}), http.StatusOK)
		require.Equal(t, []approval{{ID: id, Revoke: false, Total: "49.00"}}, fr.approvalsOf(id))
		require.Equal(t, "Open", body["status"])
	})

	t.Run("ApprovalNeedsTheWorkflows", func(t *testing.T) {
		id := refund(t)
		fr.set(fmt.Errorf("start refund-%d: %w", id, commerce.ErrUnavailable), nil)
		requireStatus(t, h.do("PUT", processPath(id), staff, map[string]any{"action": "approve"}), http.StatusServiceUnavailable)
		fr.set(nil, nil)

		bare := newRefundHarness(t, nil)
		course, skus := bare.course("RfBare", "49.00")
		user := dbtest.Unique("refunder-")
		_, tok := bare.completeOrder(user, skus["verified"])
		rec := bare.do("POST", "/api/v2/refunds/", tok, map[string]any{"username": user, "course_id": course})
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		other := refundIDs(t, rec.Body)[0]
		requireStatus(t, bare.do("PUT", processPath(other), staff, map[string]any{"action": "approve"}), http.StatusServiceUnavailable)
		requireStatus(t, bare.do("PUT", processPath(other), staff, map[string]any{"action": "approve_payment_only"}), http.StatusServiceUnavailable)
		body := requireStatus(t, bare.do("PUT", processPath(other), staff, map[string]any{"action": "deny"}), http.StatusOK)
		require.Equal(t, "Denied", body["status"], "deny needs no workflow")
	})

	t.Run("DenyOnlyAnOpenRefund", func(t *testing.T) {
		id := refund(t)
		body := requireStatus(t, h.do("PUT", processPath(id), staff, map[string]any{"action": "deny"}), http.StatusOK)
		require.Equal(t, "Denied", body["status"])
		require.Equal(t, "Denied", body["lines"].([]any)[0].(map[string]any)["status"])
		body = requireStatus(t, h.do("PUT", processPath(id), staff, map[string]any{"action": "deny"}), http.StatusOK)
		require.Equal(t, "Denied", body["status"], "denied already: unchanged, as edX")
		body = requireStatus(t, h.do("PUT", processPath(id), staff, map[string]any{"action": "approve"}), http.StatusBadRequest)
		require.Equal(t, fmt.Sprintf("Refund %d is Denied; it cannot be approved.", id), body["detail"])
		require.Empty(t, fr.approvalsOf(id))

		busy := refund(t)
		_, err := h.store.SetRefundStatus(ctx, busy, commerce.RefundPaymentRefunded)
		require.NoError(t, err)
		body = requireStatus(t, h.do("PUT", processPath(busy), staff, map[string]any{"action": "deny"}), http.StatusConflict)
		require.Equal(t, fmt.Sprintf("Refund %d is Payment Refunded; only an Open refund can be denied.", busy), body["detail"])
		require.Equal(t, commerce.RefundPaymentRefunded, statusOf(t, busy))
	})

	t.Run("ACompleteRefundIsApprovedAlready", func(t *testing.T) {
		id := refund(t)
		for _, s := range []commerce.RefundStatus{commerce.RefundPaymentRefunded, commerce.RefundComplete} {
			_, err := h.store.SetRefundStatus(ctx, id, s)
			require.NoError(t, err)
		}
		for _, action := range []string{"approve", "approve_payment_only"} {
			body := requireStatus(t, h.do("PUT", processPath(id), staff, map[string]any{"action": action}), http.StatusOK)
			require.Equal(t, "Complete", body["status"])
		}
		require.Empty(t, fr.approvalsOf(id))
		body := requireStatus(t, h.do("PUT", processPath(id), staff, map[string]any{"action": "deny"}), http.StatusBadRequest)
		require.Equal(t, fmt.Sprintf("Refund %d is Complete; only an Open refund can be denied.", id), body["detail"])
		require.Equal(t, commerce.RefundComplete, statusOf(t, id))
	})
}
