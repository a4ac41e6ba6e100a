package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register adds the checkout workflow and its activities to a worker.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(CheckoutWorkflow, workflow.RegisterOptions{Name: CheckoutWorkflowType})
	w.RegisterWorkflowWithOptions(RefundWorkflow, workflow.RegisterOptions{Name: RefundWorkflowType})
	w.RegisterActivity(acts)
}

// Checkouts starts and signals checkout workflows on behalf of the API.
type Checkouts struct {
	Client client.Client
	// TaskQueue is where checkouts run; empty means TaskQueue.
	TaskQueue string
	// PaymentTimeout and FulfillmentRetryLimit go into every new checkout.
	PaymentTimeout        time.Duration
	FulfillmentRetryLimit time.Duration
	// Deployment is this database's deployment identity; it goes into every new checkout.
	Deployment string
	// Guard, when set, holds every start and signal until the namespace is verified as this
	// deployment's (a nil Guard holds nothing).
	Guard *NamespaceGuard
}

func (s *Checkouts) input(c commerce.Checkout) CheckoutInput {
	return CheckoutInput{Checkout: c, PaymentTimeout: s.PaymentTimeout, FulfillmentRetryLimit: s.FulfillmentRetryLimit, Deployment: s.Deployment}
}

func (s *Checkouts) startOptions(c commerce.Checkout) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:        CheckoutWorkflowID(c.OrderNumber),
		TaskQueue: s.taskQueue(),
		// One workflow per basket: asking again while it runs returns the running one.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A closed checkout may run again only for a payment that arrives late (DESIGN.md §6);
		// the API decides from the database when a start is allowed.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SearchOrderNumber.ValueSet(c.OrderNumber),
			SearchBasketID.ValueSet(fmt.Sprint(c.BasketID)),
			SearchUsername.ValueSet(c.Username),
			SearchPaymentProcessor.ValueSet(c.Processor),
			orderTotalAttribute(c.Total),
			SearchCheckoutStatus.ValueSet(string(commerce.CheckoutAwaitingPayment)),
		),
		StaticSummary: fmt.Sprintf("Checkout %s for %s: %s %s", c.OrderNumber, c.Username, commerce.FormatMoney(c.Total), c.Currency),
		// Where the API and a worker share the client (`ecommerce dev`, or serve and worker in
		// one process), the start's answer carries the first workflow task to that worker: no
		// trip through the task queue. Elsewhere, and for Signal-With-Start, it is ignored.
		EnableEagerStart: true,
	}
}

func (s *Checkouts) taskQueue() string {
	if s.TaskQueue != "" {
		return s.TaskQueue
	}
	return TaskQueue
}

// orderTotalAttribute is the OrderTotal search attribute. DESIGN.md §4 fixes its type as Double
// (Temporal has no decimal type), so this is the one place money becomes a float: for filtering
// and display in the Temporal UI only. No amount is ever read back from it.
func orderTotalAttribute(total decimal.Decimal) temporal.SearchAttributeUpdate {
	return SearchOrderTotal.ValueSet(total.InexactFloat64())
}

// Start starts the checkout workflow of a frozen basket, or finds the running one.
func (s *Checkouts) Start(ctx context.Context, c commerce.Checkout) error {
	if err := s.Guard.Ready(); err != nil {
		return err
	}
	if _, err := s.Client.ExecuteWorkflow(ctx, s.startOptions(c), CheckoutWorkflowType, s.input(c)); err != nil {
		return unavailable(fmt.Errorf("start checkout %s: %w", c.OrderNumber, err))
	}
	return nil
}

// NotifyPayment delivers a recorded payment notification. An accepted payment starts the
// workflow again if it is no longer running, so a paid order is never lost; other outcomes for
// a checkout that is over are dropped (they are recorded in the database).
func (s *Checkouts) NotifyPayment(ctx context.Context, c commerce.Checkout, n commerce.PaymentNotification) error {
	if err := s.Guard.Ready(); err != nil {
		return err
	}
	id := CheckoutWorkflowID(c.OrderNumber)
	if n.Outcome == commerce.PaymentAccepted {
		_, err := s.Client.SignalWithStartWorkflow(ctx, id, SignalPaymentNotification, n, s.startOptions(c), CheckoutWorkflowType, s.input(c))
		if err != nil {
			return unavailable(fmt.Errorf("signal payment to %s: %w", id, err))
		}
		return nil
	}
	err := s.Client.SignalWorkflow(ctx, id, "", SignalPaymentNotification, n)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return unavailable(fmt.Errorf("signal payment to %s: %w", id, err))
	}
	return nil
}

// RetryFulfillment asks the checkout of a placed order to fulfil it again, starting a new run
// when the workflow is over.
func (s *Checkouts) RetryFulfillment(ctx context.Context, c commerce.Checkout, by string) error {
	if err := s.Guard.Ready(); err != nil {
		return err
	}
	id := CheckoutWorkflowID(c.OrderNumber)
	_, err := s.Client.SignalWithStartWorkflow(ctx, id, SignalOpsAction, OpsAction{Action: OpsRetry, By: by}, s.startOptions(c), CheckoutWorkflowType, s.input(c))
	if err != nil {
		return unavailable(fmt.Errorf("signal retry to %s: %w", id, err))
	}
	return nil
}

// Exists reports whether the checkout's workflow was ever started (running or closed).
func (s *Checkouts) Exists(ctx context.Context, orderNumber string) (bool, error) {
	if err := s.Guard.Ready(); err != nil {
		return false, err
	}
	_, err := s.Client.DescribeWorkflowExecution(ctx, CheckoutWorkflowID(orderNumber), "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(fmt.Errorf("describe %s: %w", CheckoutWorkflowID(orderNumber), err))
	}
	return true, nil
}

// Status queries a running or closed checkout.
func (s *Checkouts) Status(ctx context.Context, orderNumber string) (Status, error) {
	var st Status
	v, err := s.Client.QueryWorkflow(ctx, CheckoutWorkflowID(orderNumber), "", QueryStatus)
	if err != nil {
		return st, fmt.Errorf("query %s: %w", orderNumber, err)
	}
	return st, v.Get(&st)
}

// unavailable marks a Temporal failure as a retryable outage for the API's callers.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", commerce.ErrUnavailable, err)
}
