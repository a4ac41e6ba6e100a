package workflows_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/workflows"
)

const (
	fulfilling     = string(commerce.CheckoutFulfilling)
	fulfilled      = string(commerce.CheckoutFulfilled)
	needsAttention = string(commerce.CheckoutNeedsAttention)
	paidState      = string(commerce.CheckoutPaid)
)

// assertPayment checks the payment handed to PlaceOrder against the notification it came from.
func assertPayment(t *testing.T, want commerce.PaymentNotification, got *commerce.Payment) {
	t.Helper()
	require.NotNil(t, got, "PlaceOrder got no payment")
	assert.Equal(t, want.Processor, got.Processor)
	assert.Equal(t, want.TransactionID, got.TransactionID)
	assert.True(t, want.Amount.Equal(got.Amount), "amount %s, want %s", got.Amount, want.Amount)
	assert.Equal(t, want.Currency, got.Currency)
	assert.Equal(t, want.CardType, got.CardType)
	assert.Equal(t, want.Label, got.Label)
}

// assertEnrollInput checks one Enroll call against the line it fulfils.
func assertEnrollInput(t *testing.T, want activities.EnrollInput, got activities.EnrollInput) {
	t.Helper()
	assert.True(t, want.DatePlaced.Equal(got.DatePlaced), "date placed %s, want %s", got.DatePlaced, want.DatePlaced)
	want.DatePlaced, got.DatePlaced = time.Time{}, time.Time{}
	assert.Equal(t, want, got)
}

// countTimers counts the durable timers the workflow schedules.
func countTimers(h *harness) func() int {
	var mu sync.Mutex
	n := 0
	h.env.SetOnTimerScheduledListener(func(string, time.Duration) { mu.Lock(); n++; mu.Unlock() })
	return func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// 1. An accepted payment that matches the basket is placed once and every seat is enrolled.
func TestCheckout_AcceptedPayment_PlacesOrderEnrollsEachSeatAndSendsReceipt(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	n := paid("txn-1")
	h.snap(time.Minute, "awaiting")
	h.pay(5*time.Minute, n)
	st := h.run()

	aw := h.snapshot("awaiting")
	assert.Equal(t, commerce.CheckoutAwaitingPayment, aw.Status.State)
	assert.Zero(t, aw.Calls["PlaceOrder"], "no order before the payment")

	assert.Equal(t, []string{orderNumber}, h.loads)
	require.Len(t, h.places, 1, "PlaceOrder runs exactly once")
	assert.Equal(t, startTime.Add(5*time.Minute), h.places[0].At, "the order is placed when the payment arrives")
	assert.Equal(t, orderNumber, h.places[0].In.Checkout.OrderNumber)
	assert.Len(t, h.places[0].In.Checkout.Lines, 2)
	assertPayment(t, n, h.places[0].In.Payment)

	require.Len(t, h.enrolls, 2, "one Enroll per seat line")
	verified, credit := h.enrollsOf(skuVerified), h.enrollsOf(skuCredit)
	require.Len(t, verified, 1)
	require.Len(t, credit, 1)
	assertEnrollInput(t, activities.EnrollInput{Deployment: deployment, OrderNumber: orderNumber, SKU: skuVerified, Username: username,
		CourseID: courseVerified, Mode: "verified", DatePlaced: placedAt}, verified[0].In)
	assertEnrollInput(t, activities.EnrollInput{Deployment: deployment, OrderNumber: orderNumber, SKU: skuCredit, Username: username,
		CourseID: courseCredit, Mode: "credit", CreditProvider: "asu", DatePlaced: placedAt}, credit[0].In)
	assert.EqualValues(t, 1, verified[0].Attempt)
	assert.EqualValues(t, 1, credit[0].Attempt)

	assert.Equal(t, 1, h.count("FinishFulfillment"))
	assert.Equal(t, []string{orderNumber}, h.receipts)
	assert.Zero(t, h.count("ReopenBasket"))
	assert.Zero(t, h.count("FlagForOps"))
	assert.Zero(t, h.count("MarkOrderFulfilled"))

	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, commerce.OrderComplete, st.OrderStatus)
	assert.Equal(t, orderNumber, st.OrderNumber)
	assert.Equal(t, "149.00", st.Total)
	assert.Equal(t, "USD", st.Currency)
	assert.Equal(t, &workflows.PaymentStatus{Processor: processor, TransactionID: "txn-1", Outcome: commerce.PaymentAccepted,
		Amount: "149.00", Currency: "USD"}, st.Payment)
	assert.Empty(t, st.LastError)
	assert.Zero(t, st.NewBasketID)
	assert.Zero(t, st.IgnoredEvents)
	for _, sku := range []string{skuVerified, skuCredit} {
		l := lineOf(t, st, sku)
		assert.Equal(t, commerce.LineComplete, l.Status, sku)
		assert.Equal(t, 1, l.Attempts, sku)
		assert.Empty(t, l.LastError, sku)
	}
	assert.Equal(t, []string{paidState, fulfilled}, h.searchStates(), "CheckoutStatus search attribute: Paid, then the state the checkout ends in")
	for _, e := range h.enrolls {
		assert.True(t, e.Local, "%s enrolled by a local activity, in the task that placed the order", e.In.SKU)
	}
	assert.False(t, h.log.contains("unhandled signals"))
}

// A payment just before the timeout still counts.
func TestCheckout_PaymentJustBeforeTimeout_IsAccepted(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.pay(paymentTimeout-time.Second, paid("txn-1"))
	st := h.run()

	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, 1, h.count("PlaceOrder"))
	assert.Zero(t, h.count("ReopenBasket"))
}

