package commerce

import (
	"time"

	"github.com/shopspring/decimal"
)

// RefundStatus is a refund's state, as edX names it.
type RefundStatus string

// Refund statuses and their transitions: Open -> Denied | Payment Refund Error | Payment
// Refunded; Payment Refund Error -> Payment Refunded | Payment Refund Error; Payment Refunded ->
// Revocation Error | Complete; Revocation Error -> Revocation Error | Complete.
const (
	RefundOpen               RefundStatus = "Open"
	RefundDenied             RefundStatus = "Denied"
	RefundPaymentRefundError RefundStatus = "Payment Refund Error"
	RefundPaymentRefunded    RefundStatus = "Payment Refunded"
	RefundRevocationError    RefundStatus = "Revocation Error"
	RefundComplete           RefundStatus = "Complete"
)

// refundTransitions lists where each refund status may go.
var refundTransitions = map[RefundStatus][]RefundStatus{
	RefundOpen:               {RefundDenied, RefundPaymentRefundError, RefundPaymentRefunded, RefundComplete},
	RefundPaymentRefundError: {RefundPaymentRefunded, RefundPaymentRefundError},
	RefundPaymentRefunded:    {RefundRevocationError, RefundComplete},
	RefundRevocationError:    {RefundRevocationError, RefundComplete},
}

// CanBecome reports whether a refund in status s may move to next (staying is allowed where
// edX allows it). Open -> Complete is the approval of a refund of nothing (zero credit).
func (s RefundStatus) CanBecome(next RefundStatus) bool {
	for _, t := range refundTransitions[s] {
		if t == next {
			return true
		}
	}
	return false
}

// Final reports whether nothing more happens to a refund in status s.
func (s RefundStatus) Final() bool { return s == RefundDenied || s == RefundComplete }

// RefundLineStatus is a refund line's state.
type RefundLineStatus string

// Refund line statuses.
const (
	RefundLineOpen            RefundLineStatus = "Open"
	RefundLineRevocationError RefundLineStatus = "Revocation Error"
	RefundLineDenied          RefundLineStatus = "Denied"
	RefundLineComplete        RefundLineStatus = "Complete"
)

// RefundAction is what staff decide about a refund (PUT /api/v2/refunds/{id}/process/).
type RefundAction string

// Refund actions.
const (
	RefundApprove            RefundAction = "approve"
	RefundApprovePaymentOnly RefundAction = "approve_payment_only"
	RefundDeny               RefundAction = "deny"
)

// Refund gives money back for lines of an order (and revokes their enrollments), or for a
// payment that should not have been taken (an excessive or refused payment: no lines, nothing
// to revoke). Total is what is credited: the price actually paid for the lines, after discounts.
type Refund struct {
	ID          int64
	OrderID     int64 // 0 for a payment with no order (a refused second order)
	OrderNumber string
	UserID      int64
	Username    string
	Email       string
	Total       decimal.Decimal
	Currency    string
	Status      RefundStatus
	// Processor and Reference name the payment to credit (the processor's transaction or
	// capture id); empty for a free order.
	Processor string
	Reference string
	// Reason says why the refund exists (e.g. "Excessive payment ..."); empty for a learner's.
	Reason    string
	Lines     []RefundLine
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RefundLine is one order line of a refund.
type RefundLine struct {
	ID          int64
	OrderLineID int64
	SKU         string
	Title       string
	CourseID    string
	Mode        string
	Credit      decimal.Decimal
	Quantity    int
	Status      RefundLineStatus
}

// IsPaymentOnly reports whether the refund credits a payment without lines to revoke.
func (r Refund) IsPaymentOnly() bool { return len(r.Lines) == 0 }

// refundLineTransitions lists where each refund line status may go (edX's pipeline).
var refundLineTransitions = map[RefundLineStatus][]RefundLineStatus{
	RefundLineOpen:            {RefundLineDenied, RefundLineRevocationError, RefundLineComplete},
	RefundLineRevocationError: {RefundLineRevocationError, RefundLineComplete},
}

// CanBecome reports whether a refund line in status s may move to next: Open -> Denied |
// Revocation Error | Complete; Revocation Error -> Revocation Error | Complete; Denied and
// Complete are final.
func (s RefundLineStatus) CanBecome(next RefundLineStatus) bool {
	for _, t := range refundLineTransitions[s] {
		if t == next {
			return true
		}
	}
	return false
}
