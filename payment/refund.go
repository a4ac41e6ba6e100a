// Package payment holds what every processor adapter shares: the refund contract. Each
// processor lives in its own sub-package (cybersource, paypal).
package payment

import (
	"context"
	"errors"

	"github.com/shopspring/decimal"
)

// RefundRequest asks a processor to give back Amount of the payment Reference (the
// processor's transaction or capture id) of order OrderNumber.
type RefundRequest struct {
	OrderNumber string
	// Reference is the payment to credit: CyberSource's transaction id, PayPal's capture id.
	Reference string
	Amount    decimal.Decimal
	Currency  string
	// IdempotencyKey is the same for every attempt of one refund (e.g. "refund-42"), so that
	// a retried request never credits twice.
	IdempotencyKey string
}

// RefundResult is the processor's answer to a refund.
type RefundResult struct {
	// ID is the processor's refund id ("" when AlreadyRefunded and the processor does not say).
	ID string
	// Pending is set when the processor accepted the refund but has not completed it yet.
	Pending bool
	// AlreadyRefunded is set when the processor says the payment was refunded before (by an
	// earlier attempt whose answer was lost): the refund counts as done.
	AlreadyRefunded bool
}

// ErrRefundRefused wraps a refund the processor refuses for good (a 4xx other than "already
// refunded": unknown transaction, amount above what is left, ...): retrying cannot help, ops
// must decide. Any other error is transient and worth retrying.
var ErrRefundRefused = errors.New("payment: refund refused by the processor")

// Refunder credits payments back at one processor. Refund is idempotent on
// RefundRequest.IdempotencyKey; it returns an error wrapping ErrRefundRefused when the processor
// refuses for good, and any other error for a failure worth retrying.
type Refunder interface {
	Refund(ctx context.Context, r RefundRequest) (RefundResult, error)
}
