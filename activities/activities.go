// Package activities holds the checkout's units of I/O. Each activity does one idempotent thing
// against the database, the LMS or the mail server; the workflow decides when.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/smtp"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/lms"
	"github.com/coursecommerce/commerce/payment"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Store is what the activities need from the database; *db.Store implements it.
type Store interface {
	Order(ctx context.Context, number string) (commerce.Order, error)
	ReceiptSent(ctx context.Context, number string) (bool, error)
	MarkReceiptSent(ctx context.Context, number string) error
	PlaceOrder(ctx context.Context, c commerce.Checkout, payment *commerce.Payment) (commerce.Order, bool, error)
	ReopenBasket(ctx context.Context, frozenBasketID int64) (int64, error)
	SetCheckoutStatus(ctx context.Context, number string, status commerce.CheckoutStatus) error
	RecordFulfillmentAttempts(ctx context.Context, number, sku string, status commerce.LineStatus, message string, attempts int) error
	FinishFulfillment(ctx context.Context, number string) (commerce.Order, error)
	MarkOrderFulfilled(ctx context.Context, number, note string) (commerce.Order, error)
	CreateEnrollmentCodes(ctx context.Context, number, sku string) ([]commerce.Voucher, error)
	FlagForOps(ctx context.Context, number, reason string, note bool) error
	AddOrderNote(ctx context.Context, number, noteType, message string) error
	RefundStore
}

// Enroller enrolls learners in the LMS; *lms.Client implements it.
type Enroller interface {
	Enroll(ctx context.Context, e lms.Enrollment) error
	// Unenroll revokes an enrollment (is_active false); "enrollment mode mismatch" is done.
	Unenroll(ctx context.Context, username, courseID, mode string) error
}

// Activities holds the dependencies of the checkout activities.
type Activities struct {
	// Deployment is this database's deployment identity; work carrying another is refused.
	Deployment string
	Store      Store
	LMS        Enroller
	Logger     *slog.Logger
	// SMTPAddr is host:port of the mail server for receipts; empty logs and skips.
	SMTPAddr string
	// MailFrom is the sender of receipts.
	MailFrom string
	// SendMail sends a message; nil means net/smtp.SendMail without authentication.
	SendMail func(addr string, a smtp.Auth, from string, to []string, msg []byte) error
	// Refunders credit payments back, by processor name ("cybersource", "paypal").
	Refunders map[string]payment.Refunder
}

// Error types the workflow reads from failed activities.
const (
	// ErrTypeLMSRejected is a permanent LMS refusal (4xx); it is not retried.
	ErrTypeLMSRejected = "LMSRejected"
	// ErrTypeWrongDeployment is work started by another deployment (another database) that
	// reached this worker; it is refused, never retried, and fails the workflow.
	ErrTypeWrongDeployment = "WrongDeployment"
	// ErrTypeAlreadyOwned is an order refused because the learner already owns one of its seats.
	ErrTypeAlreadyOwned = "AlreadyOwned"
)

// checkDeployment refuses work whose deployment identity is not this database's. Work without an
// identity was started before identities existed (a checkout running across the upgrade): it is
// accepted, since serve and worker now refuse a namespace another deployment owns.
func (a *Activities) checkDeployment(deployment string) error {
	if deployment == a.Deployment || deployment == "" {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("work of deployment %q refused by a worker of deployment %q: two deployments share one Temporal namespace", deployment, a.Deployment),
		ErrTypeWrongDeployment, nil)
}

// OrderRef names an order of one deployment.
type OrderRef struct {
	OrderNumber string `json:"order_number"`
	Deployment  string `json:"deployment"`
}

// OrderState is what the database says about an order number.
type OrderState struct {
	Placed bool           `json:"placed"`
	Order  commerce.Order `json:"order"`
}

