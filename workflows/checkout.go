package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/commerce"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// a is the nil receiver through which the workflow names its activities.
var a *activities.Activities

// errRefundedByOps ends a fulfillment that an operator refunded instead (not a failure).
var errRefundedByOps = errors.New("the order was refunded by an operator")

// CheckoutInput starts a checkout: the frozen basket and the limits of this deployment.
type CheckoutInput struct {
	Checkout commerce.Checkout `json:"checkout"`
	// PaymentTimeout is how long the learner has to pay before the checkout expires.
	PaymentTimeout time.Duration `json:"payment_timeout"`
	// FulfillmentRetryLimit bounds the retries of one enrollment before ops are asked.
	FulfillmentRetryLimit time.Duration `json:"fulfillment_retry_limit"`
	// Deployment is the identity of the database the checkout belongs to; activities of another
	// deployment refuse the work.
	Deployment string `json:"deployment"`
}

// PaymentStatus is the payment as the status query shows it.
type PaymentStatus struct {
	Processor     string                  `json:"processor"`
	TransactionID string                  `json:"transaction_id"`
	Outcome       commerce.PaymentOutcome `json:"outcome"`
	Amount        string                  `json:"amount"`
	Currency      string                  `json:"currency"`
}

// LineStatus is one order line's fulfillment as the status query shows it.
type LineStatus struct {
	SKU       string              `json:"sku"`
	CourseID  string              `json:"course_id"`
	Mode      string              `json:"mode"`
	Status    commerce.LineStatus `json:"status"`
	Attempts  int                 `json:"attempts"`
	LastError string              `json:"last_error,omitempty"`
}

// Status is the answer of the status query, and the workflow's result.
type Status struct {
	State         commerce.CheckoutStatus `json:"state"`
	OrderNumber   string                  `json:"order_number"`
	Total         string                  `json:"total"`
	Currency      string                  `json:"currency"`
	Payment       *PaymentStatus          `json:"payment,omitempty"`
	OrderStatus   commerce.OrderStatus    `json:"order_status,omitempty"`
	Lines         []LineStatus            `json:"lines"`
	LastError     string                  `json:"last_error,omitempty"`
	NewBasketID   int64                   `json:"new_basket_id,omitempty"`
	IgnoredEvents int                     `json:"ignored_notifications"`
	// ExcessivePayments lists accepted payments received after the order's payment (to refund).
	ExcessivePayments []string `json:"excessive_payments,omitempty"`
	// Refunds lists the refunds this checkout started (excessive payments, ops refunds).
	Refunds []int64 `json:"refunds,omitempty"`
}

// checkout is the workflow's state.
type checkout struct {
	in CheckoutInput
	// version and version2 are the workflow's versions (see versionOpsSeeEveryPayment and
	// versionPaymentsReadWhileWaiting).
	version  workflow.Version
	version2 workflow.Version
	version3 workflow.Version
	version4 workflow.Version
	// fewEvents is versionFewEvents: every gate above is passed, and the work is done in as few
	// workflow tasks, markers and upserts as it can be.
	fewEvents bool
	// handledExcessive counts the excessive payments ops have closed (or, from version3, that
	// were refunded); refundsStarting counts the refunds being started by other coroutines.
	handledExcessive int
	refundsStarting  int
	status           Status
	seen             map[string]bool
	logger           log.Logger
	payCh            workflow.ReceiveChannel
	opsCh            workflow.ReceiveChannel
}

// CheckoutWorkflow takes a frozen basket from payment to a fulfilled order: it waits for the
// processor's notification (or the payment timeout), places the order exactly once, enrolls the
// learner with retries, asks operations staff when something cannot be fixed by retrying, and
// sends the receipt.
func CheckoutWorkflow(ctx workflow.Context, in CheckoutInput) (Status, error) {
	wf := &checkout{in: in, seen: map[string]bool{}}
	if err := wf.setup(ctx); err != nil {
		return wf.status, err
	}
	status, err := wf.run(ctx)
	if err == nil { // the SDK's handler emits nothing during replay: no command, no version gate
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"state": string(status.State)}).Counter(MetricCheckoutOutcomes).Inc(1)
	}
	return status, err
}

func (wf *checkout) setup(ctx workflow.Context) error {
	c := wf.in.Checkout
	wf.logger = log.With(workflow.GetLogger(ctx), "order_number", c.OrderNumber, "username", c.Username)
	wf.status = Status{State: commerce.CheckoutAwaitingPayment, OrderNumber: c.OrderNumber,
		Total: commerce.FormatMoney(c.Total), Currency: c.Currency, Lines: []LineStatus{}}
	for _, l := range c.Lines {
		wf.status.Lines = append(wf.status.Lines, LineStatus{SKU: l.SKU, CourseID: l.CourseID, Mode: l.Mode, Status: commerce.LineOpen})
	}
	wf.payCh = workflow.GetSignalChannel(ctx, SignalPaymentNotification)
	wf.opsCh = workflow.GetSignalChannel(ctx, SignalOpsAction)
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return wf.status, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	return nil
}