// 2. A free basket (100% voucher) is placed at once, without a payment.
func TestCheckout_FreeCheckout_PlacesOrderWithoutWaitingForPayment(t *testing.T) {
	c := newCheckout(seat(skuVerified, courseVerified, "verified", "", "0.00"))
	c.TotalBeforeDiscounts, c.Discount = money("49.00"), money("49.00")
	require.True(t, c.IsFree())
	h := newHarness(t, input(c))
	timers := countTimers(h)
	st := h.run()

	require.Len(t, h.places, 1)
	assert.Nil(t, h.places[0].In.Payment, "a free order has no payment")
	assert.Equal(t, startTime, h.places[0].At, "placed without waiting")
	assert.Zero(t, timers(), "no payment timer")
	require.Len(t, h.enrolls, 1)
	assertEnrollInput(t, activities.EnrollInput{Deployment: deployment, OrderNumber: orderNumber, SKU: skuVerified, Username: username,
		CourseID: courseVerified, Mode: "verified", DatePlaced: placedAt}, h.enrolls[0].In)
	assert.Equal(t, 1, h.count("SendReceipt"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, "0.00", st.Total)
	assert.Nil(t, st.Payment)
	assert.Less(t, h.elapsed(), time.Minute)
}

// 3. No payment within the timeout: the basket is reopened and nothing is placed.
func TestCheckout_PaymentTimeout_ReopensBasket(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.snap(paymentTimeout-time.Minute, "before-timeout")
	st := h.run()

	before := h.snapshot("before-timeout")
	assert.Equal(t, commerce.CheckoutAwaitingPayment, before.Status.State)
	assert.Zero(t, before.Calls["ReopenBasket"])

	require.Len(t, h.reopens, 1)
	assert.Equal(t, activities.ReopenInput{Deployment: deployment, OrderNumber: orderNumber, BasketID: basketID, Status: commerce.CheckoutPaymentExpired}, h.reopens[0].In)
	assert.Equal(t, startTime.Add(paymentTimeout), h.reopens[0].At)
	for _, act := range []string{"PlaceOrder", "Enroll", "FinishFulfillment", "SendReceipt", "FlagForOps"} {
		assert.Zero(t, h.count(act), act)
	}
	assert.Equal(t, commerce.CheckoutPaymentExpired, st.State)
	assert.Equal(t, newBasketID, st.NewBasketID)
	assert.Contains(t, st.LastError, "30m0s")
	assert.Nil(t, st.Payment)
	assert.Equal(t, []string{string(commerce.CheckoutPaymentExpired)}, h.searchStates())
	assert.Equal(t, paymentTimeout, h.elapsed())
}

// 4. Declined, cancelled and error outcomes end the checkout with a new basket.
func TestCheckout_UnsuccessfulPayment_ReopensBasket(t *testing.T) {
	for _, outcome := range []commerce.PaymentOutcome{commerce.PaymentDeclined, commerce.PaymentCancelled, commerce.PaymentError} {
		t.Run(string(outcome), func(t *testing.T) {
			h := newHarness(t, input(twoSeats()))
			h.pay(2*time.Minute, notification("txn-1", outcome))
			st := h.run()

			require.Len(t, h.reopens, 1)
			assert.Equal(t, activities.ReopenInput{Deployment: deployment, OrderNumber: orderNumber, BasketID: basketID, Status: commerce.CheckoutPaymentDeclined}, h.reopens[0].In)
			assert.Equal(t, startTime.Add(2*time.Minute), h.reopens[0].At, "ends at once, not at the timeout")
			for _, act := range []string{"PlaceOrder", "Enroll", "FinishFulfillment", "SendReceipt"} {
				assert.Zero(t, h.count(act), act)
			}
			assert.Equal(t, commerce.CheckoutPaymentDeclined, st.State)
			assert.Equal(t, newBasketID, st.NewBasketID)
			assert.Equal(t, "Payment "+string(outcome)+": processor says "+string(outcome), st.LastError)
			require.NotNil(t, st.Payment)
			assert.Equal(t, outcome, st.Payment.Outcome)
			assert.Equal(t, "txn-1", st.Payment.TransactionID)
			assert.Equal(t, []string{string(commerce.CheckoutPaymentDeclined)}, h.searchStates())
		})
	}
}

// 5. Notifications of an outcome "duplicate" and repeats of one transaction place one order.
func TestCheckout_DuplicateNotifications_PlaceOrderOnce(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.pay(time.Minute, notification("txn-1", commerce.PaymentDuplicate))
	h.snap(2*time.Minute, "after-duplicate")
	h.pay(3*time.Minute, paid("txn-1"), paid("txn-1"), paid("txn-1"))
	st := h.run()

	s := h.snapshot("after-duplicate")
	assert.Equal(t, 1, s.Status.IgnoredEvents, "the duplicate outcome is counted")
	assert.Equal(t, commerce.CheckoutAwaitingPayment, s.Status.State)
	assert.Nil(t, s.Status.Payment, "an ignored notification is not shown as the payment")

	require.Len(t, h.places, 1, "PlaceOrder once")
	assertPayment(t, paid("txn-1"), h.places[0].In.Payment)
	assert.Len(t, h.enrollsOf(skuVerified), 1)
	assert.Len(t, h.enrollsOf(skuCredit), 1)
	assert.Equal(t, 1, h.count("SendReceipt"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.GreaterOrEqual(t, st.IgnoredEvents, 1)
}

// 5. Repeats of a flagged payment are counted and do not flag it again.
func TestCheckout_DuplicateNotifications_OfFlaggedPaymentAreIgnored(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	short := paid("txn-1")
	short.Amount = money("100.00")
	dup := short
	dup.Outcome = commerce.PaymentDuplicate
	h.pay(time.Minute, short, short, short, dup)
	h.snap(2*time.Minute, "flagged")
	h.ops(3*time.Minute, workflows.OpsMarkFulfilled, "")
	st := h.run()

	s := h.snapshot("flagged")
	assert.Equal(t, commerce.CheckoutNeedsAttention, s.Status.State)
	assert.Equal(t, 3, s.Status.IgnoredEvents, "two repeats and one duplicate outcome")
	assert.Equal(t, 1, s.Calls["FlagForOps"], "flagged once")
	assert.Zero(t, s.Calls["PlaceOrder"])

	require.Len(t, h.places, 1)
	assertPayment(t, short, h.places[0].In.Payment)
	assert.Equal(t, 3, st.IgnoredEvents)
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// 6. A payment that does not match the basket is never placed on its own; an operator can accept it.
func TestCheckout_MismatchedPayment_NeedsAttentionUntilOpsAcceptIt(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*commerce.PaymentNotification)
		problem string
	}{
		{"amount", func(n *commerce.PaymentNotification) { n.Amount = money("100.00") }, "Payment txn-1 is 100.00 USD; the basket totals 149.00."},
		{"currency", func(n *commerce.PaymentNotification) { n.Currency = "EUR" }, "Payment txn-1 is in EUR; the basket is in USD."},
		{"reference", func(n *commerce.PaymentNotification) { n.OrderNumber = "EDX-100043" }, `Payment txn-1 references "EDX-100043", not EDX-100042.`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, input(twoSeats()))
			n := paid("txn-1")
			tc.mutate(&n)
			h.pay(time.Minute, n)
			h.snap(2*time.Minute, "flagged")
			h.ops(10*time.Minute, workflows.OpsRetry, "") // not an answer to a flagged payment
			h.ops(11*time.Minute, "frobnicate", "")       // unknown
			h.snap(2*paymentTimeout, "past-timeout")      // the payment timer no longer runs
			h.ops(2*paymentTimeout+time.Minute, workflows.OpsMarkFulfilled, "customer confirmed")
			st := h.run()

			f := h.snapshot("flagged")
			assert.Equal(t, commerce.CheckoutNeedsAttention, f.Status.State)
			assert.Equal(t, tc.problem, f.Status.LastError)
			require.NotNil(t, f.Status.Payment)
			assert.Equal(t, "txn-1", f.Status.Payment.TransactionID)
			assert.Equal(t, commerce.PaymentAccepted, f.Status.Payment.Outcome)
			assert.Zero(t, f.Calls["PlaceOrder"], "a mismatch is never placed")
			assert.Equal(t, 1, f.Calls["FlagForOps"])

			p := h.snapshot("past-timeout")
			assert.Equal(t, commerce.CheckoutNeedsAttention, p.Status.State)
			assert.Equal(t, tc.problem, p.Status.LastError)
			assert.Zero(t, p.Calls["PlaceOrder"], "retry and unknown actions do not accept a flagged payment")
			assert.Zero(t, p.Calls["ReopenBasket"], "a flagged checkout does not expire")

			assert.Equal(t, []string{orderNumber}, flaggedOrders(h.flags))
			require.Len(t, h.places, 1, "mark-fulfilled places the order with the flagged payment")
			assert.Equal(t, startTime.Add(2*paymentTimeout+time.Minute), h.places[0].At)
			assertPayment(t, n, h.places[0].In.Payment)
			assert.Len(t, h.enrolls, 2)
			assert.Zero(t, h.count("ReopenBasket"))
			assert.Zero(t, h.count("MarkOrderFulfilled"), "the order was not placed yet: nothing to mark")
			assert.Equal(t, 1, h.count("SendReceipt"))
			assert.Equal(t, commerce.CheckoutFulfilled, st.State)
			assert.Equal(t, []string{needsAttention, paidState, fulfilled}, h.searchStates())
		})
	}
}