// LoadOrder returns the order of a number if it has been placed. A recovering workflow uses it
// to skip what is already done. It is every run's first step, so a workflow of another
// deployment fails here before it touches anything.
func (a *Activities) LoadOrder(ctx context.Context, ref OrderRef) (OrderState, error) {
	if err := a.checkDeployment(ref.Deployment); err != nil {
		return OrderState{}, err
	}
	number := ref.OrderNumber
	o, err := a.Store.Order(ctx, number)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		return OrderState{}, nil
	}
	if err != nil {
		return OrderState{}, fmt.Errorf("load order %s: %w", number, err)
	}
	return OrderState{Placed: true, Order: o}, nil
}

// PlaceOrderInput is a checkout and, unless it is free, the accepted payment.
type PlaceOrderInput struct {
	Checkout   commerce.Checkout `json:"checkout"`
	Payment    *commerce.Payment `json:"payment,omitempty"`
	Deployment string            `json:"deployment"`
}

// PlaceOrder records the payment and places the order in one transaction; idempotent on the
// order number. An order that would sell the learner a seat they already own is refused
// (ErrTypeAlreadyOwned, not retried): the workflow asks ops to refund the payment.
func (a *Activities) PlaceOrder(ctx context.Context, in PlaceOrderInput) (commerce.Order, error) {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return commerce.Order{}, err
	}
	o, created, err := a.Store.PlaceOrder(ctx, in.Checkout, in.Payment)
	if errors.Is(err, commerce.ErrAlreadyOwned) {
		return commerce.Order{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeAlreadyOwned, err)
	}
	if err != nil {
		return commerce.Order{}, fmt.Errorf("place order %s: %w", in.Checkout.OrderNumber, err)
	}
	if !created {
		a.logger(ctx).Info("order already placed", "order_number", o.Number)
	}
	return o, nil
}

// ReopenInput names the frozen basket of a checkout that ended without payment.
type ReopenInput struct {
	OrderNumber string                  `json:"order_number"`
	BasketID    int64                   `json:"basket_id"`
	Status      commerce.CheckoutStatus `json:"status"`
	Deployment  string                  `json:"deployment"`
}

// ReopenBasket gives the learner an open basket with the same lines and records why the
// checkout ended. It returns the open basket's id.
func (a *Activities) ReopenBasket(ctx context.Context, in ReopenInput) (int64, error) {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return 0, err
	}
	id, err := a.Store.ReopenBasket(ctx, in.BasketID)
	if err != nil {
		return 0, fmt.Errorf("reopen basket %d: %w", in.BasketID, err)
	}
	if err := a.Store.SetCheckoutStatus(ctx, in.OrderNumber, in.Status); err != nil {
		return 0, fmt.Errorf("set status of %s: %w", in.OrderNumber, err)
	}
	return id, nil
}

// SetCheckoutStatus mirrors a checkout status into the database.
func (a *Activities) SetCheckoutStatus(ctx context.Context, number string, status commerce.CheckoutStatus) error {
	if err := a.Store.SetCheckoutStatus(ctx, number, status); err != nil {
		return fmt.Errorf("set status of %s: %w", number, err)
	}
	return nil
}

// EnrollInput is one seat line to fulfil.
type EnrollInput struct {
	OrderNumber    string    `json:"order_number"`
	SKU            string    `json:"sku"`
	Username       string    `json:"username"`
	CourseID       string    `json:"course_id"`
	Mode           string    `json:"mode"`
	CreditProvider string    `json:"credit_provider"`
	DatePlaced     time.Time `json:"date_placed"`
	Deployment     string    `json:"deployment"`
}

// EnrollResult is a completed enrollment.
type EnrollResult struct {
	Attempts int `json:"attempts"`
}

