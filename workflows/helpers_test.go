package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/workflows"
)

// a names the activities in mocks, as the workflow does.
var a *activities.Activities

// Fixture values.
const (
	orderNumber    = "EDX-100042"
	basketID       = int64(42)
	newBasketID    = int64(77)
	username       = "alice"
	processor      = "cybersource"
	skuVerified    = "SKU-VERIFIED"
	skuCredit      = "SKU-CREDIT"
	courseVerified = "course-v1:edX+DemoX+2026"
	courseCredit   = "course-v1:ASUx+CRED101+2026"
	paymentTimeout = 30 * time.Minute
	retryLimit     = time.Hour
)

var (
	startTime = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	placedAt  = time.Date(2026, 3, 14, 12, 5, 0, 0, time.UTC)
)

func money(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func seat(sku, course, mode, creditProvider, price string) commerce.CheckoutLine {
	return commerce.CheckoutLine{
		ProductID: int64(len(sku)), StockRecordID: int64(len(sku)) + 100, SKU: sku, Title: "Seat in " + course,
		Class: commerce.ClassSeat, CourseID: course, Mode: mode, CreditProvider: creditProvider, Quantity: 1,
		UnitPrice: money(price), LinePriceBeforeDiscounts: money(price), LinePrice: money(price),
	}
}

// newCheckout freezes lines into a checkout whose total is the sum of the line prices.
func newCheckout(lines ...commerce.CheckoutLine) commerce.Checkout {
	total := decimal.Zero
	for _, l := range lines {
		total = total.Add(l.LinePrice)
	}
	return commerce.Checkout{
		OrderNumber: orderNumber, BasketID: basketID, UserID: 7, Username: username, Email: "alice@example.com",
		Processor: processor, Currency: "USD", TotalBeforeDiscounts: total, Discount: decimal.Zero, Total: total,
		Lines: lines, FrozenAt: startTime,
	}
}

// twoSeats is a verified seat (49.00) and a credit seat (100.00): 149.00 USD.
func twoSeats() commerce.Checkout {
	return newCheckout(
		seat(skuVerified, courseVerified, "verified", "", "49.00"),
		seat(skuCredit, courseCredit, "credit", "asu", "100.00"),
	)
}

// deployment is the fixture's deployment identity.
const deployment = "7f0c2d4e-0000-4000-8000-000000000001"

func input(c commerce.Checkout) workflows.CheckoutInput {
	return workflows.CheckoutInput{Checkout: c, PaymentTimeout: paymentTimeout, FulfillmentRetryLimit: retryLimit, Deployment: deployment}
}

// paid is an accepted notification that pays twoSeats exactly.
func paid(txn string) commerce.PaymentNotification {
	return commerce.PaymentNotification{
		Processor: processor, TransactionID: txn, OrderNumber: orderNumber, Outcome: commerce.PaymentAccepted,
		Amount: money("149.00"), Currency: "USD", CardType: "001", Label: "Visa ************1111",
		Message: "Request was processed successfully.", ResponseID: 11,
	}
}

func notification(txn string, outcome commerce.PaymentOutcome) commerce.PaymentNotification {
	n := paid(txn)
	n.Outcome = outcome
	n.Message = "processor says " + string(outcome)
	return n
}

// lmsRejected is the permanent failure the Enroll activity returns for a 4xx.
func lmsRejected(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, activities.ErrTypeLMSRejected, nil, string(commerce.LineServerError))
}

// lmsUnavailable is a retryable failure, as the Enroll activity returns for a 5xx or a network error.
func lmsUnavailable(msg string) error {
	return temporal.NewApplicationError(msg, string(commerce.LineNetworkError))
}

// bugSkip skips a test that exposes a known bug, unless WORKFLOWS_RUN_BUG_TESTS=1 (to see it fail).
func bugSkip(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("WORKFLOWS_RUN_BUG_TESTS") != "1" {
		t.Skip("BUG: " + msg)
	}
}

// ---------------------------------------------------------------------------------------------
// Recorded activity calls.

type placeCall struct {
	In activities.PlaceOrderInput
	At time.Time
}

type enrollCall struct {
	In      activities.EnrollInput
	Attempt int32
	At      time.Time
	// Local is true for the first try, run as a local activity.
	Local bool
}

type reopenCall struct {
	In activities.ReopenInput
	At time.Time
}

type statusCall struct {
	Number string
	Status commerce.CheckoutStatus
}