func (wf *checkout) run(ctx workflow.Context) (Status, error) {
	c := wf.in.Checkout
	// A checkout started on this code records one marker; one started before it replays its own.
	wf.fewEvents = workflow.GetVersion(ctx, versionFewEvents, workflow.DefaultVersion, 1) >= 1
	if wf.fewEvents {
		wf.version, wf.version2, wf.version3, wf.version4 = 1, 1, 1, 1
	} else {
		wf.version = workflow.GetVersion(ctx, versionOpsSeeEveryPayment, workflow.DefaultVersion, 1)
		wf.version2 = workflow.GetVersion(ctx, versionPaymentsReadWhileWaiting, workflow.DefaultVersion, 1)
		wf.version3 = workflow.GetVersion(ctx, versionRefunds, workflow.DefaultVersion, 1)
		wf.version4 = workflow.GetVersion(ctx, versionOpsNotes, workflow.DefaultVersion, 1)
	}
	var state activities.OrderState
	ref := activities.OrderRef{OrderNumber: c.OrderNumber, Deployment: wf.in.Deployment}
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.LoadOrder, ref).Get(ctx, &state); err != nil {
		return wf.status, fmt.Errorf("load order %s: %w", c.OrderNumber, err)
	}
	order := state.Order
	if !state.Placed {
		var payment *commerce.Payment
		if !c.IsFree() {
			var done bool
			payment, done = wf.awaitPayment(ctx)
			if done {
				return wf.status, nil
			}
		}
		var placed bool
		var err error
		if order, placed, err = wf.placeOrder(ctx, payment); err != nil || !placed {
			return wf.status, err
		}
		// Written even when the fulfillment follows in the same task: should that task stall (a
		// database outage under a local activity), the heartbeat that keeps it alive publishes
		// Paid, and ops never see a paid checkout as AwaitingPayment.
		wf.recordState(ctx, commerce.CheckoutPaid, "")
	} else if !order.Fulfillable() {
		// A run started for an order that is already fulfilled: a late duplicate, or a second
		// payment for the order (excessive), which ops must see.
		wf.syncLines(order)
		if wf.version >= 1 {
			wf.adoptOrderPayment(order)
			wf.drainLatePayments(ctx)
			wf.awaitExcessiveHandled(ctx)
			wf.closeLateExcessive(ctx)
		}
		wf.recordState(ctx, commerce.CheckoutFulfilled, "")
		return wf.status, nil
	} else {
		wf.logger.Info("order already placed; resuming fulfillment", "order_status", order.Status)
		// The order may have been placed by this run's own task whose worker died before the
		// task completed: its payment's notification is then still queued, and must count as
		// the order's payment, not as an excessive one (asked only here, so that other runs'
		// histories carry no marker for it).
		if wf.fewEvents || workflow.GetVersion(ctx, versionResumeAdoptsPayment, workflow.DefaultVersion, 1) >= 1 {
			wf.adoptOrderPayment(order)
		}
	}
	wf.syncLines(order)
	workflow.Go(ctx, wf.watchLatePayments)
	if err := wf.fulfil(ctx, order); errors.Is(err, errRefundedByOps) {
		wf.settleLatePayments(ctx)
		return wf.status, nil
	} else if err != nil {
		return wf.status, err
	}
	if wf.version >= 1 {
		wf.awaitExcessiveHandled(ctx)
	}
	wf.recordState(ctx, commerce.CheckoutFulfilled, "")
	wf.status.OrderStatus = commerce.OrderComplete
	wf.sendReceipt(ctx)
	wf.drainLatePayments(ctx)
	if wf.closeLateExcessive(ctx) {
		wf.recordState(ctx, commerce.CheckoutFulfilled, "")
	}
	return wf.status, nil
}

// closeLateExcessive (from version2) waits for ops again when excessive payments arrived after
// the last wait (during the receipt, or while ops were closing the case); it reports whether it
// waited.
func (wf *checkout) closeLateExcessive(ctx workflow.Context) bool {
	waited := false
	for wf.version2 >= 1 && len(wf.status.ExcessivePayments) > wf.handledExcessive {
		wf.awaitExcessiveHandled(ctx)
		wf.drainLatePayments(ctx)
		waited = wf.version3 < 1 // refunded payments never put the checkout in NeedsAttention
	}
	return waited
}

// placeOrder places the order for payment. When the learner already owns one of its seats (a
// second order for a seat), no order is placed: ops are asked to refund the payment, and the
// run ends once they close the case (placed false), or places the order if they ask to retry.
func (wf *checkout) placeOrder(ctx workflow.Context, payment *commerce.Payment) (commerce.Order, bool, error) {
	c := wf.in.Checkout
	in := activities.PlaceOrderInput{Checkout: c, Payment: payment, Deployment: wf.in.Deployment}
	for {
		var order commerce.Order
		err := workflow.ExecuteLocalActivity(localCtx(ctx), a.PlaceOrder, in).Get(ctx, &order)
		if err == nil {
			return order, true, nil
		}
		var appErr *temporal.ApplicationError
		if wf.version < 1 || !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeAlreadyOwned {
			return order, false, fmt.Errorf("place order %s: %w", c.OrderNumber, err)
		}
		reason := fmt.Sprintf("No order placed: %s Refund the payment%s.", appErr.Message(), paymentRef(payment))
		wf.recordState(ctx, commerce.CheckoutNeedsAttention, reason)
		action := wf.awaitOps(ctx)
		if action.Action == OpsRefund && payment != nil {
			wf.refundPayment(ctx, notificationOf(*payment), "No order placed (the learner already owned a seat of it): "+action.Note)
			wf.releaseUnplacedBasket(ctx)
			wf.closeRefunded(ctx, action)
			wf.settleLatePayments(ctx)
			return order, false, nil
		}
		if action.Action == OpsMarkFulfilled {
			wf.closeByOps(ctx, action)
			if wf.version2 >= 1 {
				wf.releaseUnplacedBasket(ctx)
			}
			wf.recordState(ctx, commerce.CheckoutFulfilled, "")
			wf.settleLatePayments(ctx)
			return order, false, nil
		}
	}
}

// releaseUnplacedBasket releases what the frozen basket of a refused order reserved (voucher and
// offer budgets): its lines go back to the learner's open basket, minus the seats they own.
func (wf *checkout) releaseUnplacedBasket(ctx workflow.Context) {
	c := wf.in.Checkout
	in := activities.ReopenInput{OrderNumber: c.OrderNumber, BasketID: c.BasketID, Status: commerce.CheckoutFulfilled, Deployment: wf.in.Deployment}
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.ReopenBasket, in).Get(ctx, nil); err != nil {
		wf.logger.Error("cannot release the reservations of the refused order's basket", "error", err)
	}
}

