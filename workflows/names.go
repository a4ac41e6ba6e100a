// Package workflows holds the deterministic checkout workflow and the names other parties rely
// on: task queue, workflow type and ID, signals, query and search attributes (DESIGN.md §4).
// It imports neither pgx nor Gin; all I/O happens in activities.
package workflows

import "go.temporal.io/sdk/temporal"

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
)

// versionOpsSeeEveryPayment gates the commands added for issue 7 (workflow.GetVersion): every
// excessive payment and every refused second order is flagged for ops with its reason, and the
// checkout waits in NeedsAttention until they close it.
const versionOpsSeeEveryPayment = "ops-see-every-payment"

// versionPaymentsReadWhileWaiting gates reading payment notifications while the checkout waits
// for ops (none is dropped), and waiting for ops again for excessive payments that arrive after
// a wait (during the receipt, or as ops close the case).
const versionPaymentsReadWhileWaiting = "payments-read-while-waiting"

// OpsAction is the payload of the ops-action signal.
type OpsAction struct {
	Action string `json:"action"`
	Note   string `json:"note,omitempty"`
}

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
)
