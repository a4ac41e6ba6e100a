package cybersource

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/coursecommerce/commerce/commerce"
)

// Refund statuses CyberSource answers a refund with. A refund is PENDING until the next
// settlement batch sends it to the processor; TRANSMITTED (and REFUNDED) mean it was sent.
const (
	RefundPending     = "PENDING"
	RefundTransmitted = "TRANSMITTED"
	RefundRefunded    = "REFUNDED"
)

// RefundsPath returns the REST path that refunds payment transactionID.
func RefundsPath(transactionID string) string {
	return "/pts/v2/payments/" + url.PathEscape(transactionID) + "/refunds"
}

// RefundRequest asks CyberSource to credit back Amount of a payment (a Secure Acceptance sale:
// its transaction_id).
type RefundRequest struct {
	// TransactionID is the payment to credit (the reply's transaction_id).
	TransactionID string
	// OrderNumber is sent as clientReferenceInformation.code (at most 50 characters).
	OrderNumber string
	// IdempotencyKey, sent as clientReferenceInformation.transactionId, is the same for every
	// attempt of one refund, so that CyberSource's duplicate check recognises a retry. Optional
	// for the client; the Refunder always sends one.
	IdempotencyKey string
	// Amount is what to credit: positive, with at most two decimals.
	Amount decimal.Decimal
	// Currency is an ISO 4217 code; it is sent in upper case.
	Currency string
}

// Refund is CyberSource's answer to a refund it accepted.
type Refund struct {
	// ID is CyberSource's id of the refund.
	ID string
	// Status is RefundPending for a refund accepted for the next settlement.
	Status string
	// Amount and Currency are refundAmountDetails (zero and "" when the answer omits them).
	Amount   decimal.Decimal
	Currency string
	// ReconciliationID is CyberSource's reconciliation id, if any.
	ReconciliationID string
	// CorrelationID is the v-c-correlation-id header of the answer.
	CorrelationID string
}

// currencyCode is the shape of an ISO 4217 code.
var currencyCode = regexp.MustCompile(`^[A-Za-z]{3}$`)

// Bounds of a refund request.
const (
	maxOrderNumber     = 50 // clientReferenceInformation.code
	maxIdempotencyKey  = 255
	maxTransactionID   = 64
	refundAmountPlaces = 2
)

// validate checks a refund request before anything is sent.
func (r RefundRequest) validate() error {
	switch {
	case r.TransactionID == "" || len(r.TransactionID) > maxTransactionID:
		return fmt.Errorf("%w: a transaction id of 1 to %d characters is required", ErrInvalidRequest, maxTransactionID)
	case r.OrderNumber == "" || len(r.OrderNumber) > maxOrderNumber:
		return fmt.Errorf("%w: an order number of 1 to %d characters is required", ErrInvalidRequest, maxOrderNumber)
	case len(r.IdempotencyKey) > maxIdempotencyKey:
		return fmt.Errorf("%w: the idempotency key is longer than %d characters", ErrInvalidRequest, maxIdempotencyKey)
	case !r.Amount.IsPositive() || !r.Amount.Equal(r.Amount.Truncate(refundAmountPlaces)):
		return fmt.Errorf("%w: refund amount %s is not positive with at most 2 decimals", ErrInvalidRequest, r.Amount)
	case !currencyCode.MatchString(r.Currency):
		return fmt.Errorf("%w: currency %q is not a three-letter code", ErrInvalidRequest, r.Currency)
	}
	return nil
}

// Wire forms of a refund request and of its answer.
type (
	wireRefundRequest struct {
		ClientReferenceInformation wireClientReference `json:"clientReferenceInformation"`
		OrderInformation           struct {
			AmountDetails struct {
				TotalAmount string `json:"totalAmount"`
				Currency    string `json:"currency"`
			} `json:"amountDetails"`
		} `json:"orderInformation"`
	}
	wireClientReference struct {
		Code          string `json:"code"`
		TransactionID string `json:"transactionId,omitempty"`
	}
	wireRefundAnswer struct {
		ID                  string `json:"id"`
		Status              string `json:"status"`
		ReconciliationID    string `json:"reconciliationId"`
		RefundAmountDetails *struct {
			RefundAmount string `json:"refundAmount"`
			Currency     string `json:"currency"`
		} `json:"refundAmountDetails"`
	}
)

// toWire builds the JSON body of a refund.
func (r RefundRequest) toWire() wireRefundRequest {
	var w wireRefundRequest
	w.ClientReferenceInformation = wireClientReference{Code: r.OrderNumber, TransactionID: r.IdempotencyKey}
	w.OrderInformation.AmountDetails.TotalAmount = r.Amount.StringFixed(refundAmountPlaces)
	w.OrderInformation.AmountDetails.Currency = strings.ToUpper(r.Currency)
	return w
}