// 6. A correct payment arriving after a mismatched one is accepted; the mismatched one took
// money too, so it is refunded at once (its own refund workflow), without ops.
func TestCheckout_CorrectPaymentAfterMismatch_IsAccepted(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	wrong := paid("txn-1")
	wrong.Amount = money("14.90")
	right := paid("txn-2")
	h.pay(time.Minute, wrong)
	h.snap(2*time.Minute, "flagged")
	h.pay(3*time.Minute, right)
	st := h.run()

	assert.Equal(t, commerce.CheckoutNeedsAttention, h.snapshot("flagged").Status.State)
	require.Len(t, h.places, 1)
	assert.Equal(t, startTime.Add(3*time.Minute), h.places[0].At)
	assertPayment(t, right, h.places[0].In.Payment)
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, "txn-2", st.Payment.TransactionID)
	assert.Equal(t, []string{"txn-1"}, st.ExcessivePayments)
	require.Len(t, h.paymentRefunds, 1)
	assert.Equal(t, "txn-1", h.paymentRefunds[0].Reference)
	assert.Equal(t, "14.90", commerce.FormatMoney(h.paymentRefunds[0].Total), "the amount that payment took")
	assert.Equal(t, []int64{1}, st.Refunds)
	require.Len(t, h.refundRuns, 1)
	assert.False(t, h.refundRuns[0].RevokeFulfillment, "a payment refund revokes nothing")
	assert.Empty(t, st.LastError)
	assert.Equal(t, []string{needsAttention, paidState, fulfilled}, h.searchStates())
}

