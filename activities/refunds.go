package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/payment"
	"go.temporal.io/sdk/temporal"
)

// RefundStore is what the refund activities need from the database; *db.Store implements it.
type RefundStore interface {
	Refund(ctx context.Context, id int64) (commerce.Refund, error)
	SetRefundStatus(ctx context.Context, id int64, status commerce.RefundStatus) (commerce.Refund, error)
	SetRefundLineStatus(ctx context.Context, refundID, lineID int64, status commerce.RefundLineStatus) error
	RecordRefundCredit(ctx context.Context, refundID int64, processorRefundID string) error
	CreatePaymentRefund(ctx context.Context, r commerce.Refund) (commerce.Refund, bool, error)
	CreateRefunds(ctx context.Context, owner commerce.User, courseID, orderNumber string) ([]commerce.Refund, error)
}

// Error types the refund workflow reads from failed activities.
const (
	// ErrTypeRefundRefused is a processor's refusal to credit a payment: ops decide.
	ErrTypeRefundRefused = "RefundRefused"
	// ErrTypeRevocationRefused is the LMS refusing to unenroll (a 4xx): ops decide.
	ErrTypeRevocationRefused = "RevocationRefused"
)

// RefundRef names a refund of one deployment.
type RefundRef struct {
	RefundID   int64  `json:"refund_id"`
	Deployment string `json:"deployment"`
}

// LoadRefund returns a refund with its lines.
func (a *Activities) LoadRefund(ctx context.Context, ref RefundRef) (commerce.Refund, error) {
	if err := a.checkDeployment(ref.Deployment); err != nil {
		return commerce.Refund{}, err
	}
	r, err := a.Store.Refund(ctx, ref.RefundID)
	if err != nil {
		return commerce.Refund{}, fmt.Errorf("load refund %d: %w", ref.RefundID, err)
	}
	return r, nil
}

// RefundStatusInput moves a refund to a status.
type RefundStatusInput struct {
	RefundID   int64                 `json:"refund_id"`
	Status     commerce.RefundStatus `json:"status"`
	Deployment string                `json:"deployment"`
}

// SetRefundStatus moves a refund to a status (a transition edX does not allow is an error).
func (a *Activities) SetRefundStatus(ctx context.Context, in RefundStatusInput) (commerce.Refund, error) {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return commerce.Refund{}, err
	}
	r, err := a.Store.SetRefundStatus(ctx, in.RefundID, in.Status)
	if err != nil {
		return commerce.Refund{}, fmt.Errorf("set refund %d %s: %w", in.RefundID, in.Status, err)
	}
	return r, nil
}

// IssueCredit credits the refund's payment back at its processor, once: the request carries the
// idempotency key refund-<id>, and "already refunded" counts as done. A refund of nothing, or of
// a free order, is credited without a call. On success the credit is recorded (payment event
// Refunded) and the refund is Payment Refunded. A refusal by the processor marks the refund
// Payment Refund Error and fails without retry (ErrTypeRefundRefused); any other failure is
// returned for Temporal to retry.
func (a *Activities) IssueCredit(ctx context.Context, ref RefundRef) (commerce.Refund, error) {
	r, err := a.LoadRefund(ctx, ref)
	if err != nil {
		return r, err
	}
	if r.Status != commerce.RefundOpen && r.Status != commerce.RefundPaymentRefundError {
		return r, nil // credited before (a retried activity, or a resumed workflow)
	}
	processorRefundID := ""
	if r.Total.IsPositive() && r.Processor != "" && r.Processor != "free" {
		refunder, ok := a.Refunders[r.Processor]
		if !ok {
			return r, a.refuseCredit(ctx, r, fmt.Errorf("no refunds configured for processor %q", r.Processor))
		}
		res, err := refunder.Refund(ctx, payment.RefundRequest{OrderNumber: r.OrderNumber, Reference: r.Reference,
			Amount: r.Total, Currency: r.Currency, IdempotencyKey: fmt.Sprintf("refund-%d", r.ID)})
		if errors.Is(err, payment.ErrRefundRefused) {
			return r, a.refuseCredit(ctx, r, err)
		}
		if err != nil {
			return r, fmt.Errorf("credit refund %d at %s: %w", r.ID, r.Processor, err)
		}
		processorRefundID = res.ID
	}
	if err := a.Store.RecordRefundCredit(ctx, r.ID, processorRefundID); err != nil {
		return r, fmt.Errorf("record the credit of refund %d: %w", r.ID, err)
	}
	if r, err = a.Store.SetRefundStatus(ctx, r.ID, commerce.RefundPaymentRefunded); err != nil {
		return r, fmt.Errorf("refund %d Payment Refunded: %w", ref.RefundID, err)
	}
	return r, nil
}

// refuseCredit marks a refund Payment Refund Error and returns the non-retryable failure.
func (a *Activities) refuseCredit(ctx context.Context, r commerce.Refund, cause error) error {
	if _, err := a.Store.SetRefundStatus(ctx, r.ID, commerce.RefundPaymentRefundError); err != nil {
		return fmt.Errorf("refund %d Payment Refund Error: %w", r.ID, err)
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s refused to credit refund %d: %v", r.Processor, r.ID, cause),
		ErrTypeRefundRefused, cause)
}

// RevokeInput is one line of a refund whose enrollment is revoked.
type RevokeInput struct {
	RefundID   int64  `json:"refund_id"`
	LineID     int64  `json:"line_id"`
	Username   string `json:"username"`
	CourseID   string `json:"course_id"`
	Mode       string `json:"mode"`
	Deployment string `json:"deployment"`
}