// snapshot is the status query's answer and the activity calls so far, at one moment.
type snapshot struct {
	At     time.Time
	Status workflows.Status
	Err    error
	Calls  map[string]int
}

// harness runs CheckoutWorkflow in the SDK's test environment against a fake database: the
// activities are mocked, and their effects (order placed, lines fulfilled) are kept in memory,
// following db.Store's rules.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	in  workflows.CheckoutInput
	log *logRecorder

	mu        sync.Mutex
	calls     map[string]int
	loads     []string
	places    []placeCall
	reopens   []reopenCall
	statuses  []statusCall
	enrolls   []enrollCall
	finishes  []time.Time
	marks     []activities.MarkFulfilledInput
	receipts  []string
	saStates  []string // successive values of the CheckoutStatus search attribute
	snapshots map[string]snapshot

	// The fake database.
	placed bool
	order  commerce.Order

	// enroll decides the outcome of one Enroll attempt; nil means success.
	enroll func(in activities.EnrollInput, attempt int32) error
	// receiptErr fails SendReceipt.
	receiptErr error
	// placeErr, when set, decides a failure of PlaceOrder (nil: placed).
	placeErr func(in activities.PlaceOrderInput) error
	flags    []activities.FlagInput
	// paymentRefunds are the payment refunds created; refundRuns the refund workflows started.
	paymentRefunds []commerce.Refund
	refundRuns     []workflows.RefundInput
	// notes are the order notes of ops actions.
	notes []string
}

func newHarness(t *testing.T, in workflows.CheckoutInput) *harness {
	t.Helper()
	h := &harness{t: t, in: in, log: &logRecorder{}, calls: map[string]int{}, snapshots: map[string]snapshot{}}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(h.log)
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(startTime)
	env.SetTestTimeout(20 * time.Second)
	env.RegisterWorkflowWithOptions(workflows.CheckoutWorkflow, workflow.RegisterOptions{Name: workflows.CheckoutWorkflowType})
	env.RegisterActivity(&activities.Activities{})
	h.env = env

	env.OnActivity(a.LoadOrder, mock.Anything, mock.Anything).Return(
		func(_ context.Context, ref activities.OrderRef) (activities.OrderState, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["LoadOrder"]++
			h.loads = append(h.loads, ref.OrderNumber)
			if !h.placed {
				return activities.OrderState{}, nil
			}
			return activities.OrderState{Placed: true, Order: copyOrder(h.order)}, nil
		})
	env.OnActivity(a.PlaceOrder, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PlaceOrderInput) (commerce.Order, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["PlaceOrder"]++
			rec := in
			if in.Payment != nil {
				p := *in.Payment
				rec.Payment = &p
			}
			h.places = append(h.places, placeCall{In: rec, At: env.Now().UTC()})
			if h.placeErr != nil {
				return commerce.Order{}, h.placeErr(in)
			}
			if !h.placed { // idempotent on the order number, like db.Store.PlaceOrder
				h.placed = true
				h.order = orderFrom(in.Checkout, in.Payment)
			}
			return copyOrder(h.order), nil
		})
	env.OnActivity(a.ReopenBasket, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReopenInput) (int64, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["ReopenBasket"]++
			h.reopens = append(h.reopens, reopenCall{In: in, At: env.Now().UTC()})
			return newBasketID, nil
		})
	env.OnActivity(a.SetCheckoutStatus, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, number string, status commerce.CheckoutStatus) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["SetCheckoutStatus"]++
			h.statuses = append(h.statuses, statusCall{Number: number, Status: status})
			return nil
		})
	env.OnActivity(a.Enroll, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.EnrollInput) (activities.EnrollResult, error) {
			info := activity.GetInfo(ctx)
			attempt := info.Attempt
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["Enroll"]++
			h.enrolls = append(h.enrolls, enrollCall{In: in, Attempt: attempt, At: env.Now().UTC(), Local: info.IsLocalActivity})
			var err error
			if h.enroll != nil {
				err = h.enroll(in, attempt)
			}
			status, msg := commerce.LineComplete, ""
			if err != nil {
				status, msg = lineStatusOf(err), err.Error()
			}
			h.setLine(in.SKU, status, msg)
			if err != nil {
				return activities.EnrollResult{}, err
			}
			return activities.EnrollResult{Attempts: int(attempt)}, nil
		})
	env.OnActivity(a.FinishFulfillment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, number string) (commerce.Order, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["FinishFulfillment"]++
			h.finishes = append(h.finishes, env.Now().UTC())
			// Like db.Store.FinishFulfillment: Complete only when every line is.
			h.order.Status = commerce.OrderComplete
			for _, l := range h.order.Lines {
				if l.Status != commerce.LineComplete {
					h.order.Status = commerce.OrderFulfillmentError
				}
			}
			return copyOrder(h.order), nil
		})
	env.OnActivity(a.MarkOrderFulfilled, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.MarkFulfilledInput) (commerce.Order, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["MarkOrderFulfilled"]++
			h.marks = append(h.marks, in)
			for i := range h.order.Lines {
				h.order.Lines[i].Status = commerce.LineComplete
			}
			h.order.Status = commerce.OrderComplete
			return copyOrder(h.order), nil
		})
	env.OnActivity(a.FlagForOps, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FlagInput) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["FlagForOps"]++
			h.flags = append(h.flags, in)
			return nil
		})
	env.OnActivity(a.CreatePaymentRefund, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PaymentRefundInput) (int64, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["CreatePaymentRefund"]++
			for i, r := range h.paymentRefunds { // once per payment, like the store
				if r.Processor == in.Refund.Processor && r.Reference == in.Refund.Reference {
					return int64(i + 1), nil
				}
			}
			h.paymentRefunds = append(h.paymentRefunds, in.Refund)
			return int64(len(h.paymentRefunds)), nil
		})
	env.OnActivity(a.CreateOrderRefund, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.OrderRefundInput) ([]int64, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["CreateOrderRefund"]++
			return []int64{100}, nil
		})
	env.RegisterWorkflowWithOptions(workflows.RefundWorkflow, workflow.RegisterOptions{Name: workflows.RefundWorkflowType})
	env.OnWorkflow(workflows.RefundWorkflowType, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in workflows.RefundInput) (workflows.RefundState, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.refundRuns = append(h.refundRuns, in)
			return workflows.RefundState{RefundID: in.RefundID, Status: commerce.RefundComplete}, nil
		})
	env.OnActivity(a.NoteOrder, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NoteInput) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["NoteOrder"]++
			h.notes = append(h.notes, in.Message)
			return nil
		})
	env.OnActivity(a.SendReceipt, mock.Anything, mock.Anything).Return(
		func(_ context.Context, number string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls["SendReceipt"]++
			h.receipts = append(h.receipts, number)
			return h.receiptErr
		})
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		v, ok := sa.GetKeyword(workflows.SearchCheckoutStatus)
		if !ok {
			v = "<other attribute>"
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.saStates = append(h.saStates, v)
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("workflow log:\n%s", h.log.String())
		}
	})
	return h
}