// paymentRef names a payment in a reason for ops (" of <processor> transaction <id> (<amount>)").
func paymentRef(p *commerce.Payment) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf(" of %s transaction %s (%s %s)", p.Processor, p.TransactionID, commerce.FormatMoney(p.Amount), p.Currency)
}

// adoptOrderPayment takes the order's recorded payment as the checkout's payment (a new run for
// a placed order), so that only a different payment counts as excessive.
func (wf *checkout) adoptOrderPayment(o commerce.Order) {
	if wf.status.Payment != nil || o.Payment == nil {
		return
	}
	wf.status.Payment = &PaymentStatus{Processor: o.Payment.Processor, TransactionID: o.Payment.Reference,
		Outcome: commerce.PaymentAccepted, Amount: commerce.FormatMoney(o.Payment.AmountDebited), Currency: o.Payment.Currency}
}

// awaitExcessiveHandled keeps a checkout that received excessive payments in NeedsAttention
// until ops close it (mark-fulfilled, once the extra payments are refunded).
func (wf *checkout) awaitExcessiveHandled(ctx workflow.Context) {
	if wf.version3 >= 1 {
		// Excessive payments are refunded by their own workflows: wait only until those started.
		_ = workflow.Await(ctx, func() bool { return wf.refundsStarting == 0 })
		return
	}
	for len(wf.status.ExcessivePayments) > wf.handledExcessive {
		wf.recordState(ctx, commerce.CheckoutNeedsAttention, wf.excessiveReason())
		if action := wf.awaitOps(ctx); action.Action == OpsMarkFulfilled {
			wf.closeByOps(ctx, action)
			wf.handledExcessive = len(wf.status.ExcessivePayments)
			return
		}
	}
}

// excessiveReason tells ops which payments to refund.
func (wf *checkout) excessiveReason() string {
	return fmt.Sprintf("Excessive payment: order %s was paid again by transaction(s) %s; refund them, then send mark-fulfilled.",
		wf.in.Checkout.OrderNumber, strings.Join(wf.status.ExcessivePayments, ", "))
}

// noteOps records (from version4) an operator's action on the order: who did what and why.
func (wf *checkout) noteOps(ctx workflow.Context, ops OpsAction) {
	if wf.version4 < 1 {
		return
	}
	by := ops.By
	if by == "" {
		by = "an operator"
	}
	msg := fmt.Sprintf("Ops action %s by %s", ops.Action, by)
	if ops.Note != "" {
		msg += ": " + ops.Note
	}
	in := activities.NoteInput{OrderNumber: wf.in.Checkout.OrderNumber, Type: "Info", Message: msg, Deployment: wf.in.Deployment}
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.NoteOrder, in).Get(ctx, nil); err != nil {
		wf.logger.Error("cannot note the ops action on the order", "error", err)
	}
}

// notificationOf is the accepted notification of a payment (to refund it).
func notificationOf(p commerce.Payment) commerce.PaymentNotification {
	return commerce.PaymentNotification{Processor: p.Processor, TransactionID: p.TransactionID, Outcome: commerce.PaymentAccepted,
		Amount: p.Amount, Currency: p.Currency}
}

// closeRefunded ends a checkout whose payment an operator refunded.
func (wf *checkout) closeRefunded(ctx workflow.Context, action OpsAction) {
	wf.logger.Info("checkout refunded by an operator", "note", action.Note)
	wf.recordState(ctx, commerce.CheckoutRefunded, "")
	_ = workflow.ExecuteLocalActivity(localCtx(ctx), a.SetCheckoutStatus, wf.in.Checkout.OrderNumber, commerce.CheckoutRefunded).Get(ctx, nil)
}

// refundOrder refunds a placed order whole (its lines, and the enrollments made) through refund
// workflows, as an operator asked.
func (wf *checkout) refundOrder(ctx workflow.Context, order commerce.Order, action OpsAction) {
	c := wf.in.Checkout
	var ids []int64
	in := activities.OrderRefundInput{OrderNumber: c.OrderNumber, UserID: c.UserID, Username: c.Username, Deployment: wf.in.Deployment}
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.CreateOrderRefund, in).Get(ctx, &ids); err != nil {
		wf.logger.Error("cannot create the refund of the order", "error", err)
		return
	}
	for _, id := range ids {
		wf.startRefund(ctx, commerce.Refund{ID: id, OrderNumber: c.OrderNumber, Username: c.Username, Total: order.TotalInclTax,
			Currency: order.Currency, Status: commerce.RefundOpen}, true)
		wf.status.Refunds = append(wf.status.Refunds, id)
	}
	wf.closeRefunded(ctx, action)
}

// closeByOps records in the database that an operator closed a checkout that needed attention;
// the caller then sets the final state.
func (wf *checkout) closeByOps(ctx workflow.Context, action OpsAction) {
	wf.logger.Info("checkout closed by an operator", "note", action.Note)
	_ = workflow.ExecuteLocalActivity(localCtx(ctx), a.SetCheckoutStatus, wf.in.Checkout.OrderNumber, commerce.CheckoutFulfilled).Get(ctx, nil)
}