// Ops actions while awaiting a payment, with nothing flagged, change nothing.
func TestCheckout_OpsActionWithoutFlaggedPayment_IsIgnored(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.ops(time.Minute, workflows.OpsMarkFulfilled, "")
	h.ops(2*time.Minute, workflows.OpsRetry, "")
	h.snap(3*time.Minute, "after-ops")
	st := h.run()

	assert.Equal(t, commerce.CheckoutAwaitingPayment, h.snapshot("after-ops").Status.State)
	assert.Zero(t, h.count("PlaceOrder"))
	assert.Equal(t, commerce.CheckoutPaymentExpired, st.State)
	assert.Equal(t, paymentTimeout, h.elapsed())
}

// 7. A payment held for review waits for the processor or an operator; it does not expire.
func TestCheckout_ReviewOutcome_HoldsCheckoutPastTimeout(t *testing.T) {
	review := notification("txn-1", commerce.PaymentReview)
	cases := []struct {
		name  string
		then  func(h *harness, d time.Duration)
		check func(t *testing.T, h *harness, st workflows.Status)
	}{
		{"processor accepts", func(h *harness, d time.Duration) { h.pay(d, paid("txn-1")) },
			func(t *testing.T, h *harness, st workflows.Status) {
				require.Len(t, h.places, 1)
				assertPayment(t, paid("txn-1"), h.places[0].In.Payment)
				assert.Equal(t, commerce.CheckoutFulfilled, st.State)
				assert.Equal(t, commerce.PaymentAccepted, st.Payment.Outcome)
			}},
		{"operator accepts", func(h *harness, d time.Duration) { h.ops(d, workflows.OpsMarkFulfilled, "reviewed") },
			func(t *testing.T, h *harness, st workflows.Status) {
				require.Len(t, h.places, 1)
				assertPayment(t, review, h.places[0].In.Payment)
				assert.Equal(t, commerce.CheckoutFulfilled, st.State)
			}},
		{"processor declines", func(h *harness, d time.Duration) { h.pay(d, notification("txn-1", commerce.PaymentDeclined)) },
			func(t *testing.T, h *harness, st workflows.Status) {
				assert.Zero(t, h.count("PlaceOrder"))
				require.Len(t, h.reopens, 1)
				assert.Equal(t, commerce.CheckoutPaymentDeclined, h.reopens[0].In.Status)
				assert.Equal(t, commerce.CheckoutPaymentDeclined, st.State)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, input(twoSeats()))
			h.pay(time.Minute, review)
			h.snap(2*time.Minute, "review")
			h.snap(2*paymentTimeout, "past-timeout")
			tc.then(h, 2*paymentTimeout+time.Minute)
			st := h.run()

			r := h.snapshot("review")
			assert.Equal(t, commerce.CheckoutNeedsAttention, r.Status.State)
			assert.Equal(t, "The processor holds the payment for review: processor says review", r.Status.LastError)
			require.NotNil(t, r.Status.Payment)
			assert.Equal(t, commerce.PaymentReview, r.Status.Payment.Outcome)
			assert.Equal(t, 1, r.Calls["FlagForOps"])

			p := h.snapshot("past-timeout")
			assert.Equal(t, commerce.CheckoutNeedsAttention, p.Status.State)
			assert.Zero(t, p.Calls["ReopenBasket"], "the payment timer no longer expires the checkout")
			assert.Zero(t, p.Calls["PlaceOrder"])

			assert.Equal(t, []string{orderNumber}, flaggedOrders(h.flags))
			tc.check(t, h, st)
		})
	}
}

