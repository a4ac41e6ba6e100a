package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/payment/cybersource"
	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refundResponse is the part of a refund the tests read.
type refundResponse struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Lines  []struct {
		Status string `json:"status"`
	} `json:"lines"`
}

// buy buys a seat with CyberSource and waits until the order is Complete.
func (s *stack) buy(user, sku string) string {
	s.t.Helper()
	b := s.checkout(user, sku)
	number := s.orderNumber(b)
	s.pay(b, cybersim.ActionPay)
	s.waitForOrder(user, number, "Complete")
	return number
}

// requestRefund asks for the refund of a course as the learner and returns the refund ids.
func (s *stack) requestRefund(user, course string) []int64 {
	s.t.Helper()
	var ids []int64
	require.Equal(s.t, http.StatusCreated, s.call("POST", "/api/v2/refunds/", s.token(user, false),
		map[string]any{"username": user, "course_id": course}, &ids))
	return ids
}

// processRefund sends staff's decision about a refund and returns the status code.
func (s *stack) processRefund(id int64, action string, out any) int {
	s.t.Helper()
	return s.call("PUT", fmt.Sprintf("/api/v2/refunds/%d/process/", id), s.token("e2e-staff", true), map[string]any{"action": action}, out)
}

// paypalCheckout checks out the user's basket of sku with PayPal and returns the order number and
// the PayPal order id.
func (s *stack) paypalCheckout(user, sku string) (string, string) {
	s.t.Helper()
	basketID, out := s.checkoutWith(user, "paypal", sku)
	return commerce.OrderNumber(s.partner, basketID), paypalToken(s.t, out["payment_page_url"].(string))
}

// waitForRefund polls a refund until it has the wanted status.
func (s *stack) waitForRefund(id int64, status string) refundResponse {
	s.t.Helper()
	var r refundResponse
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		r = refundResponse{}
		assert.Equal(c, http.StatusOK, s.call("GET", fmt.Sprintf("/api/v2/refunds/%d/", id), s.token("e2e-staff", true), nil, &r))
		assert.Equal(c, status, r.Status)
	}, 45*time.Second, 100*time.Millisecond)
	return r
}

// A learner's refund, approved by staff, credits CyberSource once and revokes the enrollment,
// through an LMS that fails three times first; the refunded seat can then be bought again.
func TestRefundCreditsOnceAndRevokesTheEnrollment(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("49.00")
	number := s.buy("refunder", sku)
	ids := s.requestRefund("refunder", course)
	require.Len(t, ids, 1)

	s.lms.FailNext(3)
	var r refundResponse
	require.Equal(t, http.StatusOK, s.processRefund(ids[0], "approve", &r))
	r = s.waitForRefund(ids[0], "Complete")
	require.Equal(t, "Complete", r.Lines[0].Status)
	require.Len(t, s.cs.Refunds(), 1, "credited once")
	e, ok := s.lms.Enrollment("refunder", course)
	require.True(t, ok)
	require.False(t, e.IsActive, "the enrollment is revoked")
	require.Equal(t, 1, s.count(`SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id
		WHERE o.number = $1 AND e.event_type = 'Refunded' AND e.amount = 49.00`, number))

	// Approving again changes nothing.
	require.Equal(t, http.StatusOK, s.processRefund(ids[0], "approve", nil))
	time.Sleep(300 * time.Millisecond)
	require.Len(t, s.cs.Refunds(), 1)

	t.Run("TheRefundedSeatCanBeBoughtAgain", func(t *testing.T) {
		again := s.buy("refunder", sku)
		require.NotEqual(t, number, again)
		e, _ := s.lms.Enrollment("refunder", course)
		require.True(t, e.IsActive)
	})
}

// Denying a refund changes nothing: no credit, the enrollment stays.
func TestDeniedRefundChangesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("39.00")
	s.buy("denied", sku)
	ids := s.requestRefund("denied", course)
	var r refundResponse
	require.Equal(t, http.StatusOK, s.processRefund(ids[0], "deny", &r))
	require.Equal(t, "Denied", r.Status)
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, s.cs.Refunds())
	e, _ := s.lms.Enrollment("denied", course)
	require.True(t, e.IsActive)
}

// A PayPal order captured twice: the second capture is refunded automatically.
func TestExcessivePaymentIsRefundedAutomatically(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("25.00")
	number, id := s.paypalCheckout("double-capture", sku)
	back, err := s.pp.Approve(id)
	require.NoError(t, err)
	s.pp.SetDoubleCaptureNext(1)
	browserGet(t, back)
	s.waitForOrder("double-capture", number, "Complete")
	require.Len(t, s.pp.Captures(), 2)
	require.Eventually(t, func() bool { return len(s.pp.Refunds()) == 1 }, 30*time.Second, 100*time.Millisecond, "the second capture is refunded")
	require.Equal(t, 1, s.count("SELECT count(*) FROM refunds WHERE order_number = $1 AND kind = 'payment'", number))
	require.Eventually(t, func() bool {
		return s.count("SELECT count(*) FROM refunds WHERE order_number = $1 AND status = 'Complete'", number) == 1
	}, 30*time.Second, 100*time.Millisecond)
	require.Equal(t, 1, s.count(`SELECT count(*) FROM order_notes n JOIN orders o ON o.id = n.order_id
		WHERE o.number = $1 AND n.message LIKE '%refunded automatically%'`, number))
	st := s.status(number)
	require.Len(t, st.Refunds, 1)
	require.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// A mismatched payment (signed, for another amount) waits for ops; their refund action gives
// it back and closes the checkout as Refunded.
func TestMismatchedPaymentIsRefundedByOps(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("60.00")
	s.cs.SetSkipNotify(true)
	b := s.checkout("mismatch", sku)
	number := s.orderNumber(b)
	res, err := s.cs.Pay(context.Background(), b.PaymentData.PaymentFormData, cybersim.ActionPay)
	require.NoError(t, err)
	wrong := maps.Clone(res.Reply)
	wrong["req_amount"], wrong["auth_amount"] = "1.00", "1.00"
	wrong["signature"] = cybersource.SignFields(wrong, profile.SecretKey)
	require.Equal(t, http.StatusOK, s.postReply(s.apiURL+"/payment/cybersource/notify/", wrong).StatusCode)
	s.needsAttention(number)

	require.NoError(t, s.temporal.SignalWorkflow(context.Background(), workflows.CheckoutWorkflowID(number), "", workflows.SignalOpsAction,
		workflows.OpsAction{Action: workflows.OpsRefund, Note: "customer paid 1.00"}))
	st := s.waitForState(number, commerce.CheckoutRefunded)
	require.Len(t, st.Refunds, 1)
	require.Eventually(t, func() bool { return len(s.cs.Refunds()) == 1 }, 30*time.Second, 100*time.Millisecond)
	require.Equal(t, "1.00", s.cs.Refunds()[0].Amount)
	require.Zero(t, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
	require.NotZero(t, st.NewBasketID, "the learner gets the basket back")
}