// awaitPayment waits for an acceptable payment. It returns done when the checkout ended without
// one (declined, cancelled, expired or refunded: the learner gets a new basket).
func (wf *checkout) awaitPayment(ctx workflow.Context) (*commerce.Payment, bool) {
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	if !wf.fewEvents {
		// Since versionFewEvents a paid checkout leaves its timer to fire unheard: a cancellation
		// is one more command, and the checkout usually completes long before.
		defer cancelTimer()
	}
	w := &paymentWait{timer: workflow.NewTimer(timerCtx, wf.in.PaymentTimeout), timerLive: true, cancelTimer: cancelTimer}
	for {
		var (
			p    *commerce.Payment
			over bool
		)
		switch ev := wf.nextEvent(ctx, w); {
		case ev.expired:
			p, over = wf.endUnpaid(ctx, commerce.CheckoutPaymentExpired, "No payment arrived within "+wf.in.PaymentTimeout.String()+"."), true
		case ev.ops != nil:
			p, over = wf.onOpsWhileUnpaid(ctx, w, *ev.ops)
		case ev.payment != nil:
			p, over = wf.onPayment(ctx, w, *ev.payment)
		} // else: the cancelled timer fired; nothing to do
		if over {
			return p, p == nil
		}
	}
}

// paymentWait is awaitPayment's state: the payment timer, and the payment ops must look at.
type paymentWait struct {
	timer       workflow.Future
	timerLive   bool
	cancelTimer workflow.CancelFunc
	// flagged is an accepted (mismatched) or REVIEW payment that ops must look at.
	flagged *commerce.PaymentNotification
}

// stopTimer stops the payment timer: a flagged payment waits for ops, however long.
func (w *paymentWait) stopTimer() {
	w.cancelTimer()
	w.timerLive = false
}

// waitEvent is what ended one wait: the timer, an ops action or a payment notification.
type waitEvent struct {
	expired bool
	ops     *OpsAction
	payment *commerce.PaymentNotification
}

// nextEvent waits for the next payment notification, ops action or the payment timeout.
func (wf *checkout) nextEvent(ctx workflow.Context, w *paymentWait) waitEvent {
	var ev waitEvent
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(wf.payCh, func(ch workflow.ReceiveChannel, _ bool) {
		var n commerce.PaymentNotification
		ch.Receive(ctx, &n)
		ev.payment = &n
	})
	sel.AddReceive(wf.opsCh, func(ch workflow.ReceiveChannel, _ bool) {
		var ops OpsAction
		ch.Receive(ctx, &ops)
		ev.ops = &ops
	})
	if w.timerLive {
		sel.AddFuture(w.timer, func(f workflow.Future) {
			ev.expired = f.Get(ctx, nil) == nil
			w.timerLive = false
		})
	}
	sel.Select(ctx)
	return ev
}

// onOpsWhileUnpaid answers an ops action before any payment was placed: refund or accept the
// flagged payment; anything else is ignored.
func (wf *checkout) onOpsWhileUnpaid(ctx workflow.Context, w *paymentWait, ops OpsAction) (*commerce.Payment, bool) {
	if w.flagged != nil && (ops.Action == OpsMarkFulfilled || (wf.version3 >= 1 && ops.Action == OpsRefund)) {
		wf.noteOps(ctx, ops)
	}
	switch {
	case w.flagged != nil && wf.version3 >= 1 && ops.Action == OpsRefund:
		wf.refundPayment(ctx, *w.flagged, "Refunded by an operator: "+ops.Note)
		wf.endWithoutPayment(ctx, commerce.CheckoutRefunded, "The flagged payment was refunded by an operator.")
		if wf.fewEvents {
			// A payment that arrived while the refund started still pays for the checkout.
			return wf.lastChancePayment(ctx), true
		}
		return nil, true
	case w.flagged != nil && ops.Action == OpsMarkFulfilled:
		wf.logger.Info("operator accepted a flagged payment", "transaction_id", w.flagged.TransactionID)
		return wf.accept(*w.flagged), true
	}
	wf.logger.Info("ops action ignored while awaiting payment", "action", ops.Action)
	return nil, false
}

// onPayment answers a payment notification: a payment to place, a payment for ops to look at,
// or the end of the checkout (declined, cancelled, error); repeats are counted and ignored.
func (wf *checkout) onPayment(ctx workflow.Context, w *paymentWait, n commerce.PaymentNotification) (*commerce.Payment, bool) {
	key := notificationKey(n)
	if wf.seen[key] || n.Outcome == commerce.PaymentDuplicate {
		wf.status.IgnoredEvents++
		wf.logger.Info("duplicate payment notification ignored", "transaction_id", n.TransactionID, "outcome", n.Outcome)
		return nil, false
	}
	wf.seen[key] = true
	wf.status.Payment = &PaymentStatus{Processor: n.Processor, TransactionID: n.TransactionID, Outcome: n.Outcome,
		Amount: commerce.FormatMoney(n.Amount), Currency: n.Currency}
	switch n.Outcome {
	case commerce.PaymentAccepted:
		return wf.onAccepted(ctx, w, n)
	case commerce.PaymentReview:
		w.flagged = &n
		w.stopTimer()
		wf.recordState(ctx, commerce.CheckoutNeedsAttention, "The processor holds the payment for review: "+n.Message)
		return nil, false
	}
	// declined, cancelled, error
	if w.flagged != nil && wf.holdsMoney(*w.flagged) && w.flagged.TransactionID != n.TransactionID {
		// Money was (or may be) taken by the flagged payment: a later failed attempt does not
		// end the checkout; ops decide.
		wf.logger.Info("payment attempt failed after a flagged payment; still waiting for ops", "outcome", n.Outcome)
		return nil, false
	}
	return wf.endUnpaid(ctx, commerce.CheckoutPaymentDeclined, fmt.Sprintf("Payment %s: %s", n.Outcome, n.Message)), true
}

