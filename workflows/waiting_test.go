package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

func flagReasons(h *harness) []string {
	var out []string
	for _, f := range h.flags {
		out = append(out, f.Reason)
	}
	return out
}

// A second payment arriving while a refused second order (seat already owned) waits for ops is
// flagged too, never dropped.
func TestCheckout_PaymentWhileWaitingForOpsOnAnOwnedSeatIsFlagged(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.placeErr = func(activities.PlaceOrderInput) error {
		return temporal.NewNonRetryableApplicationError("owned", activities.ErrTypeAlreadyOwned, nil)
	}
	h.pay(time.Minute, paid("txn-1"))
	h.pay(2*time.Minute, paid("txn-2"))
	h.ops(3*time.Minute, workflows.OpsMarkFulfilled, "refunded txn-1 and txn-2")
	st := h.run()
	assert.Equal(t, []string{"txn-2"}, st.ExcessivePayments)
	require.NotEmpty(t, h.flags)
	assert.Contains(t, h.flags[len(h.flags)-1].Reason, "txn-2")
	assert.False(t, h.log.contains("unhandled signals"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// Several excessive payments of a completed order are each refunded once.
func TestCheckout_PaymentWhileWaitingForOpsOnACompletedOrderIsFlagged(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	o := orderFrom(twoSeats(), &commerce.Payment{Processor: processor, TransactionID: "txn-1", Amount: money("149.00"), Currency: "USD"})
	o.Status = commerce.OrderComplete
	h.preload(o)
	h.pay(0, paid("txn-9"), paid("txn-10"))
	st := h.run()
	assert.Equal(t, []string{"txn-9", "txn-10"}, st.ExcessivePayments)
	require.Len(t, h.paymentRefunds, 2)
	assert.Len(t, h.refundRuns, 2)
	assert.False(t, h.log.contains("unhandled signals"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// An excessive payment arriving while the receipt is retried is refunded before the checkout
// ends: its refund workflow has started.
func TestCheckout_ExcessivePaymentDuringTheReceiptWaitsForOps(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.receiptErr = errors.New("smtp down")
	h.pay(time.Minute, paid("txn-1"))
	h.pay(time.Minute+3*time.Second, paid("txn-2"))
	st := h.run()
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, []string{"txn-2"}, st.ExcessivePayments)
	require.Len(t, h.paymentRefunds, 1)
	assert.Len(t, h.refundRuns, 1)
}

// A payment under review (e.g. a PayPal capture PENDING) may still take money: a cancel or a
// decline arriving after it does not end the checkout; it keeps waiting for ops.
func TestCheckout_ReviewHoldsTheCheckoutAgainstALaterCancel(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.pay(time.Minute, notification("capture-1", commerce.PaymentReview))
	h.pay(2*time.Minute, notification("order-1", commerce.PaymentCancelled))
	h.snap(3*time.Minute, "after the cancel")
	h.ops(4*time.Minute, workflows.OpsMarkFulfilled, "the capture completed")
	st := h.run()
	assert.Equal(t, commerce.CheckoutNeedsAttention, h.snapshot("after the cancel").Status.State)
	assert.Zero(t, h.count("ReopenBasket"), "the basket is not given back while money may be taken")
	assert.Equal(t, 1, h.count("PlaceOrder"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// Ops refund a mismatched payment: it is refunded through a refund workflow, the learner gets
// the basket back, and the checkout ends Refunded.
func TestCheckout_OpsRefundAMismatchedPayment(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	wrong := paid("txn-1")
	wrong.Amount = money("1.00")
	h.pay(time.Minute, wrong)
	h.ops(2*time.Minute, workflows.OpsRefund, "wrong amount")
	st := h.run()
	assert.Equal(t, commerce.CheckoutRefunded, st.State)
	require.Len(t, h.paymentRefunds, 1)
	assert.Equal(t, "txn-1", h.paymentRefunds[0].Reference)
	assert.Equal(t, "1.00", commerce.FormatMoney(h.paymentRefunds[0].Total))
	assert.Len(t, h.refundRuns, 1)
	require.Len(t, h.reopens, 1)
	assert.Equal(t, commerce.CheckoutRefunded, h.reopens[0].In.Status)
	assert.Zero(t, h.count("PlaceOrder"))
	assert.Equal(t, []string{"Ops action refund by an operator: wrong amount"}, h.notes, "who did what, on the order")
}

// Ops refund the payment of an order refused because the learner already owned its seat.
func TestCheckout_OpsRefundARefusedOrdersPayment(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.placeErr = func(activities.PlaceOrderInput) error {
		return temporal.NewNonRetryableApplicationError("owned", activities.ErrTypeAlreadyOwned, nil)
	}
	h.pay(time.Minute, paid("txn-1"))
	h.ops(2*time.Minute, workflows.OpsRefund, "")
	st := h.run()
	assert.Equal(t, commerce.CheckoutRefunded, st.State)
	require.Len(t, h.paymentRefunds, 1)
	assert.Equal(t, "txn-1", h.paymentRefunds[0].Reference)
	assert.Equal(t, "149.00", commerce.FormatMoney(h.paymentRefunds[0].Total))
	assert.Len(t, h.refundRuns, 1)
}

// Ops refund an order whose fulfillment failed: its lines are refunded and revoked, no receipt.
func TestCheckout_OpsRefundAnOrderThatCouldNotBeFulfilled(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.enroll = func(in activities.EnrollInput, _ int32) error {
		if in.SKU == skuCredit {
			return lmsRejected("course not found")
		}
		return nil
	}
	h.pay(time.Minute, paid("txn-1"))
	h.ops(time.Hour, workflows.OpsRefund, "course withdrawn")
	st := h.run()
	assert.Equal(t, commerce.CheckoutRefunded, st.State)
	assert.Equal(t, 1, h.count("CreateOrderRefund"))
	require.Len(t, h.refundRuns, 1)
	assert.True(t, h.refundRuns[0].RevokeFulfillment)
	assert.Equal(t, []int64{100}, st.Refunds)
	assert.Zero(t, h.count("SendReceipt"))
}

// A correct payment that arrives while an operator's refund of a flagged payment is starting is
// not dropped with the run: the order is placed with it.
func TestCheckout_CorrectPaymentDuringTheOpsRefundOfAFlaggedOneIsPlaced(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	wrong := paid("txn-1")
	wrong.Amount = money("1.00")
	h.pay(time.Minute, wrong)
	h.ops(2*time.Minute, workflows.OpsRefund, "wrong amount")
	h.pay(2*time.Minute, paid("txn-2"))
	st := h.run()

	require.Len(t, h.paymentRefunds, 1)
	assert.Equal(t, "txn-1", h.paymentRefunds[0].Reference, "the flagged payment is refunded")
	require.Len(t, h.places, 1, "the correct payment places the order")
	assert.Equal(t, "txn-2", h.places[0].In.Payment.TransactionID)
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.False(t, h.log.contains("unhandled signals"))
}

// A second payment that arrives as ops close a refused order (the learner already owned the
// seat) is refunded, not dropped with the run.
func TestCheckout_PaymentAsOpsCloseARefusedOrderIsRefunded(t *testing.T) {
	for _, action := range []string{workflows.OpsRefund, workflows.OpsMarkFulfilled} {
		t.Run(action, func(t *testing.T) {
			h := newHarness(t, input(twoSeats()))
			h.placeErr = func(activities.PlaceOrderInput) error {
				return temporal.NewNonRetryableApplicationError("owned", activities.ErrTypeAlreadyOwned, nil)
			}
			h.pay(time.Minute, paid("txn-1"))
			h.ops(2*time.Minute, action, "closed")
			h.pay(2*time.Minute, paid("txn-2"))
			st := h.run()

			var refunded []string
			for _, r := range h.paymentRefunds {
				refunded = append(refunded, r.Reference)
			}
			assert.Contains(t, refunded, "txn-2", "the payment that arrived as the case closed")
			assert.Contains(t, st.ExcessivePayments, "txn-2")
			assert.Len(t, h.refundRuns, len(h.paymentRefunds), "every refund's workflow started before the run ended")
			assert.False(t, h.log.contains("unhandled signals"))
		})
	}
}

// An accepted payment that does not pay for the checkout (another amount), arriving as the
// checkout expires, is refunded rather than only counted.
func TestCheckout_MismatchedPaymentAsTheCheckoutExpiresIsRefunded(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	wrong := paid("txn-1")
	wrong.Amount = money("1.00")
	h.pay(paymentTimeout, wrong)
	st := h.run()

	assert.Zero(t, h.count("PlaceOrder"))
	require.Len(t, h.paymentRefunds, 1)
	assert.Equal(t, "txn-1", h.paymentRefunds[0].Reference)
	assert.Equal(t, "1.00", commerce.FormatMoney(h.paymentRefunds[0].Total))
	assert.Len(t, h.refundRuns, 1)
	assert.Equal(t, commerce.CheckoutPaymentExpired, st.State)
}