// lineStatusOf is the line status the Enroll activity records for its error.
func lineStatusOf(err error) commerce.LineStatus {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if appErr.Type() == activities.ErrTypeLMSRejected {
			var detail string
			if appErr.HasDetails() && appErr.Details(&detail) == nil && detail != "" {
				return commerce.LineStatus(detail)
			}
			return commerce.LineServerError
		}
		return commerce.LineStatus(appErr.Type())
	}
	return commerce.LineServerError
}

// setLine records one line's fulfillment in the fake database; h.mu is held.
func (h *harness) setLine(sku string, status commerce.LineStatus, msg string) {
	for i := range h.order.Lines {
		if h.order.Lines[i].SKU == sku {
			h.order.Lines[i].Status = status
			h.order.Lines[i].FulfillmentError = msg
			h.order.Lines[i].FulfillmentAttempts++
		}
	}
}

// orderFrom is the order db.Store.PlaceOrder creates for a checkout.
func orderFrom(c commerce.Checkout, p *commerce.Payment) commerce.Order {
	o := commerce.Order{
		ID: 900, Number: c.OrderNumber, BasketID: c.BasketID, UserID: c.UserID, Username: c.Username, Email: c.Email,
		Currency: c.Currency, TotalInclTax: c.Total, TotalExclTax: c.Total, TotalBeforeDiscountsInclTax: c.TotalBeforeDiscounts,
		Status: commerce.OrderOpen, PaymentProcessor: c.Processor, DatePlaced: placedAt,
	}
	for i, l := range c.Lines {
		o.Lines = append(o.Lines, commerce.OrderLine{
			ID: int64(1000 + i), ProductID: l.ProductID, SKU: l.SKU, Title: l.Title, CourseID: l.CourseID,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, LinePrice: l.LinePrice,
			LinePriceBeforeDiscounts: l.LinePriceBeforeDiscounts, Status: commerce.LineOpen,
		})
	}
	if p != nil {
		o.PaymentProcessor = p.Processor
		o.Payment = &commerce.PaymentSource{Processor: p.Processor, Reference: p.TransactionID, Currency: p.Currency,
			AmountDebited: p.Amount, Label: p.Label, CardType: p.CardType}
	}
	return o
}

