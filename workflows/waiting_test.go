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

// A third payment arriving while ops look at an excessive payment of a completed order is
// flagged in the same wait.
func TestCheckout_PaymentWhileWaitingForOpsOnACompletedOrderIsFlagged(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	o := orderFrom(twoSeats(), &commerce.Payment{Processor: processor, TransactionID: "txn-1", Amount: money("149.00"), Currency: "USD"})
	o.Status = commerce.OrderComplete
	h.preload(o)
	h.pay(0, paid("txn-9"))
	h.pay(time.Minute, paid("txn-10"))
	h.ops(2*time.Minute, workflows.OpsMarkFulfilled, "refunded")
	st := h.run()
	assert.Equal(t, []string{"txn-9", "txn-10"}, st.ExcessivePayments)
	assert.Contains(t, flagReasons(h)[len(h.flags)-1], "txn-10")
	assert.False(t, h.log.contains("unhandled signals"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// An excessive payment arriving while the receipt is retried makes the checkout wait for ops
// again instead of ending Fulfilled.
func TestCheckout_ExcessivePaymentDuringTheReceiptWaitsForOps(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.receiptErr = errors.New("smtp down")
	h.pay(time.Minute, paid("txn-1"))
	h.pay(time.Minute+3*time.Second, paid("txn-2"))
	h.snap(5*time.Minute, "after the receipt")
	h.ops(10*time.Minute, workflows.OpsMarkFulfilled, "refunded txn-2")
	st := h.run()
	snap := h.snapshot("after the receipt").Status
	assert.Equal(t, commerce.CheckoutNeedsAttention, snap.State)
	assert.Contains(t, snap.LastError, "txn-2")
	states := h.searchStates()
	require.GreaterOrEqual(t, len(states), 2)
	assert.Equal(t, []string{needsAttention, fulfilled}, states[len(states)-2:])
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, []string{"txn-2"}, st.ExcessivePayments)
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
