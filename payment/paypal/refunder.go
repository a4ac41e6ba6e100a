package paypal

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/coursecommerce/commerce/payment"
)

// Refunder refunds PayPal captures; it implements payment.Refunder. It makes one attempt per
// call: retries are the caller's, with the same idempotency key.
type Refunder struct {
	// Client calls the API.
	Client *Client
	// RequestIDPrefix starts every PayPal-Request-Id, as Processor.RequestIDPrefix (use the
	// same value). Optional.
	RequestIDPrefix string
}

var _ payment.Refunder = Refunder{}

// Refunder returns the refunder of the processor's client and request id prefix.
func (p Processor) Refunder() Refunder {
	return Refunder{Client: p.Client, RequestIDPrefix: p.RequestIDPrefix}
}

// Refund refunds r.Amount (in r.Currency) of capture r.Reference. Its PayPal-Request-Id
// derives from r.IdempotencyKey (and the prefix), so a retry after a lost answer gets the
// first refund again rather than a second one.
//
//   - A COMPLETED refund is done; a PENDING one is Pending.
//   - 422 CAPTURE_FULLY_REFUNDED: the capture was refunded before: AlreadyRefunded, no id.
//   - Any other 4xx (unknown capture, amount above what is left, insufficient funds, bad
//     credentials), a FAILED or CANCELLED refund, an invalid request (no key, an amount that
//     is not positive) and a missing configuration: an error wrapping payment.ErrRefundRefused.
//   - No answer, 5xx, 429, an answer that could not be recorded or understood: a plain error,
//     worth retrying with the same key.
func (f Refunder) Refund(ctx context.Context, r payment.RefundRequest) (payment.RefundResult, error) {
	switch {
	case f.Client == nil:
		return payment.RefundResult{}, fmt.Errorf("%w: paypal: %w: no client", payment.ErrRefundRefused, ErrNotConfigured)
	case r.IdempotencyKey == "" || r.Reference == "":
		return payment.RefundResult{}, fmt.Errorf("%w: paypal: %w: a capture id and an idempotency key are required",
			payment.ErrRefundRefused, ErrInvalidRequest)
	case !r.Amount.IsPositive():
		// RefundCapture would take a zero amount for "what is left": a refund says how much.
		return payment.RefundResult{}, fmt.Errorf("%w: paypal: %w: refund amount %s is not positive",
			payment.ErrRefundRefused, ErrInvalidRequest, r.Amount)
	}
	ctx = WithOrderNumber(ctx, r.OrderNumber)
	requestID := Processor{RequestIDPrefix: f.RequestIDPrefix}.requestID("refund", r.IdempotencyKey)
	refund, err := f.Client.RefundCapture(ctx, r.Reference, requestID, r.Amount, r.Currency)
	switch {
	case err == nil:
		return refundResult(refund)
	case IsAlreadyRefunded(err):
		return payment.RefundResult{AlreadyRefunded: true}, nil
	case refundRefused(err):
		return payment.RefundResult{}, fmt.Errorf("%w: %w", payment.ErrRefundRefused, err)
	}
	return payment.RefundResult{}, err
}

// refundResult maps a refund PayPal made to its result.
func refundResult(r Refund) (payment.RefundResult, error) {
	switch r.Status {
	case RefundCompleted:
		return payment.RefundResult{ID: r.ID}, nil
	case RefundPending:
		return payment.RefundResult{ID: r.ID, Pending: true}, nil
	case RefundFailed, RefundCancelled:
		return payment.RefundResult{}, fmt.Errorf("%w: paypal: refund %s is %s %s", payment.ErrRefundRefused, r.ID, r.Status, r.StatusReason)
	}
	return payment.RefundResult{}, fmt.Errorf("paypal: refund %s: %w: status %q", r.ID, ErrMalformedResponse, r.Status)
}

// refundRefused reports whether a refund error is final: retrying the same request cannot help.
func refundRefused(err error) bool {
	if errors.Is(err, ErrInvalidRequest) || errors.Is(err, ErrNotConfigured) {
		return true
	}
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && !apiErr.Retryable() &&
		apiErr.Status != http.StatusRequestTimeout
}