func copyOrder(o commerce.Order) commerce.Order {
	o.Lines = append([]commerce.OrderLine(nil), o.Lines...)
	return o
}

// preload puts an already placed order in the fake database (a recovering run).
func (h *harness) preload(o commerce.Order) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.placed = true
	h.order = copyOrder(o)
}

// at runs fn on the workflow's clock, d after the start.
func (h *harness) at(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

// pay signals payment notifications, all at the same moment.
func (h *harness) pay(d time.Duration, ns ...commerce.PaymentNotification) {
	h.at(d, func() {
		for _, n := range ns {
			h.env.SignalWorkflow(workflows.SignalPaymentNotification, n)
		}
	})
}

// ops signals an operator's action.
func (h *harness) ops(d time.Duration, action, note string) {
	h.at(d, func() {
		h.env.SignalWorkflow(workflows.SignalOpsAction, workflows.OpsAction{Action: action, Note: note})
	})
}

// snap records the status query's answer and the calls so far under name, at d.
func (h *harness) snap(d time.Duration, name string) {
	h.at(d, func() { h.snapshots[name] = h.query() })
}

func (h *harness) query() snapshot {
	s := snapshot{At: h.env.Now().UTC()}
	v, err := h.env.QueryWorkflow(workflows.QueryStatus)
	if err == nil {
		err = v.Get(&s.Status)
	}
	s.Err = err
	h.mu.Lock()
	defer h.mu.Unlock()
	s.Calls = map[string]int{}
	for k, n := range h.calls {
		s.Calls[k] = n
	}
	return s
}

// snapshot returns a recorded snapshot and checks that its query succeeded.
func (h *harness) snapshot(name string) snapshot {
	h.t.Helper()
	s, ok := h.snapshots[name]
	require.True(h.t, ok, "no snapshot %q was taken (did the workflow end before?)", name)
	require.NoError(h.t, s.Err, "status query at %q", name)
	return s
}

// run executes the workflow to its end and returns its result.
func (h *harness) run() workflows.Status {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.CheckoutWorkflowType, h.in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
	require.NoError(h.t, h.env.GetWorkflowError())
	var st workflows.Status
	require.NoError(h.t, h.env.GetWorkflowResult(&st))
	return st
}

// elapsed is how much workflow time has passed since the start.
func (h *harness) elapsed() time.Duration { return h.env.Now().Sub(startTime) }

func (h *harness) count(activity string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[activity]
}

// enrollsOf returns the Enroll calls for one SKU.
func (h *harness) enrollsOf(sku string) []enrollCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []enrollCall
	for _, c := range h.enrolls {
		if c.In.SKU == sku {
			out = append(out, c)
		}
	}
	return out
}

func (h *harness) searchStates() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.saStates...)
}

// lineOf finds one line of a status by SKU.
func lineOf(t *testing.T, st workflows.Status, sku string) workflows.LineStatus {
	t.Helper()
	for _, l := range st.Lines {
		if l.SKU == sku {
			return l
		}
	}
	require.Failf(t, "line not found", "no line %s in %+v", sku, st.Lines)
	return workflows.LineStatus{}
}

// ---------------------------------------------------------------------------------------------
// logRecorder keeps the workflow's log lines so tests can look for warnings.

type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) add(level, msg string, keyvals ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s %s %v", level, msg, keyvals))
}

func (l *logRecorder) Debug(msg string, keyvals ...any) { l.add("DEBUG", msg, keyvals...) }
func (l *logRecorder) Info(msg string, keyvals ...any)  { l.add("INFO", msg, keyvals...) }
func (l *logRecorder) Warn(msg string, keyvals ...any)  { l.add("WARN", msg, keyvals...) }
func (l *logRecorder) Error(msg string, keyvals ...any) { l.add("ERROR", msg, keyvals...) }

func (l *logRecorder) contains(substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			return true
		}
	}
	return false
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
