package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/payment/cybersource"
	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
)

// resigned is a genuine reply paid again under another transaction id, signed by the profile (a
// second real payment for the same order, as the processor would send it).
func resigned(reply map[string]string, txn string) map[string]string {
	out := maps.Clone(reply)
	out["transaction_id"] = txn
	out["signature"] = cybersource.SignFields(out, profile.SecretKey)
	return out
}

// needsAttention waits until the running checkout is found by the runbook's search.
func (s *stack) needsAttention(number string) {
	s.t.Helper()
	query := fmt.Sprintf("ExecutionStatus = 'Running' AND CheckoutStatus = 'NeedsAttention' AND OrderNumber = '%s'", number)
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		resp, err := s.temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		if assert.NoError(c, err) {
			assert.Equal(c, int64(1), resp.Count)
		}
	}, 30*time.Second, 200*time.Millisecond)
}

// Every excessive payment reaches ops the same way, whenever it arrives (issue 7), and is
// refunded automatically (issue 9): an Error note on the order, a refund of the payment through
// its own workflow. Here CyberSource does not know the forged second transaction, so the credit
// is refused: the refund waits for ops in Payment Refund Error, found by its search attribute,
// and their mark-done completes it.
func TestExcessivePaymentsReachOps(t *testing.T) {
	t.Parallel()

	t.Run("TwoPaymentsBeforeTheOrderIsPlaced", func(t *testing.T) {
		t.Parallel()
		s := newStack(t, stackOptions{})
		_, sku := s.publishSeat("49.00")
		s.cs.SetSkipNotify(true)
		b := s.checkout("twice-payer", sku)
		number := s.orderNumber(b)
		res, err := s.cs.Pay(context.Background(), b.PaymentData.PaymentFormData, cybersim.ActionPay)
		require.NoError(t, err)
		replies := []map[string]string{res.Reply, resigned(res.Reply, "70000000000000000002")}
		var wg sync.WaitGroup
		for _, r := range replies {
			wg.Go(func() {
				assert.Equal(t, http.StatusOK, s.postReply(s.apiURL+"/payment/cybersource/notify/", r).StatusCode)
			})
		}
		wg.Wait()
		s.waitForOrder("twice-payer", number, "Complete")
		require.Equal(t, 1, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
		require.Equal(t, 1, s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1", number))
		require.Len(t, s.lms.Enrollments(), 1, "enrolled once")
		st := s.waitForState(number, commerce.CheckoutFulfilled)
		require.Len(t, st.ExcessivePayments, 1)
		require.Len(t, st.Refunds, 1)
		require.Equal(t, 1, s.count(`SELECT count(*) FROM order_notes n JOIN orders o ON o.id = n.order_id
			WHERE o.number = $1 AND n.note_type = 'Error' AND n.message LIKE 'Excessive payment%refunded automatically%'`, number))
		// Which of the two concurrent payments became the order's is up to the race: when the
		// genuine one is the extra one, CyberSource credits it; when the forged one is, CyberSource
		// refuses and ops close the refund by hand.
		id := st.Refunds[0]
		var status string
		require.Eventually(t, func() bool {
			status = ""
			var r refundResponse
			s.call("GET", fmt.Sprintf("/api/v2/refunds/%d/", id), s.token("e2e-staff", true), nil, &r)
			status = r.Status
			return status == "Complete" || status == "Payment Refund Error"
		}, 30*time.Second, 100*time.Millisecond)
		if status == "Payment Refund Error" {
			s.refundWaitsForOps(id)
			require.Empty(t, s.cs.Refunds())
			require.NoError(t, s.temporal.SignalWorkflow(context.Background(), workflows.RefundWorkflowID(id), "",
				workflows.SignalRefundDecision, workflows.RefundDecision{Action: workflows.RefundMarkDone, Note: "refunded in the Business Center"}))
		} else {
			require.Len(t, s.cs.Refunds(), 1)
		}
		s.waitForRefund(id, "Complete")
	})

	t.Run("APaymentAfterTheCheckoutCompleted", func(t *testing.T) {
		t.Parallel()
		s := newStack(t, stackOptions{})
		_, sku := s.publishSeat("59.00")
		b := s.checkout("late-twice", sku)
		number := s.orderNumber(b)
		res, _ := s.pay(b, cybersim.ActionPay)
		s.waitForOrder("late-twice", number, "Complete")
		require.Eventually(t, func() bool {
			d, err := s.temporal.DescribeWorkflowExecution(context.Background(), workflows.CheckoutWorkflowID(number), "")
			return err == nil && d.WorkflowExecutionInfo.CloseTime != nil
		}, 20*time.Second, 50*time.Millisecond, "the checkout completed")

		require.Equal(t, http.StatusOK, s.postReply(s.apiURL+"/payment/cybersource/notify/", res.Reply).StatusCode, "a replay")
		require.Equal(t, http.StatusOK, s.postReply(s.apiURL+"/payment/cybersource/notify/", resigned(res.Reply, "70000000000000000003")).StatusCode)
		require.Eventually(t, func() bool {
			return s.count("SELECT count(*) FROM refunds WHERE order_number = $1 AND kind = 'payment' AND reference = '70000000000000000003'", number) == 1
		}, 30*time.Second, 100*time.Millisecond)
		require.Equal(t, 1, s.count(`SELECT count(*) FROM order_notes n JOIN orders o ON o.id = n.order_id
			WHERE o.number = $1 AND n.note_type = 'Error' AND n.message LIKE '%70000000000000000003%'`, number))
		require.Equal(t, 1, s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1", number))
		require.Len(t, s.lms.Enrollments(), 1)

		// CyberSource never made that transaction: the credit is refused, the refund waits for ops.
		var id int64
		require.NoError(t, dbtest.Pool(t).QueryRow(context.Background(), "SELECT id FROM refunds WHERE reference = '70000000000000000003'").Scan(&id))
		s.refundWaitsForOps(id)
		require.Empty(t, s.cs.Refunds())
		require.NoError(t, s.temporal.SignalWorkflow(context.Background(), workflows.RefundWorkflowID(id), "",
			workflows.SignalRefundDecision, workflows.RefundDecision{Action: workflows.RefundMarkDone, Note: "checked: never charged"}))
		s.waitForRefund(id, "Complete")
	})
}

// refundWaitsForOps waits until the runbook's search finds the refund waiting for ops.
func (s *stack) refundWaitsForOps(id int64) {
	s.t.Helper()
	query := fmt.Sprintf("ExecutionStatus = 'Running' AND RefundStatus = 'Payment Refund Error' AND WorkflowId = '%s'", workflows.RefundWorkflowID(id))
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		resp, err := s.temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		if assert.NoError(c, err) {
			assert.Equal(c, int64(1), resp.Count)
		}
	}, 30*time.Second, 200*time.Millisecond, "refund %d: %d rows in Payment Refund Error", id,
		s.count("SELECT count(*) FROM refunds WHERE id = $1 AND status = 'Payment Refund Error'", id))
}

// One seat, one order (issue 7): a checkout expires and its seat moves to a restored basket.
func TestASeatIsNeverSoldTwice(t *testing.T) {
	t.Parallel()

	t.Run("TheLatePaymentEmptiesTheRestoredBasket", func(t *testing.T) {
		t.Parallel()
		s := newStack(t, stackOptions{paymentTimeout: 2 * time.Second})
		_, sku := s.publishSeat("99.00")
		b := s.checkout("late-payer", sku)
		number := s.orderNumber(b)
		st := s.waitForState(number, commerce.CheckoutPaymentExpired)
		require.Equal(t, 1, s.count("SELECT count(*) FROM basket_lines WHERE basket_id = $1", st.NewBasketID))

		s.pay(b, cybersim.ActionPay)
		s.waitForOrder("late-payer", number, "Complete")
		require.Equal(t, 0, s.count("SELECT count(*) FROM basket_lines WHERE basket_id = $1", st.NewBasketID), "the bought seat left the restored basket")

		var e map[string]any
		tok := s.token("late-payer", false)
		require.Equal(t, http.StatusBadRequest, s.call("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": st.NewBasketID, "payment_processor": "cybersource"}, &e))
		require.Equal(t, http.StatusBadRequest, s.call("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": sku}}, "checkout": true}, &e))
		require.Contains(t, e["developer_message"], "already purchased")
		require.Equal(t, 1, s.count("SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.username = 'late-payer'"))
	})

	t.Run("TheSeatBoughtAgainFirstMakesTheLatePaymentAnOpsCase", func(t *testing.T) {
		t.Parallel()
		s := newStack(t, stackOptions{paymentTimeout: 2 * time.Second})
		course, sku := s.publishSeat("299.00")
		a := s.checkout("buys-again", sku)
		numberA := s.orderNumber(a)
		st := s.waitForState(numberA, commerce.CheckoutPaymentExpired)

		// The learner buys the seat from the restored basket...
		tok := s.token("buys-again", false)
		var again basketResponse
		require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": st.NewBasketID, "payment_processor": "cybersource"}, &again.PaymentData))
		again.ID = st.NewBasketID
		numberB := s.orderNumber(again)
		s.pay(again, cybersim.ActionPay)
		s.waitForOrder("buys-again", numberB, "Complete")

		// ...then the first, expired checkout is paid too: no second order, ops are asked.
		s.pay(a, cybersim.ActionPay)
		s.needsAttention(numberA)
		require.Equal(t, 0, s.count("SELECT count(*) FROM orders WHERE number = $1", numberA))
		require.Equal(t, 1, s.count("SELECT count(*) FROM checkouts WHERE order_number = $1 AND status = 'NeedsAttention' AND attention_reason LIKE '%'||$2||'%'", numberA, numberB))
		require.Equal(t, 2, s.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND authentic AND transaction_id IS NOT NULL", numberA), "the payment is recorded (notification and redirect)")
		require.Len(t, s.lms.Enrollments(), 1)
		_, ok := s.lms.Enrollment("buys-again", course)
		require.True(t, ok)
	})
}
