package paypal

import (
	"context"
	"strconv"
	"time"

	"github.com/coursecommerce/commerce/commerce"
)

// Kinds of Exchange, also used as the kind of the recorded processor response.
const (
	KindCreateOrder   = "create-order"
	KindGetOrder      = "get-order"
	KindCaptureOrder  = "capture-order"
	KindRefundCapture = "refund-capture"
)

// Exchange is one API request and its answer, as handed to Config.Record. It never holds the
// client secret or an access token: headers are not part of it, and the token endpoint is not
// recorded.
type Exchange struct {
	// Kind is one of KindCreateOrder, KindGetOrder, KindCaptureOrder and KindRefundCapture.
	Kind string
	// Method and Path are those of the request, e.g. POST /v2/checkout/orders.
	Method string
	Path   string
	// RequestID is the PayPal-Request-Id header, if any.
	RequestID string
	// RequestBody is the JSON sent (nil for GET).
	RequestBody []byte
	// Status is the HTTP status of the answer, 0 when none arrived.
	Status int
	// ResponseBody is the answer's body, at most MaxResponseBytes of it.
	ResponseBody []byte
	// Err describes why no (usable) answer arrived, if so.
	Err string
	// OrderID is the PayPal order id; CaptureID and RefundID are set when the exchange is
	// about one capture or refund.
	OrderID   string
	CaptureID string
	RefundID  string
	// InvoiceID is the invoice id read from the request or the answer (our order number,
	// unless something is wrong).
	InvoiceID string
	// OrderNumber is the checkout the caller was working for (see WithOrderNumber), or "".
	OrderNumber string
	// DebugID is PayPal's debug_id of an error answer.
	DebugID string
	// Started is when the request was sent; Duration how long the answer took.
	Started  time.Time
	Duration time.Duration
}

// TransactionID is the id the exchange is about: the refund, else the capture, else the order.
func (e Exchange) TransactionID() string {
	return firstNonEmpty(e.RefundID, e.CaptureID, e.OrderID)
}

// ProcessorResponse converts the exchange into the row the service records in
// payment_processor_responses. Authentic is true when PayPal answered (we called its API over
// TLS with our credentials), and nil when no answer arrived.
func (e Exchange) ProcessorResponse() commerce.ProcessorResponse {
	body := map[string]string{
		"method": e.Method, "path": e.Path, "status": strconv.Itoa(e.Status),
		"request": string(e.RequestBody), "response": string(e.ResponseBody),
	}
	for k, v := range map[string]string{
		"paypal_request_id": e.RequestID, "paypal_order_id": e.OrderID, "capture_id": e.CaptureID,
		"refund_id": e.RefundID, "invoice_id": e.InvoiceID, "debug_id": e.DebugID, "error": e.Err,
	} {
		if v != "" {
			body[k] = v
		}
	}
	r := commerce.ProcessorResponse{
		Processor: Name, TransactionID: e.TransactionID(), OrderNumber: firstNonEmpty(e.OrderNumber, e.InvoiceID),
		Kind: e.Kind, Body: body,
	}
	if e.Status != 0 {
		authentic := true
		r.Authentic = &authentic
	}
	return r
}

type orderNumberKey struct{}

// WithOrderNumber returns a context telling the client which checkout its calls are for; the
// client copies it into Exchange.OrderNumber. Processor sets it itself.
func WithOrderNumber(ctx context.Context, orderNumber string) context.Context {
	return context.WithValue(ctx, orderNumberKey{}, orderNumber)
}

// orderNumberFrom returns the order number set by WithOrderNumber, or "".
func orderNumberFrom(ctx context.Context) string {
	s, _ := ctx.Value(orderNumberKey{}).(string)
	return s
}