// Enroll enrolls the learner in the LMS and marks the line Complete. Network errors, timeouts
// and 5xx are returned for Temporal to retry (the line is marked with the error kind meanwhile);
// a 4xx is permanent (ErrTypeLMSRejected). The LMS call is an upsert, so a retry after a lost
// answer enrolls once.
func (a *Activities) Enroll(ctx context.Context, in EnrollInput) (EnrollResult, error) {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return EnrollResult{}, err
	}
	attempt := int(activity.GetInfo(ctx).Attempt)
	err := a.LMS.Enroll(ctx, lms.Enrollment{
		Username: in.Username, Mode: in.Mode, CourseID: in.CourseID, OrderNumber: in.OrderNumber,
		DatePlaced: in.DatePlaced, CreditProvider: in.CreditProvider,
	})
	if err == nil {
		if err := a.Store.RecordFulfillmentAttempts(ctx, in.OrderNumber, in.SKU, commerce.LineComplete, "", 1); err != nil {
			return EnrollResult{}, fmt.Errorf("mark line %s of %s complete: %w", in.SKU, in.OrderNumber, err)
		}
		return EnrollResult{Attempts: attempt}, nil
	}
	status, message, retryable := classify(err)
	// The LMS's words are stored: keep them text PostgreSQL accepts (no NUL, valid UTF-8).
	message = strings.ToValidUTF8(strings.ReplaceAll(message, "\x00", ""), "\uFFFD")
	if serr := a.Store.RecordFulfillmentAttempts(ctx, in.OrderNumber, in.SKU, status, message, 1); serr != nil {
		a.logger(ctx).Error("cannot record fulfillment error", "order_number", in.OrderNumber, "sku", in.SKU, "err", serr)
	}
	// No cause: message is already the LMS error's text, and a cause would repeat it (twice more,
	// through the client's wrapping) in the failure and in the checkout's status query.
	if !retryable {
		return EnrollResult{}, temporal.NewNonRetryableApplicationError(message, ErrTypeLMSRejected, nil, string(status))
	}
	return EnrollResult{}, temporal.NewApplicationError(message, string(status))
}

// classify maps an LMS error to the line status edX would give it.
func classify(err error) (commerce.LineStatus, string, bool) {
	var lmsErr *lms.Error
	if errors.As(err, &lmsErr) {
		return commerce.LineStatus(lmsErr.Kind.LineStatus()), lmsErr.Error(), lmsErr.Retryable()
	}
	if errors.Is(err, lms.ErrNotConfigured) || errors.Is(err, lms.ErrInvalidEnrollment) {
		return commerce.LineConfigurationError, err.Error(), false
	}
	return commerce.LineServerError, err.Error(), true
}

// EnrollmentCodesInput is an enrollment-code line to fulfil.
type EnrollmentCodesInput struct {
	OrderNumber string `json:"order_number"`
	SKU         string `json:"sku"`
	Deployment  string `json:"deployment"`
}

// CreateEnrollmentCodes creates the codes an enrollment-code line bought (one single-use 100%
// code per unit) and completes the line; idempotent.
func (a *Activities) CreateEnrollmentCodes(ctx context.Context, in EnrollmentCodesInput) (int, error) {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return 0, err
	}
	codes, err := a.Store.CreateEnrollmentCodes(ctx, in.OrderNumber, in.SKU)
	if err != nil {
		return 0, fmt.Errorf("create enrollment codes of %s line %s: %w", in.OrderNumber, in.SKU, err)
	}
	return len(codes), nil
}

// FinishFulfillment sets the order Complete or Fulfillment Error from its lines.
func (a *Activities) FinishFulfillment(ctx context.Context, number string) (commerce.Order, error) {
	o, err := a.Store.FinishFulfillment(ctx, number)
	if err != nil {
		return commerce.Order{}, fmt.Errorf("finish fulfillment of %s: %w", number, err)
	}
	return o, nil
}

// MarkFulfilledInput is an operator's decision to consider an order fulfilled.
type MarkFulfilledInput struct {
	OrderNumber string `json:"order_number"`
	Note        string `json:"note"`
	Deployment  string `json:"deployment"`
}

// MarkOrderFulfilled completes every line and the order, with a note.
func (a *Activities) MarkOrderFulfilled(ctx context.Context, in MarkFulfilledInput) (commerce.Order, error) {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return commerce.Order{}, err
	}
	note := "Marked fulfilled by an operator."
	if in.Note != "" {
		note += " " + in.Note
	}
	o, err := a.Store.MarkOrderFulfilled(ctx, in.OrderNumber, note)
	if err != nil {
		return commerce.Order{}, fmt.Errorf("mark %s fulfilled: %w", in.OrderNumber, err)
	}
	return o, nil
}