// 8. A permanent LMS refusal leaves the order in Fulfillment Error until an operator retries;
// the retry enrolls only the failed line.
func TestCheckout_PermanentEnrollmentFailure_OpsRetryEnrollsFailedLineOnly(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	const refusal = "LMS answered 400: course run is not open for enrollment"
	creditCalls := 0
	h.enroll = func(in activities.EnrollInput, _ int32) error {
		if in.SKU != skuCredit {
			return nil
		}
		creditCalls++
		if creditCalls == 1 {
			return lmsRejected(refusal)
		}
		return nil
	}
	h.pay(time.Minute, paid("txn-1"))
	h.snap(10*time.Minute, "stuck")
	h.pay(15*time.Minute, paid("txn-1")) // a late repeat while waiting for ops
	h.ops(16*time.Minute, "frobnicate", "")
	h.snap(17*time.Minute, "still-stuck")
	h.ops(20*time.Minute, workflows.OpsRetry, "LMS fixed")
	st := h.run()

	s := h.snapshot("stuck")
	assert.Equal(t, commerce.CheckoutNeedsAttention, s.Status.State)
	assert.Equal(t, commerce.OrderFulfillmentError, s.Status.OrderStatus)
	assert.Contains(t, s.Status.LastError, "ops-action")
	cl := lineOf(t, s.Status, skuCredit)
	assert.Equal(t, commerce.LineServerError, cl.Status)
	assert.Contains(t, cl.LastError, refusal)
	assert.Equal(t, 1, cl.Attempts)
	vl := lineOf(t, s.Status, skuVerified)
	assert.Equal(t, commerce.LineComplete, vl.Status)
	assert.Equal(t, 2, s.Calls["Enroll"], "a 4xx is not retried by the retry policy")
	assert.Equal(t, 1, s.Calls["FinishFulfillment"])
	assert.Equal(t, 1, s.Calls["FlagForOps"])
	assert.Zero(t, s.Calls["SendReceipt"])

	ss := h.snapshot("still-stuck")
	assert.Equal(t, commerce.CheckoutNeedsAttention, ss.Status.State)
	assert.Equal(t, 1, ss.Status.IgnoredEvents, "the repeat is counted")
	assert.Equal(t, 2, ss.Calls["Enroll"], "an unknown action does not retry")

	assert.Len(t, h.enrollsOf(skuVerified), 1, "the enrolled line is not enrolled again")
	credit := h.enrollsOf(skuCredit)
	require.Len(t, credit, 2)
	assert.Equal(t, startTime.Add(20*time.Minute), credit[1].At, "enrolled again on the operator's retry")
	assertEnrollInput(t, activities.EnrollInput{Deployment: deployment, OrderNumber: orderNumber, SKU: skuCredit, Username: username,
		CourseID: courseCredit, Mode: "credit", CreditProvider: "asu", DatePlaced: placedAt}, credit[1].In)
	assert.Equal(t, 1, h.count("PlaceOrder"))
	assert.Equal(t, 2, h.count("FinishFulfillment"))
	assert.Zero(t, h.count("MarkOrderFulfilled"))
	assert.Equal(t, 1, h.count("SendReceipt"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, commerce.OrderComplete, st.OrderStatus)
	assert.Equal(t, commerce.LineComplete, lineOf(t, st, skuCredit).Status)
	assert.Equal(t, 2, lineOf(t, st, skuCredit).Attempts)
	assert.Equal(t, []string{paidState, needsAttention, fulfilling, fulfilled}, h.searchStates())
	assert.False(t, credit[1].Local, "the operator's retry runs as a durable activity")
}

// 8. An operator can mark a stuck order fulfilled.
func TestCheckout_PermanentEnrollmentFailure_OpsMarkFulfilled(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.enroll = func(in activities.EnrollInput, _ int32) error {
		if in.SKU == skuCredit {
			return lmsRejected("LMS answered 403: user is not eligible for credit")
		}
		return nil
	}
	h.pay(time.Minute, paid("txn-1"))
	h.snap(10*time.Minute, "stuck")
	h.ops(20*time.Minute, workflows.OpsMarkFulfilled, "enrolled by hand")
	st := h.run()

	assert.Equal(t, commerce.CheckoutNeedsAttention, h.snapshot("stuck").Status.State)
	assert.Equal(t, []activities.MarkFulfilledInput{{OrderNumber: orderNumber, Note: "enrolled by hand", Deployment: deployment}}, h.marks)
	assert.Len(t, h.enrollsOf(skuCredit), 1, "not enrolled again")
	assert.Equal(t, 1, h.count("FinishFulfillment"))
	assert.Equal(t, 1, h.count("SendReceipt"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, commerce.OrderComplete, st.OrderStatus)
	for _, l := range st.Lines {
		assert.Equal(t, commerce.LineComplete, l.Status, l.SKU)
	}
	assert.Equal(t, []string{paidState, needsAttention, fulfilled}, h.searchStates())
}

// 8. The retry policy itself never retries an LMSRejected failure, even one not marked
// non-retryable by the activity.
func TestCheckout_LMSRejectedType_NotRetriedByPolicy(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.enroll = func(in activities.EnrollInput, _ int32) error {
		if in.SKU == skuCredit {
			return temporal.NewApplicationError("LMS answered 404: no such course run", activities.ErrTypeLMSRejected)
		}
		return nil
	}
	h.pay(time.Minute, paid("txn-1"))
	h.snap(time.Hour, "stuck")
	h.ops(2*time.Hour, workflows.OpsMarkFulfilled, "")
	h.run()

	assert.Len(t, h.enrollsOf(skuCredit), 1, "NonRetryableErrorTypes holds LMSRejected")
	s := h.snapshot("stuck")
	assert.Equal(t, commerce.CheckoutNeedsAttention, s.Status.State)
	assert.Equal(t, commerce.LineServerError, lineOf(t, s.Status, skuCredit).Status)
}

// 9. Retryable enrollment failures are retried by the activity's retry policy, with backoff.
func TestCheckout_RetryableEnrollmentFailure_RetriedByPolicy(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.enroll = func(in activities.EnrollInput, attempt int32) error {
		if in.SKU == skuCredit && attempt <= 2 {
			return lmsUnavailable("LMS answered 503")
		}
		return nil
	}
	h.pay(time.Minute, paid("txn-1"))
	st := h.run()

	credit := h.enrollsOf(skuCredit)
	require.Len(t, credit, 4, "the local try, then the durable activity's two failures and one success")
	paidAt := startTime.Add(time.Minute)
	assert.True(t, credit[0].Local, "first tried as a local activity")
	assert.Equal(t, paidAt, credit[0].At)
	for i, want := range []time.Duration{0, time.Second, 3 * time.Second} { // at once, then 1 s, then x2
		c := credit[i+1]
		assert.False(t, c.Local, "retried as a durable activity")
		assert.EqualValues(t, i+1, c.Attempt)
		assert.Equal(t, paidAt.Add(want), c.At, "attempt %d", i+1)
	}
	assert.Len(t, h.enrollsOf(skuVerified), 1)
	assert.Equal(t, 1, h.count("FinishFulfillment"))
	assert.Zero(t, h.count("FlagForOps"), "never needed attention")
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, commerce.LineComplete, lineOf(t, st, skuCredit).Status)
	assert.Equal(t, []string{paidState, fulfilling, fulfilled}, h.searchStates(), "Fulfilling shows while an enrollment waits for its retries")
}

// 9. Retries past FulfillmentRetryLimit hand the order to ops.
func TestCheckout_RetryableEnrollmentFailure_PastRetryLimitNeedsAttention(t *testing.T) {
	in := input(twoSeats())
	in.FulfillmentRetryLimit = 10 * time.Minute
	h := newHarness(t, in)
	h.enroll = func(in activities.EnrollInput, _ int32) error {
		if in.SKU == skuCredit {
			return lmsUnavailable("LMS unreachable: connection refused")
		}
		return nil
	}
	h.pay(time.Minute, paid("txn-1"))
	h.snap(30*time.Minute, "stuck")
	h.ops(40*time.Minute, workflows.OpsMarkFulfilled, "")
	st := h.run()

	s := h.snapshot("stuck")
	assert.Equal(t, commerce.CheckoutNeedsAttention, s.Status.State)
	assert.Equal(t, commerce.OrderFulfillmentError, s.Status.OrderStatus)
	cl := lineOf(t, s.Status, skuCredit)
	assert.Equal(t, commerce.LineNetworkError, cl.Status)
	assert.Contains(t, cl.LastError, "connection refused")

	credit := h.enrollsOf(skuCredit)
	assert.Greater(t, len(credit), 3, "retried with backoff")
	last := credit[len(credit)-1].At
	assert.False(t, last.After(startTime.Add(time.Minute+in.FulfillmentRetryLimit)), "no attempt after the retry limit (last %s)", last)
	assert.Equal(t, 1, h.count("MarkOrderFulfilled"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// A receipt that cannot be sent does not fail the checkout.
func TestCheckout_ReceiptFailure_DoesNotFailCheckout(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.receiptErr = lmsUnavailable("SMTP down")
	h.pay(time.Minute, paid("txn-1"))
	st := h.run()

	assert.Equal(t, 6, h.count("SendReceipt"), "tried once locally, then the durable activity's MaximumAttempts 5")
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.True(t, h.log.contains("receipt not sent"))
}

// 10. A run that finds its order placed and Open fulfils it without waiting for a payment.
func TestCheckout_Recovery_OpenOrderResumesFulfillment(t *testing.T) {
	c := twoSeats()
	h := newHarness(t, input(c))
	o := orderFrom(c, &commerce.Payment{Processor: processor, TransactionID: "txn-1", Amount: c.Total, Currency: "USD"})
	o.DatePlaced = startTime.Add(-time.Hour)
	h.preload(o)
	timers := countTimers(h)
	st := h.run()

	assert.Zero(t, h.count("PlaceOrder"))
	assert.Zero(t, timers(), "no payment timer")
	require.Len(t, h.enrolls, 2)
	for _, e := range h.enrolls {
		assert.Equal(t, startTime, e.At, "enrolled at once")
		assert.True(t, o.DatePlaced.Equal(e.In.DatePlaced), "date placed of the stored order")
	}
	assert.Equal(t, 1, h.count("FinishFulfillment"))
	assert.Equal(t, 1, h.count("SendReceipt"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, []string{fulfilled}, h.searchStates())
}

// 10. A worker killed after its PlaceOrder committed but before the workflow task completed:
// the retried task finds the order placed (and still Open) while the payment's notification is
// still queued. That notification is the order's own payment, never an excessive one to refund.
func TestCheckout_Recovery_PlacedByAKilledTask_OwnPaymentIsNotExcessive(t *testing.T) {
	c := twoSeats()
	h := newHarness(t, input(c))
	h.preload(orderFrom(c, &commerce.Payment{Processor: processor, TransactionID: "txn-1", Amount: c.Total, Currency: "USD"}))
	h.pay(0, paid("txn-1"))
	st := h.run()

	assert.Zero(t, h.count("PlaceOrder"))
	assert.Empty(t, st.ExcessivePayments)
	assert.Empty(t, h.paymentRefunds, "the order's own payment is not refunded")
	assert.Empty(t, h.flags)
	require.NotNil(t, st.Payment)
	assert.Equal(t, "txn-1", st.Payment.TransactionID)
	assert.Equal(t, 1, st.IgnoredEvents, "the notification already paid for the order")
	assert.Len(t, h.enrolls, 2)
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// 10. A run that finds its order in Fulfillment Error enrolls only the lines not complete.
func TestCheckout_Recovery_FulfillmentErrorOrderRetriesFailedLinesOnly(t *testing.T) {
	c := twoSeats()
	h := newHarness(t, input(c))
	o := orderFrom(c, nil)
	o.Status = commerce.OrderFulfillmentError
	o.Lines[0].Status, o.Lines[0].FulfillmentAttempts = commerce.LineComplete, 1
	o.Lines[1].Status, o.Lines[1].FulfillmentAttempts, o.Lines[1].FulfillmentError = commerce.LineServerError, 1, "LMS answered 400"
	h.preload(o)
	st := h.run()

	assert.Zero(t, h.count("PlaceOrder"))
	assert.Empty(t, h.enrollsOf(skuVerified))
	assert.Len(t, h.enrollsOf(skuCredit), 1)
	assert.Equal(t, 1, h.count("SendReceipt"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, 2, lineOf(t, st, skuCredit).Attempts)
}

// 10. A run that finds its order Complete does nothing more: no enrollment, no second receipt.
func TestCheckout_Recovery_CompleteOrderDoesNothing(t *testing.T) {
	c := twoSeats()
	h := newHarness(t, input(c))
	o := orderFrom(c, nil)
	o.Status = commerce.OrderComplete
	for i := range o.Lines {
		o.Lines[i].Status, o.Lines[i].FulfillmentAttempts = commerce.LineComplete, 1
	}
	h.preload(o)
	timers := countTimers(h)
	st := h.run()

	assert.Equal(t, 1, h.count("LoadOrder"))
	for _, act := range []string{"PlaceOrder", "Enroll", "FinishFulfillment", "MarkOrderFulfilled", "SendReceipt", "ReopenBasket", "FlagForOps"} {
		assert.Zero(t, h.count(act), act)
	}
	assert.Zero(t, timers())
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, commerce.OrderComplete, st.OrderStatus)
	for _, l := range st.Lines {
		assert.Equal(t, commerce.LineComplete, l.Status, l.SKU)
		assert.Equal(t, 1, l.Attempts, l.SKU)
	}
	assert.Equal(t, []string{fulfilled}, h.searchStates())
}

// 11. The status query shows the order, its total, the payment and the lines while awaiting payment.
func TestCheckout_StatusQuery_WhileAwaitingPayment(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.snap(time.Minute, "initial")
	h.pay(2*time.Minute, notification("txn-0", commerce.PaymentDuplicate))
	h.pay(3*time.Minute, notification("txn-1", commerce.PaymentReview))
	h.snap(4*time.Minute, "review")
	h.pay(5*time.Minute, paid("txn-1"))
	st := h.run()

	initial := h.snapshot("initial").Status
	assert.Equal(t, workflows.Status{
		State: commerce.CheckoutAwaitingPayment, OrderNumber: orderNumber, Total: "149.00", Currency: "USD",
		Lines: []workflows.LineStatus{
			{SKU: skuVerified, CourseID: courseVerified, Mode: "verified", Status: commerce.LineOpen},
			{SKU: skuCredit, CourseID: courseCredit, Mode: "credit", Status: commerce.LineOpen},
		},
	}, initial)

	r := h.snapshot("review").Status
	assert.Equal(t, commerce.CheckoutNeedsAttention, r.State)
	assert.Equal(t, &workflows.PaymentStatus{Processor: processor, TransactionID: "txn-1", Outcome: commerce.PaymentReview,
		Amount: "149.00", Currency: "USD"}, r.Payment)
	assert.Equal(t, 1, r.IgnoredEvents)
	assert.Len(t, r.Lines, 2)

	// A finished checkout still answers the query with its result.
	final := h.query()
	require.NoError(t, final.Err)
	assert.Equal(t, st, final.Status)
	assert.Equal(t, commerce.CheckoutFulfilled, final.Status.State)
}

// ---------------------------------------------------------------------------------------------
// Bugs (skipped; run with WORKFLOWS_RUN_BUG_TESTS=1 to see them fail).

// After an accepted payment is flagged (money captured, amount wrong), a decline of another
// attempt ends the checkout as PaymentDeclined and reopens the basket: the captured payment
// is no longer NeedsAttention for ops, and the learner can pay again.
func TestCheckout_DeclineAfterFlaggedPaymentKeepsWaitingForOps(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	short := paid("txn-1")
	short.Amount = money("100.00")
	h.pay(time.Minute, short)
	h.pay(2*time.Minute, notification("txn-2", commerce.PaymentDeclined))
	h.snap(3*time.Minute, "after-decline")
	h.ops(4*time.Minute, workflows.OpsMarkFulfilled, "")
	st := h.run()

	assert.Zero(t, h.count("ReopenBasket"), "no new basket while a captured payment waits for ops")
	assert.NotEqual(t, commerce.CheckoutPaymentDeclined, st.State, "the checkout is not closed as declined")
	if s, ok := h.snapshots["after-decline"]; assert.True(t, ok, "the checkout still runs after the decline") {
		assert.Equal(t, commerce.CheckoutNeedsAttention, s.Status.State, "the captured payment still needs ops")
	}
	if assert.Len(t, h.places, 1, "ops can still accept the flagged payment") {
		assertPayment(t, short, h.places[0].In.Payment)
	}
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// DESIGN.md §4: CheckoutStatus moves through AwaitingPayment, Paid, Fulfilling, Fulfilled. Since
// versionFewEvents, Fulfilling is written only when an enrollment waits for a retry
// (TestCheckout_RetryableEnrollmentFailure_RetriedByPolicy): a purchase whose seats are enrolled
// in the task that placed the order goes AwaitingPayment (set at the start), Paid, Fulfilled, and
// the status query still shows Fulfilling.
func TestCheckout_SearchAttributeWrittenForStatesTheCheckoutRestsIn(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.pay(time.Minute, paid("txn-1"))
	st := h.run()

	assert.Equal(t, []string{paidState, fulfilled}, h.searchStates())
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// Notifications that arrive once a payment is accepted (repeats, or a second payment) are never
// read: not counted in IgnoredEvents, and left as unhandled signals when the workflow ends.
func TestCheckout_NotificationsAfterAcceptanceAreCounted(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.pay(time.Minute, paid("txn-1"), paid("txn-1"), paid("txn-1"))
	st := h.run()

	assert.Equal(t, 1, h.count("PlaceOrder"))
	assert.Equal(t, 2, st.IgnoredEvents, "both repeats counted")
	assert.False(t, h.log.contains("unhandled signals"), "every notification is read")
}

// A line of a class the workflow cannot fulfil (only seats today) is not marked done: as in
// edX, the order ends in Fulfillment Error and ops decide.
func TestCheckout_UnsupportedLineNeedsAttention(t *testing.T) {
	entitlement := seat("SKU-ENT", "", "", "", "100.00")
	entitlement.Class = commerce.ClassCourseEntitlement
	c := newCheckout(seat(skuVerified, courseVerified, "verified", "", "49.00"), entitlement)
	h := newHarness(t, input(c))
	n := paid("txn-1")
	h.pay(time.Minute, n)
	h.snap(5*time.Minute, "after-fulfillment")
	h.ops(10*time.Minute, workflows.OpsMarkFulfilled, "")
	h.run()

	assert.Len(t, h.enrolls, 1, "only the seat is enrolled")
	assert.Equal(t, skuVerified, h.enrolls[0].In.SKU)
	assert.Equal(t, commerce.CheckoutNeedsAttention, h.snapshot("after-fulfillment").Status.State)
	assert.Equal(t, 1, h.count("MarkOrderFulfilled"))
}

// A second, different accepted payment after the order's payment is excessive: flagged on the
// order and refunded at once through its own refund workflow, once however often it repeats.
func TestCheckout_SecondAcceptedPaymentIsExcessive(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.pay(time.Minute, paid("txn-1"), paid("txn-2"), paid("txn-2"))
	st := h.run()

	assert.Equal(t, 1, h.count("PlaceOrder"))
	assert.Equal(t, "txn-1", st.Payment.TransactionID)
	assert.Equal(t, []string{"txn-2"}, st.ExcessivePayments)
	assert.Equal(t, 1, st.IgnoredEvents, "the repeat of the excessive payment")
	require.Len(t, h.paymentRefunds, 1)
	assert.Equal(t, "txn-2", h.paymentRefunds[0].Reference)
	assert.Equal(t, "149.00", commerce.FormatMoney(h.paymentRefunds[0].Total))
	require.Len(t, h.refundRuns, 1)
	assert.Equal(t, deployment, h.refundRuns[0].Deployment)
	require.NotEmpty(t, h.flags)
	for _, f := range h.flags {
		assert.True(t, f.Note, "noted on the order")
		assert.Contains(t, f.Reason, "txn-2")
		assert.Contains(t, f.Reason, "refunded automatically")
	}
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.NotContains(t, h.searchStates(), needsAttention, "nothing for ops to do")
}

// A run started for an order already fulfilled by a second, different payment (the callback of
// a payment arriving after the workflow completed) refunds it and ends.
func TestCheckout_ExcessivePaymentAfterTheWorkflowEnded_ReachesOps(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	o := orderFrom(twoSeats(), &commerce.Payment{Processor: processor, TransactionID: "txn-1", Amount: money("149.00"), Currency: "USD"})
	o.Status = commerce.OrderComplete
	h.preload(o)
	h.pay(0, paid("txn-1"), paid("txn-9"))
	st := h.run()

	assert.Zero(t, h.count("PlaceOrder"))
	assert.Zero(t, h.count("Enroll"))
	assert.Equal(t, []string{"txn-9"}, st.ExcessivePayments)
	assert.Equal(t, 1, st.IgnoredEvents, "the order's own payment, repeated")
	require.Len(t, h.paymentRefunds, 1)
	assert.Equal(t, "txn-9", h.paymentRefunds[0].Reference)
	require.NotEmpty(t, h.flags)
	assert.Contains(t, h.flags[0].Reason, "txn-9")
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// An order refused because the learner already owns a seat (a late payment for an expired
// checkout whose seat was bought again) is not placed twice: ops are asked to refund it.
func TestCheckout_SeatAlreadyOwned_AsksOpsToRefund(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.placeErr = func(activities.PlaceOrderInput) error {
		return temporal.NewNonRetryableApplicationError("The learner already owns a seat in this basket.: alice already owns SKU-VERIFIED (order EDX-100041)", activities.ErrTypeAlreadyOwned, nil)
	}
	h.pay(time.Minute, paid("txn-1"))
	h.snap(2*time.Minute, "waiting for ops")
	h.ops(3*time.Minute, workflows.OpsMarkFulfilled, "refunded txn-1")
	st := h.run()

	assert.Equal(t, 1, h.count("PlaceOrder"))
	assert.Zero(t, h.count("Enroll"))
	snap := h.snapshot("waiting for ops").Status
	assert.Equal(t, commerce.CheckoutNeedsAttention, snap.State)
	assert.Contains(t, snap.LastError, "EDX-100041")
	assert.Contains(t, snap.LastError, "txn-1")
	require.Len(t, h.flags, 1)
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	require.Len(t, h.reopens, 1, "the refused order's reservations are released")
	assert.Equal(t, activities.ReopenInput{Deployment: deployment, OrderNumber: orderNumber, BasketID: basketID, Status: commerce.CheckoutFulfilled}, h.reopens[0].In)
}

// An accepted payment delivered together with a decline of an earlier attempt is not dropped:
// the order is placed (the learner also got a new basket, as after any late payment).
func TestCheckout_AcceptedDeliveredWithADeclineIsPlaced(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.pay(2*time.Minute, notification("txn-1", commerce.PaymentDeclined), paid("txn-2"))
	st := h.run()
	assert.Equal(t, 1, h.count("PlaceOrder"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
	assert.Equal(t, "txn-2", st.Payment.TransactionID)
	assert.False(t, h.log.contains("unhandled signals"))
}

// An accepted payment arriving the instant the payment timer fires is not dropped.
func TestCheckout_AcceptedAtTheTimeoutIsPlaced(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	h.pay(paymentTimeout, paid("txn-1"))
	st := h.run()
	assert.Equal(t, 1, h.count("PlaceOrder"))
	assert.Equal(t, commerce.CheckoutFulfilled, st.State)
}

// A correct payment after a mismatched one that also took money: the first is excessive.
func TestCheckout_FlaggedPaymentBecomesExcessiveWhenAnotherPays(t *testing.T) {
	h := newHarness(t, input(twoSeats()))
	wrong := paid("txn-1")
	wrong.Amount = money("1.00")
	h.pay(time.Minute, wrong)
	h.pay(2*time.Minute, paid("txn-2"))
	h.ops(time.Hour, workflows.OpsMarkFulfilled, "txn-1 refunded")
	st := h.run()
	assert.Equal(t, "txn-2", st.Payment.TransactionID)
	assert.Equal(t, []string{"txn-1"}, st.ExcessivePayments)
}

// flaggedOrders lists the order numbers of FlagForOps calls.
func flaggedOrders(flags []activities.FlagInput) []string {
	var out []string
	for _, f := range flags {
		out = append(out, f.OrderNumber)
	}
	return out
}
