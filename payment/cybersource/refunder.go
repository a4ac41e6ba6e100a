package cybersource

import (
	"context"
	"errors"
	"fmt"

	"github.com/coursecommerce/commerce/payment"
)

// Refunder credits Secure Acceptance sales back through the REST API (edX used the SOAP
// Simple Order API's ccCreditService; the REST refund is a deliberate deviation). It
// implements payment.Refunder and makes one attempt per call: retries are the caller's, with
// the same idempotency key.
type Refunder struct {
	// Client calls the REST API.
	Client *RESTClient
}

var _ payment.Refunder = Refunder{}

// Refund refunds r.Amount of payment r.Reference (the sale's transaction id), sending
// r.IdempotencyKey as clientReferenceInformation.transactionId:
//
//   - 201 PENDING: accepted for the next settlement, Pending; TRANSMITTED or REFUNDED: done.
//   - 400 DUPLICATE_REQUEST: an earlier attempt of this refund (whose answer was lost) was
//     carried out: AlreadyRefunded, with no id.
//   - any other 4xx (unknown payment, amount above what is left, invalid data, bad
//     credentials), an invalid request and a missing configuration: an error wrapping
//     payment.ErrRefundRefused.
//   - no answer, 5xx, 429, 408, an answer that could not be recorded or understood: a plain
//     error, worth retrying with the same key.
func (f Refunder) Refund(ctx context.Context, r payment.RefundRequest) (payment.RefundResult, error) {
	if f.Client == nil {
		return payment.RefundResult{}, fmt.Errorf("%w: cybersource: %w: no REST client", payment.ErrRefundRefused, ErrNotConfigured)
	}
	if r.IdempotencyKey == "" {
		return payment.RefundResult{}, fmt.Errorf("%w: cybersource: %w: no idempotency key", payment.ErrRefundRefused, ErrInvalidRequest)
	}
	refund, err := f.Client.RefundPayment(ctx, RefundRequest{
		TransactionID: r.Reference, OrderNumber: r.OrderNumber, IdempotencyKey: r.IdempotencyKey,
		Amount: r.Amount, Currency: r.Currency,
	})
	switch {
	case err == nil:
		return refundResult(refund)
	case IsDuplicateRequest(err):
		return payment.RefundResult{AlreadyRefunded: true}, nil
	case refused(err):
		return payment.RefundResult{}, fmt.Errorf("%w: %w", payment.ErrRefundRefused, err)
	}
	return payment.RefundResult{}, err
}

// refundResult maps an accepted refund to its result.
func refundResult(r Refund) (payment.RefundResult, error) {
	switch r.Status {
	case RefundPending:
		return payment.RefundResult{ID: r.ID, Pending: true}, nil
	case RefundTransmitted, RefundRefunded:
		return payment.RefundResult{ID: r.ID}, nil
	}
	return payment.RefundResult{}, fmt.Errorf("cybersource: refund %s: %w: status %q", r.ID, ErrMalformedResponse, r.Status)
}

// refused reports whether a refund error is final: retrying the same request cannot help.
func refused(err error) bool {
	if errors.Is(err, ErrInvalidRequest) || errors.Is(err, ErrNotConfigured) {
		return true
	}
	var e *RESTError
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && !e.Retryable()
}