// RevokeEnrollment unenrolls the learner from a refunded line's course (is_active false; edX's
// "enrollment mode mismatch" counts as revoked) and marks the line Complete. A 4xx marks it
// Revocation Error and fails without retry (ErrTypeRevocationRefused); network errors, timeouts
// and 5xx are returned for Temporal to retry.
func (a *Activities) RevokeEnrollment(ctx context.Context, in RevokeInput) error {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return err
	}
	err := a.LMS.Unenroll(ctx, in.Username, in.CourseID, in.Mode)
	if err == nil {
		if err := a.Store.SetRefundLineStatus(ctx, in.RefundID, in.LineID, commerce.RefundLineComplete); err != nil {
			return fmt.Errorf("refund %d line %d Complete: %w", in.RefundID, in.LineID, err)
		}
		return nil
	}
	_, message, retryable := classify(err)
	if retryable {
		return temporal.NewApplicationError(message, "RevocationFailed", err)
	}
	if serr := a.Store.SetRefundLineStatus(ctx, in.RefundID, in.LineID, commerce.RefundLineRevocationError); serr != nil {
		return fmt.Errorf("refund %d line %d Revocation Error: %w", in.RefundID, in.LineID, serr)
	}
	return temporal.NewNonRetryableApplicationError(message, ErrTypeRevocationRefused, err)
}

// RefundLinesInput sets every open (or failed) line of a refund to a status.
type RefundLinesInput struct {
	RefundID   int64                     `json:"refund_id"`
	Status     commerce.RefundLineStatus `json:"status"`
	Deployment string                    `json:"deployment"`
}

// SetRefundLines sets the lines of a refund that are not Complete or Denied to a status (e.g.
// Complete when staff approve the payment only, or an operator marks them revoked).
func (a *Activities) SetRefundLines(ctx context.Context, in RefundLinesInput) (commerce.Refund, error) {
	r, err := a.LoadRefund(ctx, RefundRef{RefundID: in.RefundID, Deployment: in.Deployment})
	if err != nil {
		return r, err
	}
	for _, l := range r.Lines {
		if l.Status == commerce.RefundLineComplete || l.Status == commerce.RefundLineDenied {
			continue
		}
		if err := a.Store.SetRefundLineStatus(ctx, r.ID, l.ID, in.Status); err != nil {
			return r, fmt.Errorf("refund %d line %d %s: %w", r.ID, l.ID, in.Status, err)
		}
	}
	return a.LoadRefund(ctx, RefundRef{RefundID: in.RefundID, Deployment: in.Deployment})
}

// PaymentRefundInput is a payment to give back without lines (excessive, or its order refused).
type PaymentRefundInput struct {
	Refund     commerce.Refund `json:"refund"`
	Deployment string          `json:"deployment"`
}

// CreatePaymentRefund records the refund of a payment, once per payment (processor and
// reference), and returns its id.
func (a *Activities) CreatePaymentRefund(ctx context.Context, in PaymentRefundInput) (int64, error) {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return 0, err
	}
	r, _, err := a.Store.CreatePaymentRefund(ctx, in.Refund)
	if err != nil {
		return 0, fmt.Errorf("create the refund of %s payment %s: %w", in.Refund.Processor, in.Refund.Reference, err)
	}
	return r.ID, nil
}

// OrderRefundInput is an order an operator refunds whole.
type OrderRefundInput struct {
	OrderNumber string `json:"order_number"`
	UserID      int64  `json:"user_id"`
	Username    string `json:"username"`
	Deployment  string `json:"deployment"`
}

// CreateOrderRefund creates the refund of the order's lines not refunded yet and returns its
// ids (none when everything is refunded already).
func (a *Activities) CreateOrderRefund(ctx context.Context, in OrderRefundInput) ([]int64, error) {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return nil, err
	}
	rs, err := a.Store.CreateRefunds(ctx, commerce.User{ID: in.UserID, Username: in.Username}, "", in.OrderNumber)
	if err != nil {
		return nil, fmt.Errorf("create the refund of order %s: %w", in.OrderNumber, err)
	}
	ids := make([]int64, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// SendRefundEmail tells the learner what was refunded; without SMTPAddr it logs and skips.
func (a *Activities) SendRefundEmail(ctx context.Context, ref RefundRef) error {
	r, err := a.LoadRefund(ctx, ref)
	if err != nil {
		return err
	}
	if a.SMTPAddr == "" || r.Email == "" {
		a.logger(ctx).Info("refund email not sent (no SMTP_ADDR or no email)", "refund_id", r.ID, "email", r.Email)
		return nil
	}
	if err := a.mail(r.Email, refundMessage(a.MailFrom, r)); err != nil {
		return fmt.Errorf("email refund %d: %w", r.ID, err)
	}
	return nil
}

func refundMessage(from string, r commerce.Refund) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: Refund of order %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", from, r.Email, r.OrderNumber)
	fmt.Fprintf(&b, "We have refunded %s %s of your order %s.\r\n\r\n", commerce.FormatMoney(r.Total), r.Currency, r.OrderNumber)
	for _, l := range r.Lines {
		fmt.Fprintf(&b, "  %s  %s %s\r\n", l.Title, commerce.FormatMoney(l.Credit), r.Currency)
	}
	b.WriteString("\r\nYour enrollment in these courses has ended.\r\n")
	return []byte(b.String())
}
