package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
)

// A checkout whose LMS refuses the course is found both by the stuck-orders endpoint (from
// PostgreSQL) and by a visibility query on CheckoutStatus; once the LMS is fixed, an ops retry
// fulfils it.
func TestStuckCheckoutIsFoundAndFixedByOps(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("45.00")
	s.lms.RejectCourses(course)
	b := s.checkout("stuck-learner", sku)
	number := s.orderNumber(b)
	s.pay(b, "pay")
	s.waitForOrder("stuck-learner", number, "Fulfillment Error")
	s.needsAttention(number)

	var page struct {
		Results []struct {
			OrderNumber string `json:"order_number"`
			Status      string `json:"status"`
			Reason      string `json:"reason"`
			WorkflowID  string `json:"workflow_id"`
		} `json:"results"`
	}
	staff := s.token("e2e-ops", true)
	require.Equal(t, http.StatusOK, s.call("GET", "/api/v2/ops/stuck-orders/?older_than=15m&page_size=1000", staff, nil, &page))
	found := false
	for _, r := range page.Results {
		if r.OrderNumber == number {
			found = true
			require.Equal(t, "NeedsAttention", r.Status)
			require.Contains(t, r.Reason, "Fulfillment failed")
			require.Equal(t, "checkout-"+number, r.WorkflowID)
		}
	}
	require.True(t, found, "the stuck-orders endpoint lists %s", number)
	require.Equal(t, http.StatusForbidden, s.call("GET", "/api/v2/ops/stuck-orders/", s.token("stuck-learner", false), nil, nil))

	s.lms.Reset()
	require.Equal(t, http.StatusOK, s.call("PUT", "/api/v2/orders/"+number+"/fulfill/", staff, nil, nil))
	s.waitForOrder("stuck-learner", number, "Complete")
	s.waitForState(number, commerce.CheckoutFulfilled)

	// Staff see who did what in the order's notes; the learner sees no notes.
	var detail struct {
		Notes []struct {
			Type    string `json:"note_type"`
			Message string `json:"message"`
		} `json:"notes"`
	}
	require.Equal(t, http.StatusOK, s.call("GET", "/api/v2/orders/"+number+"/", staff, nil, &detail))
	var messages []string
	for _, n := range detail.Notes {
		messages = append(messages, n.Type+": "+n.Message)
	}
	require.Contains(t, strings.Join(messages, "\n"), "Info: Ops action retry by e2e-ops")
	detail.Notes = nil
	require.Equal(t, http.StatusOK, s.call("GET", "/api/v2/orders/"+number+"/", s.token("stuck-learner", false), nil, &detail))
	require.Empty(t, detail.Notes)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := s.temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf("ExecutionStatus = 'Running' AND CheckoutStatus = 'NeedsAttention' AND OrderNumber = '%s'", number)})
		if assert.NoError(c, err) {
			assert.Zero(c, resp.Count)
		}
	}, 20*time.Second, 200*time.Millisecond)
}

// A worker killed (SIGKILL) in the middle of a refund is restarted: the processor is credited
// once and the enrollment revoked.
func TestWorkerKilledMidRefundRefundsOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{externalWorker: true})
	course, sku := s.publishSeat("70.00")
	s.buy("refund-crash", sku)
	ids := s.requestRefund("refund-crash", course)
	require.Len(t, ids, 1)
	s.lms.SetLatency(3 * time.Second)
	calls := s.lms.Calls()
	require.Equal(t, http.StatusOK, s.processRefund(ids[0], "approve", nil))
	require.Eventually(t, func() bool { return s.lms.Calls() > calls }, 30*time.Second, 50*time.Millisecond, "revocation started")
	s.killWorkerProcess()
	s.lms.SetLatency(0)
	s.startWorkerProcess()
	s.waitForRefund(ids[0], "Complete")
	require.Len(t, s.cs.Refunds(), 1, "credited once")
	e, _ := s.lms.Enrollment("refund-crash", course)
	require.False(t, e.IsActive)
}

// /metrics shows the API's requests by route template after a purchase and a refund.
func TestMetricsAfterAPurchaseAndARefund(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("15.00")
	s.buy("metered", sku)
	ids := s.requestRefund("metered", course)
	require.Equal(t, http.StatusOK, s.processRefund(ids[0], "approve", nil))
	s.waitForRefund(ids[0], "Complete")
	resp, err := http.Get(s.apiURL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	text := string(body)
	for _, want := range []string{
		`route="/api/v2/baskets/"`, `route="/payment/cybersource/redirect/"`, `route="/api/v2/refunds/"`,
		`route="/api/v2/refunds/:id/process/"`,
	} {
		require.True(t, strings.Contains(text, want), "metrics lack %s", want)
	}
	require.False(t, strings.Contains(text, fmt.Sprintf(`/api/v2/refunds/%d/`, ids[0])), "raw ids never become labels")

	// The workflows' own counters come through the Temporal client's metrics handler.
	hasSeries := func(text, name, label string) bool {
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, name+"{") && strings.Contains(line, label) {
				return true
			}
		}
		return false
	}
	var last string
	require.Eventually(t, func() bool {
		last = s.scrape()
		return hasSeries(last, "ecommerce_checkout_outcomes_total", `state="Fulfilled"`) &&
			hasSeries(last, "ecommerce_refund_outcomes_total", `status="Complete"`)
	}, 20*time.Second, 200*time.Millisecond, "checkout and refund outcomes are counted:\n%s", grepLines(last, "ecommerce_"))
}

// scrape reads the API's /metrics page.
func (s *stack) scrape() string {
	s.t.Helper()
	resp, err := http.Get(s.apiURL + "/metrics")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return string(body)
}

// grepLines returns the lines of text that contain substr.
func grepLines(text, substr string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