// onAccepted answers an accepted payment: placed when it pays for the checkout, else flagged for
// ops (a flagged payment that took money becomes excessive once another one pays).
func (wf *checkout) onAccepted(ctx workflow.Context, w *paymentWait, n commerce.PaymentNotification) (*commerce.Payment, bool) {
	if problem := mismatch(wf.in.Checkout, n); problem != "" {
		w.flagged = &n
		w.stopTimer()
		wf.recordState(ctx, commerce.CheckoutNeedsAttention, problem)
		return nil, false
	}
	if w.flagged != nil && w.flagged.Outcome == commerce.PaymentAccepted && w.flagged.TransactionID != n.TransactionID {
		wf.addExcessive(ctx, *w.flagged)
	}
	return wf.accept(n), true
}

// endUnpaid ends the checkout without payment (the learner gets a new basket), unless an
// accepted payment for it is already queued: it returns that payment to place, or nil.
func (wf *checkout) endUnpaid(ctx workflow.Context, state commerce.CheckoutStatus, reason string) *commerce.Payment {
	if p := wf.lastChancePayment(ctx); p != nil {
		return p
	}
	wf.endWithoutPayment(ctx, state, reason)
	return wf.lastChancePayment(ctx)
}

// holdsMoney reports whether a flagged payment took (or, under review, may take) money, so that a
// failed or cancelled attempt must not end the checkout; from version2 a payment under review
// counts too.
func (wf *checkout) holdsMoney(n commerce.PaymentNotification) bool {
	return n.Outcome == commerce.PaymentAccepted || (wf.version2 >= 1 && n.Outcome == commerce.PaymentReview)
}

// notificationKey names a notification as the checkout counts repeats: processor, transaction
// and outcome.
func notificationKey(n commerce.PaymentNotification) string {
	return n.Processor + "/" + n.TransactionID + "/" + string(n.Outcome)
}

// mismatch explains why an accepted payment does not pay for this checkout, or returns "".
func mismatch(c commerce.Checkout, n commerce.PaymentNotification) string {
	switch {
	case n.OrderNumber != c.OrderNumber:
		return fmt.Sprintf("Payment %s references %q, not %s.", n.TransactionID, n.OrderNumber, c.OrderNumber)
	case n.Currency != c.Currency:
		return fmt.Sprintf("Payment %s is in %s; the basket is in %s.", n.TransactionID, n.Currency, c.Currency)
	case !n.Amount.Equal(c.Total):
		return fmt.Sprintf("Payment %s is %s %s; the basket totals %s.", n.TransactionID, commerce.FormatMoney(n.Amount), n.Currency, commerce.FormatMoney(c.Total))
	}
	return ""
}

func (wf *checkout) accept(n commerce.PaymentNotification) *commerce.Payment {
	return &commerce.Payment{Processor: n.Processor, TransactionID: n.TransactionID, Amount: n.Amount,
		Currency: n.Currency, CardType: n.CardType, Label: n.Label}
}

// endWithoutPayment gives the learner a new basket with the same lines and ends the checkout.
func (wf *checkout) endWithoutPayment(ctx workflow.Context, state commerce.CheckoutStatus, reason string) {
	wf.recordState(ctx, state, reason)
	c := wf.in.Checkout
	var basketID int64
	err := workflow.ExecuteLocalActivity(localCtx(ctx), a.ReopenBasket,
		activities.ReopenInput{OrderNumber: c.OrderNumber, BasketID: c.BasketID, Status: state, Deployment: wf.in.Deployment}).Get(ctx, &basketID)
	if err != nil {
		wf.logger.Error("cannot reopen the basket", "error", err)
		return
	}
	wf.status.NewBasketID = basketID
}

// fulfil enrolls every seat line that is not complete, and asks ops when a line cannot be.
func (wf *checkout) fulfil(ctx workflow.Context, order commerce.Order) error {
	c := wf.in.Checkout
	for pass := 0; ; pass++ {
		// Actions queued before this pass (e.g. the retry that started a recovering run) are
		// answered by the pass itself; a queued mark-fulfilled is kept for after it.
		queued := wf.drainOps()
		failures := map[string]string{}
		if wf.fewEvents && pass == 0 {
			// Each seat is first enrolled by a local activity, in this task: only what must wait
			// for a retry shows as Fulfilling.
			wf.enrollLocally(ctx, order, failures)
			if wf.hasOpenLines(failures) {
				wf.recordState(ctx, commerce.CheckoutFulfilling, "")
			}
		} else {
			wf.recordState(ctx, commerce.CheckoutFulfilling, "")
		}
		type pending struct {
			index  int
			future workflow.Future
		}
		var futures []pending
		for i, l := range c.Lines {
			if wf.status.Lines[i].Status == commerce.LineComplete || failures[l.SKU] != "" {
				continue
			}
			if l.Class == commerce.ClassEnrollmentCode {
				f := workflow.ExecuteActivity(codesCtx(ctx), a.CreateEnrollmentCodes, activities.EnrollmentCodesInput{OrderNumber: c.OrderNumber, SKU: l.SKU, Deployment: wf.in.Deployment})
				futures = append(futures, pending{index: i, future: f})
				continue
			}
			if l.Class != commerce.ClassSeat {
				continue
			}
			f := workflow.ExecuteActivity(wf.enrollCtx(ctx), a.Enroll, wf.enrollInput(l, order))
			futures = append(futures, pending{index: i, future: f})
		}
		for _, p := range futures {
			if err := p.future.Get(ctx, nil); err != nil {
				status, msg := lineFailure(err)
				failures[c.Lines[p.index].SKU] = msg
				wf.status.Lines[p.index].Status = status
			}
		}
		if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.FinishFulfillment, c.OrderNumber).Get(ctx, &order); err != nil {
			return fmt.Errorf("finish fulfillment of %s: %w", c.OrderNumber, err)
		}
		wf.syncLines(order)
		for i := range wf.status.Lines {
			if msg, ok := failures[wf.status.Lines[i].SKU]; ok {
				wf.status.Lines[i].LastError = msg
			}
		}
		if order.Status == commerce.OrderComplete {
			return nil
		}
		// The order notes say why each line failed; the flag adds no note of its own.
		wf.recordStateNoted(ctx, commerce.CheckoutNeedsAttention, "Fulfillment failed; waiting for an ops-action signal (retry or mark-fulfilled).", false)
		action := queued
		if action.Action != OpsMarkFulfilled {
			action = wf.awaitOps(ctx)
		}
		if action.Action == OpsRefund {
			wf.refundOrder(ctx, order, action)
			return errRefundedByOps
		}
		if action.Action == OpsMarkFulfilled {
			if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.MarkOrderFulfilled,
				activities.MarkFulfilledInput{OrderNumber: c.OrderNumber, Note: action.Note, Deployment: wf.in.Deployment}).Get(ctx, &order); err != nil {
				return fmt.Errorf("mark %s fulfilled: %w", c.OrderNumber, err)
			}
			wf.syncLines(order)
			return nil
		}
	}
}