// RefundPayment refunds (part of) a payment: POST /pts/v2/payments/{id}/refunds. It returns an
// error wrapping ErrInvalidRequest or ErrNotConfigured before sending anything; a *RESTError
// for a non-2xx answer (IsDuplicateRequest for DUPLICATE_REQUEST; RESTError.Retryable for 5xx,
// 429, 408); an error wrapping ErrNoAnswer, ErrNotRecorded or ErrMalformedResponse otherwise.
func (c *RESTClient) RefundPayment(ctx context.Context, r RefundRequest) (Refund, error) {
	if err := r.validate(); err != nil {
		return Refund{}, fmt.Errorf("cybersource: refund: %w", err)
	}
	k := restCall{kind: KindRefund, method: http.MethodPost, path: RefundsPath(r.TransactionID), body: r.toWire(),
		orderNumber: r.OrderNumber, idempotencyKey: r.IdempotencyKey, paymentID: r.TransactionID}
	var w wireRefundAnswer
	header, err := c.do(ctx, k, &w)
	if err != nil {
		return Refund{}, fmt.Errorf("cybersource: refund %s of %s: %w", r.TransactionID, r.OrderNumber, err)
	}
	out := Refund{ID: w.ID, Status: w.Status, ReconciliationID: w.ReconciliationID, CorrelationID: header.Get(HeaderCorrelationID)}
	if w.ID == "" {
		return Refund{}, fmt.Errorf("cybersource: refund %s of %s: %w: answer without id", r.TransactionID, r.OrderNumber, ErrMalformedResponse)
	}
	if d := w.RefundAmountDetails; d != nil && d.RefundAmount != "" {
		if out.Amount, err = decimal.NewFromString(d.RefundAmount); err != nil {
			return Refund{}, fmt.Errorf("cybersource: refund %s of %s: %w: refund amount %q", r.TransactionID, r.OrderNumber, ErrMalformedResponse, d.RefundAmount)
		}
		out.Currency = d.Currency
	}
	return out, nil
}

// Exchange is one REST request and its answer, as handed to RESTConfig.Record. It never holds
// the shared secret or the request's headers (the signature among them).
type Exchange struct {
	// Kind is KindRefund.
	Kind string
	// Method and Path are those of the request, e.g. POST /pts/v2/payments/{id}/refunds.
	Method string
	Path   string
	// RequestBody is the JSON sent.
	RequestBody []byte
	// Status is the HTTP status of the answer, 0 when none arrived.
	Status int
	// ResponseBody is the answer's body, at most MaxRESTResponseBytes of it.
	ResponseBody []byte
	// Err describes why no (usable) answer arrived, if so.
	Err string
	// OrderNumber is the order the request is for; IdempotencyKey its
	// clientReferenceInformation.transactionId.
	OrderNumber    string
	IdempotencyKey string
	// PaymentID is the payment refunded; RefundID the refund's id from a 2xx answer.
	PaymentID string
	RefundID  string
	// CorrelationID is CyberSource's v-c-correlation-id of the answer.
	CorrelationID string
	// Started is when the request was sent; Duration how long the answer took.
	Started  time.Time
	Duration time.Duration
}

// TransactionID is the id the exchange is about: the refund, else the payment refunded.
func (e Exchange) TransactionID() string {
	if e.RefundID != "" {
		return e.RefundID
	}
	return e.PaymentID
}

// ProcessorResponse converts the exchange into the row the service records in
// payment_processor_responses. Authentic is true when CyberSource answered (we called its API
// over TLS with our credentials), and nil when no answer arrived.
func (e Exchange) ProcessorResponse() commerce.ProcessorResponse {
	body := map[string]string{
		"method": e.Method, "path": e.Path, "status": strconv.Itoa(e.Status),
		"request": string(e.RequestBody), "response": string(e.ResponseBody),
	}
	for k, v := range map[string]string{
		"idempotency_key": e.IdempotencyKey, "payment_id": e.PaymentID, "refund_id": e.RefundID,
		"correlation_id": e.CorrelationID, "error": e.Err,
	} {
		if v != "" {
			body[k] = v
		}
	}
	r := commerce.ProcessorResponse{Processor: Name, TransactionID: e.TransactionID(), OrderNumber: e.OrderNumber,
		Kind: e.Kind, Body: body}
	if e.Status != 0 {
		authentic := true
		r.Authentic = &authentic
	}
	return r
}
