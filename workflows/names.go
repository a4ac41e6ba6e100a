// Package workflows holds the deterministic checkout workflow and the names other parties rely
// on: task queue, workflow type and ID, signals, query and search attributes (DESIGN.md §4).
// It imports neither pgx nor Gin; all I/O happens in activities.
package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// TaskQueue is the task queue of every workflow and activity of the service.
const TaskQueue = "ecommerce"

// Names of the checkout workflow's type, signals and query.
const (
	CheckoutWorkflowType      = "CheckoutWorkflow"
	SignalPaymentNotification = "payment-notification"
	SignalOpsAction           = "ops-action"
	QueryStatus               = "status"
)

// Operator actions accepted on the ops-action signal.
const (
	OpsRetry         = "retry"
	OpsMarkFulfilled = "mark-fulfilled"
	// OpsRefund refunds the checkout's payment (or its order) and closes it as Refunded.
	OpsRefund = "refund"
)

// versionOpsSeeEveryPayment gates the commands added for issue 7 (workflow.GetVersion): every
// excessive payment and every refused second order is flagged for ops with its reason, and the
// checkout waits in NeedsAttention until they close it.
const versionOpsSeeEveryPayment = "ops-see-every-payment"

// versionPaymentsReadWhileWaiting gates reading payment notifications while the checkout waits
// for ops (none is dropped), and waiting for ops again for excessive payments that arrive after
// a wait (during the receipt, or as ops close the case).
const versionPaymentsReadWhileWaiting = "payments-read-while-waiting"

// versionRefunds gates refunds from the checkout: excessive payments are refunded at once, and
// the ops action refund refunds a flagged payment, a refused order's payment or a placed order.
const versionRefunds = "refunds"

// versionOpsNotes gates the order note that records every ops action (who, what, why).
const versionOpsNotes = "ops-notes"

// versionResumeAdoptsPayment gates taking a placed, unfulfilled order's recorded payment as the
// checkout's payment when a run resumes its fulfillment, so that the payment's own notification,
// still queued when a killed worker's task placed the order, is not refunded as excessive.
const versionResumeAdoptsPayment = "resume-adopts-payment"

// versionFewEvents gates the checkout that costs Temporal as little as it can (issue 10): one
// version marker instead of five (the gates above are all taken as passed), the payment timer
// left to expire instead of cancelled, no CheckoutStatus upserts for the passing states Paid and
// Fulfilling unless an enrollment must wait for a durable activity, and each enrollment and the
// receipt tried first as local activities, in the workflow task that placed the order.
const versionFewEvents = "few-events"

// OpsAction is the payload of the ops-action signal.
type OpsAction struct {
	Action string `json:"action"`
	Note   string `json:"note,omitempty"`
	// By names the operator (the staff user of the API, or whoever signals from the CLI).
	By string `json:"by,omitempty"`
}

// Names of the refund workflow's type and signal; it answers the same status query.
const (
	RefundWorkflowType   = "RefundWorkflow"
	SignalRefundDecision = "refund-decision"
)

// Decisions accepted on the refund-decision signal (besides "approve", which resumes a refund
// waiting after a failure as retry does).
const (
	RefundRetry    = "retry"
	RefundMarkDone = "mark-done"
)

// Counters the workflows emit through the SDK's metrics handler (metrics.CheckoutOutcomes and
// metrics.RefundOutcomes name them too; workflows do not import the metrics package).
const (
	MetricCheckoutOutcomes = "ecommerce_checkout_outcomes"
	MetricRefundOutcomes   = "ecommerce_refund_outcomes"
)

// RefundWorkflowID is the workflow ID of a refund.
func RefundWorkflowID(id int64) string { return fmt.Sprintf("refund-%d", id) }

// CheckoutWorkflowID is the workflow ID of an order number's checkout.
func CheckoutWorkflowID(orderNumber string) string { return "checkout-" + orderNumber }

// Search attributes kept current by the checkout workflow, for operations staff.
var (
	SearchOrderNumber      = temporal.NewSearchAttributeKeyKeyword("OrderNumber")
	SearchBasketID         = temporal.NewSearchAttributeKeyKeyword("BasketId")
	SearchUsername         = temporal.NewSearchAttributeKeyKeyword("Username")
	SearchCheckoutStatus   = temporal.NewSearchAttributeKeyKeyword("CheckoutStatus")
	SearchPaymentProcessor = temporal.NewSearchAttributeKeyKeyword("PaymentProcessor")
	// SearchOrderTotal is a Double (DESIGN.md §4), for ops to filter on; set only through
	// orderTotalAttribute, never read back as money.
	SearchOrderTotal = temporal.NewSearchAttributeKeyFloat64("OrderTotal")
	// SearchRefundStatus is a refund workflow's status (edX's refund statuses).
	SearchRefundStatus = temporal.NewSearchAttributeKeyKeyword("RefundStatus")
)