// enrollLocallyTimeout bounds an enrollment tried in the worker's process (the LMS call times
// out after 7 s).
const enrollLocallyTimeout = 10 * time.Second

// sendReceipt emails the receipt; a failure is logged, never the checkout's. Since
// versionFewEvents it is tried once as a local activity first.
func (wf *checkout) sendReceipt(ctx workflow.Context) {
	number := wf.in.Checkout.OrderNumber
	if wf.fewEvents {
		err := workflow.ExecuteLocalActivity(onceLocallyCtx(ctx, 30*time.Second), a.SendReceipt, number).Get(ctx, nil)
		if err == nil {
			return
		}
		wf.logger.Info("receipt not sent from the worker; retrying it as a durable activity", "error", err)
	}
	if err := workflow.ExecuteActivity(receiptCtx(ctx), a.SendReceipt, number).Get(ctx, nil); err != nil {
		wf.logger.Warn("receipt not sent", "error", err)
	}
}

// enrollInput is the Enroll activity's input for a seat line of the order.
func (wf *checkout) enrollInput(l commerce.CheckoutLine, order commerce.Order) activities.EnrollInput {
	c := wf.in.Checkout
	return activities.EnrollInput{
		OrderNumber: c.OrderNumber, SKU: l.SKU, Username: c.Username, CourseID: l.CourseID, Mode: l.Mode,
		CreditProvider: l.CreditProvider, DatePlaced: order.DatePlaced, Deployment: wf.in.Deployment,
	}
}

// enrollLocally tries each open seat line once as a local activity, all at once. An enrolled line
// is marked complete; a line the LMS refused for good goes into failures (it is not retried); a
// line whose failure may pass is left open for the durable activity.
func (wf *checkout) enrollLocally(ctx workflow.Context, order commerce.Order, failures map[string]string) {
	c := wf.in.Checkout
	futures := map[int]workflow.Future{}
	for i, l := range c.Lines {
		if l.Class == commerce.ClassSeat && wf.status.Lines[i].Status != commerce.LineComplete {
			futures[i] = workflow.ExecuteLocalActivity(onceLocallyCtx(ctx, enrollLocallyTimeout), a.Enroll, wf.enrollInput(l, order))
		}
	}
	for i := range c.Lines {
		f, ok := futures[i]
		if !ok {
			continue
		}
		err := f.Get(ctx, nil)
		if err == nil {
			wf.status.Lines[i].Status = commerce.LineComplete
			continue
		}
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && (appErr.NonRetryable() || appErr.Type() == activities.ErrTypeLMSRejected) {
			status, msg := lineFailure(err)
			failures[c.Lines[i].SKU] = msg
			wf.status.Lines[i].Status = status
			continue
		}
		wf.logger.Info("enrollment failed in the worker; retrying it as a durable activity", "sku", c.Lines[i].SKU, "error", err)
	}
}

// hasOpenLines reports whether a line still needs a durable activity: a seat or enrollment-code
// line that is neither complete nor failed for good.
func (wf *checkout) hasOpenLines(failures map[string]string) bool {
	for i, l := range wf.in.Checkout.Lines {
		if (l.Class == commerce.ClassSeat || l.Class == commerce.ClassEnrollmentCode) &&
			wf.status.Lines[i].Status != commerce.LineComplete && failures[l.SKU] == "" {
			return true
		}
	}
	return false
}

// awaitOps blocks until an operator sends retry or mark-fulfilled.
func (wf *checkout) awaitOps(ctx workflow.Context) OpsAction {
	for {
		var ops OpsAction
		if !wf.receiveOps(ctx, &ops) {
			continue
		}
		if ops.Action == OpsRetry || ops.Action == OpsMarkFulfilled || (wf.version3 >= 1 && ops.Action == OpsRefund) {
			wf.logger.Info("ops action", "action", ops.Action, "by", ops.By)
			wf.noteOps(ctx, ops)
			return ops
		}
		wf.logger.Warn("unknown ops action ignored", "action", ops.Action)
	}
}

// receiveOps waits for an ops action. From version2 it also reads payment notifications while it
// waits, so that a payment arriving then is never dropped (it is counted or flagged as
// excessive); it then returns false.
func (wf *checkout) receiveOps(ctx workflow.Context, ops *OpsAction) bool {
	if wf.version2 < 1 {
		wf.opsCh.Receive(ctx, ops)
		return true
	}
	got := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(wf.opsCh, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, ops); got = true })
	sel.AddReceive(wf.payCh, func(ch workflow.ReceiveChannel, _ bool) {
		var n commerce.PaymentNotification
		ch.Receive(ctx, &n)
		wf.lateNotification(ctx, n)
	})
	sel.Select(ctx)
	return got
}