// FlagInput is a checkout that ops must look at, and why.
type FlagInput struct {
	OrderNumber string `json:"order_number"`
	Reason      string `json:"reason"`
	// Note adds Reason as an Error note to the order (when the order exists).
	Note       bool   `json:"note"`
	Deployment string `json:"deployment"`
}

// FlagForOps records that a checkout needs attention: its status and reason, and (with Note) an
// Error note on its order when there is one. Idempotent.
func (a *Activities) FlagForOps(ctx context.Context, in FlagInput) error {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return err
	}
	if err := a.Store.FlagForOps(ctx, in.OrderNumber, in.Reason, in.Note); err != nil {
		return fmt.Errorf("flag %s for ops: %w", in.OrderNumber, err)
	}
	a.logger(ctx).Error("checkout needs attention", "order_number", in.OrderNumber, "reason", in.Reason)
	return nil
}

// NoteInput is a note to add to an order.
type NoteInput struct {
	OrderNumber string `json:"order_number"`
	Type        string `json:"type"`
	Message     string `json:"message"`
	Deployment  string `json:"deployment"`
}

// NoteOrder adds a note to an order (nothing when the checkout has no order).
func (a *Activities) NoteOrder(ctx context.Context, in NoteInput) error {
	if err := a.checkDeployment(in.Deployment); err != nil {
		return err
	}
	if err := a.Store.AddOrderNote(ctx, in.OrderNumber, in.Type, in.Message); err != nil {
		return fmt.Errorf("note on order %s: %w", in.OrderNumber, err)
	}
	return nil
}

// SendReceipt emails the order's receipt to the learner; without SMTPAddr it logs and skips.
func (a *Activities) SendReceipt(ctx context.Context, number string) error {
	if a.SMTPAddr == "" {
		a.logger(ctx).Info("receipt not emailed (no SMTP_ADDR)", "order_number", number)
		return nil
	}
	o, err := a.Store.Order(ctx, number)
	if err != nil {
		return fmt.Errorf("load order %s for its receipt: %w", number, err)
	}
	if o.Email == "" {
		a.logger(ctx).Info("receipt not emailed (the learner has no email)", "order_number", number)
		return nil
	}
	// The step may run again (a retry after a lost answer, a replayed workflow task): one email.
	if sent, err := a.Store.ReceiptSent(ctx, number); err != nil {
		return fmt.Errorf("check the receipt of %s: %w", number, err)
	} else if sent {
		a.logger(ctx).Info("receipt already emailed", "order_number", number)
		return nil
	}
	if err := a.mail(o.Email, receiptMessage(a.MailFrom, o)); err != nil {
		return fmt.Errorf("email receipt of %s: %w", number, err)
	}
	if err := a.Store.MarkReceiptSent(ctx, number); err != nil {
		// Sent: a retry would email it again. The learner has it; only the record is missing.
		a.logger(ctx).Warn("receipt emailed but not recorded as sent", "order_number", number, "err", err)
	}
	return nil
}

// mail sends msg to one recipient through SMTPAddr (receipts and refund emails).
func (a *Activities) mail(to string, msg []byte) error {
	send := a.SendMail
	if send == nil {
		send = smtp.SendMail
	}
	return send(a.SMTPAddr, nil, a.MailFrom, []string{to}, msg)
}

func receiptMessage(from string, o commerce.Order) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: Receipt for order %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", from, o.Email, o.Number)
	fmt.Fprintf(&b, "Thank you for your order %s.\r\n\r\n", o.Number)
	for _, l := range o.Lines {
		fmt.Fprintf(&b, "  %s  x%d  %s %s\r\n", l.Title, l.Quantity, commerce.FormatMoney(l.LinePrice), o.Currency)
	}
	fmt.Fprintf(&b, "\r\nTotal: %s %s\r\n", commerce.FormatMoney(o.TotalInclTax), o.Currency)
	return []byte(b.String())
}

func (a *Activities) logger(ctx context.Context) *slog.Logger {
	l := a.Logger
	if l == nil {
		l = slog.Default()
	}
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		l = l.With("workflow_id", info.WorkflowExecution.ID, "activity", info.ActivityType.Name)
	}
	return l
}