// drainOps takes the ops actions already queued, returning mark-fulfilled if one was among them.
func (wf *checkout) drainOps() OpsAction {
	var kept OpsAction
	for {
		var ops OpsAction
		if !wf.opsCh.ReceiveAsync(&ops) {
			return kept
		}
		if ops.Action == OpsMarkFulfilled {
			kept = ops
		}
	}
}

// lastChancePayment reads the notifications already delivered before the checkout ends without
// payment: an accepted payment that pays for this checkout must never be dropped. It returns
// that payment, or nil (other notifications are counted as ignored).
func (wf *checkout) lastChancePayment(ctx workflow.Context) *commerce.Payment {
	for {
		var n commerce.PaymentNotification
		if !wf.payCh.ReceiveAsync(&n) {
			return nil
		}
		problem := mismatch(wf.in.Checkout, n)
		if n.Outcome == commerce.PaymentAccepted && problem == "" {
			wf.logger.Info("an accepted payment arrived as the checkout was ending; placing the order", "transaction_id", n.TransactionID)
			wf.status.Payment = &PaymentStatus{Processor: n.Processor, TransactionID: n.TransactionID, Outcome: n.Outcome,
				Amount: commerce.FormatMoney(n.Amount), Currency: n.Currency}
			return wf.accept(n)
		}
		if key := notificationKey(n); wf.fewEvents && n.Outcome == commerce.PaymentAccepted && !wf.seen[key] {
			// Money taken for this checkout that does not pay for it, as it ends: given back.
			wf.seen[key] = true
			wf.refundPayment(ctx, n, "The checkout ended without an order as this payment arrived, and it does not pay for it: "+problem)
			continue
		}
		wf.status.IgnoredEvents++
	}
}

// settleLatePayments (since versionFewEvents) ends a run that stops early (a refused or refunded
// order): the payment notifications still queued are handled (a different accepted payment is
// refunded as excessive), and the refunds being started finish starting, so that no payment
// that reached the checkout is dropped with the run.
func (wf *checkout) settleLatePayments(ctx workflow.Context) {
	if !wf.fewEvents {
		return
	}
	wf.drainLatePayments(ctx)
	_ = workflow.Await(ctx, func() bool { return wf.refundsStarting == 0 })
}

// drainLatePayments handles the notifications still queued when the workflow completes.
func (wf *checkout) drainLatePayments(ctx workflow.Context) {
	for {
		var n commerce.PaymentNotification
		if !wf.payCh.ReceiveAsync(&n) {
			return
		}
		wf.lateNotification(ctx, n)
	}
}

// watchLatePayments reads payment notifications once the order's payment is accepted: repeats
// are counted, and a different accepted payment is recorded as excessive (to refund).
func (wf *checkout) watchLatePayments(ctx workflow.Context) {
	for {
		var n commerce.PaymentNotification
		wf.payCh.Receive(ctx, &n)
		wf.lateNotification(ctx, n)
	}
}

// lateNotification counts a notification received after the order's payment, and records a
// different accepted payment as excessive (to refund).
func (wf *checkout) lateNotification(ctx workflow.Context, n commerce.PaymentNotification) {
	paid := ""
	if wf.status.Payment != nil {
		paid = wf.status.Payment.TransactionID
	}
	if n.Outcome == commerce.PaymentAccepted && n.TransactionID != paid && !slices.Contains(wf.status.ExcessivePayments, n.TransactionID) {
		wf.addExcessive(ctx, n)
		return
	}
	wf.status.IgnoredEvents++
}

// addExcessive records an accepted payment that paid for the order again: listed in the status,
// and (from version 1) flagged for ops with an order note, whenever it arrives; from version 3
// it is refunded at once through a refund workflow, and ops need not act.
func (wf *checkout) addExcessive(ctx workflow.Context, n commerce.PaymentNotification) {
	wf.status.ExcessivePayments = append(wf.status.ExcessivePayments, n.TransactionID)
	wf.logger.Error("excessive payment: a second accepted payment for this order", "transaction_id", n.TransactionID)
	if wf.version3 >= 1 {
		wf.refundsStarting++
		defer func() { wf.refundsStarting-- }()
		id := wf.refundPayment(ctx, n, "Excessive payment: order "+wf.in.Checkout.OrderNumber+" was paid again by transaction "+n.TransactionID+".")
		wf.flag(ctx, fmt.Sprintf("Excessive payment: order %s was paid again by %s transaction %s (%s %s); refunded automatically (refund %d).",
			wf.in.Checkout.OrderNumber, n.Processor, n.TransactionID, commerce.FormatMoney(n.Amount), n.Currency, id), true)
		wf.handledExcessive = len(wf.status.ExcessivePayments)
		return
	}
	if wf.version >= 1 {
		wf.flag(ctx, wf.excessiveReason(), true)
	}
}

// refundPayment gives a payment back through its own refund workflow (a child that outlives
// the checkout) and returns the refund's id (0 when it could not be created: ops then see the
// flag). The refund is created once per payment, however often this runs.
func (wf *checkout) refundPayment(ctx workflow.Context, n commerce.PaymentNotification, reason string) int64 {
	c := wf.in.Checkout
	r := commerce.Refund{OrderNumber: c.OrderNumber, UserID: c.UserID, Username: c.Username, Total: n.Amount, Currency: n.Currency,
		Status: commerce.RefundOpen, Processor: n.Processor, Reference: n.TransactionID, Reason: reason}
	var id int64
	in := activities.PaymentRefundInput{Refund: r, Deployment: wf.in.Deployment}
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.CreatePaymentRefund, in).Get(ctx, &id); err != nil {
		wf.logger.Error("cannot create the refund of a payment", "transaction_id", n.TransactionID, "error", err)
		return 0
	}
	r.ID = id
	wf.startRefund(ctx, r, false)
	wf.status.Refunds = append(wf.status.Refunds, id)
	return id
}

// startRefund starts the refund's workflow as an abandoned child (it runs to its end whatever
// happens to the checkout) and waits until it has started.
func (wf *checkout) startRefund(ctx workflow.Context, r commerce.Refund, revoke bool) {
	opts := refundStartOptions(r, workflow.GetInfo(ctx).TaskQueueName)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: opts.ID, TaskQueue: opts.TaskQueue, ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: opts.TypedSearchAttributes, StaticSummary: opts.StaticSummary,
	})
	child := workflow.ExecuteChildWorkflow(cctx, RefundWorkflowType, RefundInput{RefundID: r.ID, RevokeFulfillment: revoke,
		RetryLimit: wf.in.FulfillmentRetryLimit, Deployment: wf.in.Deployment})
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		// Already started (this payment was refunded by an earlier run): nothing to do.
		wf.logger.Info("refund workflow not started", "refund_id", r.ID, "error", err)
	}
}

// flag records in the database that the checkout needs attention, and why (and, with note, adds
// the reason as an Error note to the order, if there is one).
func (wf *checkout) flag(ctx workflow.Context, reason string, note bool) {
	in := activities.FlagInput{OrderNumber: wf.in.Checkout.OrderNumber, Reason: reason, Note: note, Deployment: wf.in.Deployment}
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.FlagForOps, in).Get(ctx, nil); err != nil {
		wf.logger.Error("cannot flag the checkout for ops", "error", err)
	}
}

// lineFailure turns an enrollment failure into the line status edX would show.
func lineFailure(err error) (commerce.LineStatus, string) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		status := commerce.LineStatus(appErr.Type())
		if appErr.Type() == activities.ErrTypeLMSRejected {
			var detail string
			if appErr.HasDetails() && appErr.Details(&detail) == nil && detail != "" {
				status = commerce.LineStatus(detail)
			} else {
				status = commerce.LineServerError
			}
		}
		return status, appErr.Message()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return commerce.LineTimeoutError, "Fulfillment retries ran out: " + timeoutErr.Error()
	}
	return commerce.LineServerError, err.Error()
}

// syncLines copies line statuses from the database's order into the status.
func (wf *checkout) syncLines(o commerce.Order) {
	wf.status.OrderStatus = o.Status
	for _, ol := range o.Lines {
		for i := range wf.status.Lines {
			if wf.status.Lines[i].SKU == ol.SKU {
				wf.status.Lines[i].Status = ol.Status
				wf.status.Lines[i].LastError = ol.FulfillmentError
				wf.status.Lines[i].Attempts = ol.FulfillmentAttempts
			}
		}
	}
}

// recordState records a state in the status, the CheckoutStatus search attribute (a command) and
// the UI details; NeedsAttention also runs the FlagForOps local activity, which writes the reason
// to the database and notes it on the order.
func (wf *checkout) recordState(ctx workflow.Context, state commerce.CheckoutStatus, reason string) {
	wf.recordStateNoted(ctx, state, reason, true)
}

// recordStateNoted is recordState; note says whether a NeedsAttention reason is also noted on the
// order.
func (wf *checkout) recordStateNoted(ctx workflow.Context, state commerce.CheckoutStatus, reason string, note bool) {
	wf.setState(ctx, state, reason)
	if err := workflow.UpsertTypedSearchAttributes(ctx, SearchCheckoutStatus.ValueSet(string(state))); err != nil {
		wf.logger.Error("cannot update the CheckoutStatus search attribute", "error", err)
	}
	if state == commerce.CheckoutNeedsAttention {
		wf.logger.Warn("checkout needs attention", "reason", reason)
		if wf.version >= 1 {
			wf.flag(ctx, reason, note)
			return
		}
		_ = workflow.ExecuteLocalActivity(localCtx(ctx), a.SetCheckoutStatus, wf.in.Checkout.OrderNumber, state).Get(ctx, nil)
	}
}

// setState records a state in the status and the UI details only: no command, so the
// CheckoutStatus search attribute keeps its last value (a state that passes within one task).
func (wf *checkout) setState(ctx workflow.Context, state commerce.CheckoutStatus, reason string) {
	wf.status.State = state
	wf.status.LastError = reason
	details := string(state)
	if reason != "" {
		details += ": " + reason
	}
	workflow.SetCurrentDetails(ctx, details)
}

// localRetryLimit is how long a database step is retried while the database does not answer.
// Without it a local activity's retries end with its start-to-close timeout (10 s: the SDK's
// default schedule-to-close), and a paid checkout failed without its order when PostgreSQL
// restarted (found by the fault suite). Retries past 10 s wait on a timer, at most 30 s apart:
// a day-long outage costs a checkout about 17,000 history events, within Temporal's 50,000.
const localRetryLimit = 24 * time.Hour

// localCtx runs short database steps in the worker's process, retried until the database answers.
func localCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: localRetryLimit,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
}

// enrollCtx retries an enrollment with backoff (1 s, x2, at most 5 min apart) for at most
// FulfillmentRetryLimit; a 4xx answer is not retried.
func (wf *checkout) enrollCtx(ctx workflow.Context) workflow.Context {
	limit := wf.in.FulfillmentRetryLimit
	if limit <= 0 {
		limit = time.Hour
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// The LMS call times out after 7 s; a worker that dies mid-call is noticed after 12 s.
		StartToCloseTimeout:    12 * time.Second,
		ScheduleToCloseTimeout: limit,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeLMSRejected},
		},
	})
}

// codesCtx creates enrollment codes: a database transaction, retried for a while.
func codesCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
}

func receiptCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
	})
}

// onceLocallyCtx tries a step once in the worker's process, within timeout; a failure falls back
// to the step's durable, retried activity.
func onceLocallyCtx(ctx workflow.Context, timeout time.Duration) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: timeout,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
}
