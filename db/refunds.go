package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// CreateRefunds creates edX's refunds (Refund.create_with_lines) of the owner's orders, in one
// transaction: with courseID, of each Complete order holding lines of that course (order lines'
// course id), for those lines; with orderNumber, of that order once its fulfillment has ended
// (Complete or Fulfillment Error), for its lines of courseID or, without one, all its lines.
// Only lines that are in no refund (other than denied ones) are taken. Each refund is Open, of
// kind lines, credits the price actually paid for its lines (after discounts) in the order's
// currency, and names the order's payment (processor and reference; empty for a free order).
// The orders are locked while their refunds are made, so concurrent calls never put a line in
// two refunds. It returns the created refunds with their lines, none when nothing is left to
// refund. Errors: EInvalid "No course_id specified." when both courseID and orderNumber are
// empty; EInvalid "Order {n} does not exist." when orderNumber is not one of the owner's orders.
func (s *Store) CreateRefunds(ctx context.Context, owner commerce.User, courseID, orderNumber string) ([]commerce.Refund, error) {
	if courseID == "" && orderNumber == "" {
		return nil, commerce.Errorf(commerce.EInvalid, "No course_id specified.")
	}
	var ids []int64
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		ids = nil
		if orderNumber != "" {
			o, err := s.q.GetOrderOwner(ctx, tx, orderNumber)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && o.UserID != owner.ID) {
				return commerce.Errorf(commerce.EInvalid, "Order %s does not exist.", orderNumber)
			} else if err != nil {
				return interpretError(fmt.Errorf("find order %s: %w", orderNumber, err))
			}
		}
		orders, err := s.q.LockRefundableOrders(ctx, tx, dbgen.LockRefundableOrdersParams{UserID: owner.ID, OrderNumber: orderNumber, CourseID: courseID})
		if err != nil {
			return interpretError(fmt.Errorf("lock refundable orders of user %d: %w", owner.ID, err))
		}
		for _, o := range orders {
			id, err := s.createLinesRefund(ctx, tx, o, courseID)
			if err != nil {
				return err
			}
			if id != 0 {
				ids = append(ids, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]commerce.Refund, 0, len(ids))
	for _, id := range ids {
		r, err := s.Refund(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// createLinesRefund creates the refund of the order's lines (of courseID, when given) that are in
// no refund yet and returns its id, or 0 when there is none. The order must be locked.
func (s *Store) createLinesRefund(ctx context.Context, tx pgx.Tx, o dbgen.Order, courseID string) (int64, error) {
	lines, err := s.q.ListRefundableLines(ctx, tx, dbgen.ListRefundableLinesParams{OrderID: o.ID, CourseID: courseID})
	if err != nil {
		return 0, interpretError(fmt.Errorf("list refundable lines of order %s: %w", o.Number, err))
	}
	if len(lines) == 0 {
		return 0, nil
	}
	total := decimal.Zero
	for _, l := range lines {
		total = total.Add(l.LinePriceExclTax)
	}
	p := dbgen.CreateRefundParams{OrderID: &o.ID, OrderNumber: o.Number, UserID: o.UserID, Total: total, Currency: o.Currency}
	src, err := s.q.GetPaymentSource(ctx, tx, o.ID)
	if err == nil {
		p.Processor, p.Reference = src.SourceType, src.Reference
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return 0, interpretError(fmt.Errorf("get payment source of order %s: %w", o.Number, err))
	}
	id, err := s.q.CreateRefund(ctx, tx, p)
	if err != nil {
		return 0, interpretError(fmt.Errorf("create refund of order %s: %w", o.Number, err))
	}
	for _, l := range lines {
		if err := s.q.CreateRefundLine(ctx, tx, dbgen.CreateRefundLineParams{
			RefundID: id, OrderLineID: l.ID, Credit: l.LinePriceExclTax, Quantity: l.Quantity,
		}); err != nil {
			return 0, interpretError(fmt.Errorf("create refund line for line %d of order %s: %w", l.ID, o.Number, err))
		}
	}
	return id, nil
}

// CreatePaymentRefund records the refund of a payment that has no lines to revoke (an excessive
// payment, or one whose order was refused): kind payment, Open, for r.Processor and
// r.Reference, r.UserID, r.Total in r.Currency, with r.Reason and r.OrderNumber (its order_id
// is set when that order exists). A payment is refunded once: when a refund of it exists, that
// refund is returned with created false and nothing is written. Errors: EInvalid when the
// processor, the reference, the user or the currency is missing or the total is negative.
func (s *Store) CreatePaymentRefund(ctx context.Context, r commerce.Refund) (refund commerce.Refund, created bool, err error) {
	switch {
	case r.Processor == "" || r.Reference == "":
		return refund, false, commerce.Errorf(commerce.EInvalid, "A payment refund needs the processor and the reference of the payment.")
	case r.UserID == 0:
		return refund, false, commerce.Errorf(commerce.EInvalid, "A payment refund needs the user who paid.")
	case r.Currency == "":
		return refund, false, commerce.Errorf(commerce.EInvalid, "A payment refund needs a currency.")
	case r.Total.IsNegative():
		return refund, false, commerce.Errorf(commerce.EInvalid, "A refund cannot credit a negative amount (%s).", r.Total)
	}
	var id int64
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		created = false
		p := dbgen.CreatePaymentRefundParams{
			OrderNumber: r.OrderNumber, UserID: r.UserID, Total: r.Total, Currency: r.Currency,
			Processor: r.Processor, Reference: r.Reference, Reason: r.Reason,
		}
		if r.OrderNumber != "" {
			o, err := s.q.GetOrderOwner(ctx, tx, r.OrderNumber)
			if err == nil {
				p.OrderID = &o.ID
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return interpretError(fmt.Errorf("find order %s: %w", r.OrderNumber, err))
			}
		}
		id, err = s.q.CreatePaymentRefund(ctx, tx, p)
		if err == nil {
			created = true
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return interpretError(fmt.Errorf("create refund of %s payment %s: %w", r.Processor, r.Reference, err))
		}
		id, err = s.q.GetPaymentRefundID(ctx, tx, dbgen.GetPaymentRefundIDParams{Processor: r.Processor, Reference: r.Reference})
		return interpretError(wrapIf(err, "get refund of %s payment %s", r.Processor, r.Reference))
	})
	if err != nil {
		return refund, false, err
	}
	refund, err = s.Refund(ctx, id)
	return refund, created, err
}

// Refund returns a refund with its lines (SKU, title, course, enrollment mode, credit, quantity,
// status) and its user's username and email, or commerce.ErrNotFound.
func (s *Store) Refund(ctx context.Context, id int64) (commerce.Refund, error) {
	return s.loadRefund(ctx, s.pool, id)
}

func (s *Store) loadRefund(ctx context.Context, db dbgen.DBTX, id int64) (commerce.Refund, error) {
	row, err := s.q.GetRefund(ctx, db, id)
	if err != nil {
		return commerce.Refund{}, interpretError(fmt.Errorf("get refund %d: %w", id, err))
	}
	r := refundFromRow(row.Refund, row.Username, row.Email)
	lines, err := s.q.ListRefundLines(ctx, db, id)
	if err != nil {
		return commerce.Refund{}, interpretError(fmt.Errorf("list lines of refund %d: %w", id, err))
	}
	r.Lines = make([]commerce.RefundLine, len(lines))
	for i, l := range lines {
		r.Lines[i] = refundLineFromRow(l)
	}
	return r, nil
}

// SetRefundStatus moves a refund to status, with the refund locked, and returns it. Staying in
// the same status changes nothing; a move commerce.RefundStatus.CanBecome does not allow is
// refused with EConflict and nothing is written. Denying a refund also denies its Open lines.
// Errors: ErrNotFound for an unknown refund.
func (s *Store) SetRefundStatus(ctx context.Context, id int64, status commerce.RefundStatus) (commerce.Refund, error) {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		row, err := s.q.LockRefund(ctx, tx, id)
		if err != nil {
			return interpretError(fmt.Errorf("lock refund %d: %w", id, err))
		}
		current := commerce.RefundStatus(row.Status)
		if current == status {
			return nil
		}
		if !current.CanBecome(status) {
			return commerce.Errorf(commerce.EConflict, "Refund %d is %s; it cannot become %s.", id, current, status)
		}
		if err := s.q.SetRefundStatus(ctx, tx, dbgen.SetRefundStatusParams{ID: id, Status: string(status)}); err != nil {
			return interpretError(fmt.Errorf("set refund %d %s: %w", id, status, err))
		}
		if status == commerce.RefundDenied {
			return interpretError(wrapIf(s.q.DenyOpenRefundLines(ctx, tx, id), "deny the lines of refund %d", id))
		}
		return nil
	})
	if err != nil {
		return commerce.Refund{}, err
	}
	return s.Refund(ctx, id)
}

// SetRefundLineStatus moves one line of a refund to status. Staying in the same status changes
// nothing; a move commerce.RefundLineStatus.CanBecome does not allow is refused with EConflict.
// Errors: ErrNotFound when the refund has no such line.
func (s *Store) SetRefundLineStatus(ctx context.Context, refundID, lineID int64, status commerce.RefundLineStatus) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		row, err := s.q.LockRefundLine(ctx, tx, dbgen.LockRefundLineParams{ID: lineID, RefundID: refundID})
		if err != nil {
			return interpretError(fmt.Errorf("lock line %d of refund %d: %w", lineID, refundID, err))
		}
		current := commerce.RefundLineStatus(row.Status)
		if current == status {
			return nil
		}
		if !current.CanBecome(status) {
			return commerce.Errorf(commerce.EConflict, "Line %d of refund %d is %s; it cannot become %s.", lineID, refundID, current, status)
		}
		err = s.q.SetRefundLineStatus(ctx, tx, dbgen.SetRefundLineStatusParams{ID: lineID, Status: string(status)})
		return interpretError(wrapIf(err, "set line %d of refund %d %s", lineID, refundID, status))
	})
}

// RecordRefundCredit records, once per refund, that the processor credited it: the refund's
// processor refund id becomes processorRefundID (or "refund-<id>" when the processor gave none,
// as for a free order) and, when the refund's order has a payment source of the refund's
// processor and reference, that source's amount refunded rises by the refund's total and a
// Refunded payment event with that reference is added. A second call changes nothing.
// Errors: ErrNotFound for an unknown refund; ErrInvalidInput when the source would be refunded
// more than was debited.
func (s *Store) RecordRefundCredit(ctx context.Context, refundID int64, processorRefundID string) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		r, err := s.q.LockRefund(ctx, tx, refundID)
		if err != nil {
			return interpretError(fmt.Errorf("lock refund %d: %w", refundID, err))
		}
		if r.ProcessorRefundID != "" {
			return nil // recorded before
		}
		reference := processorRefundID
		if reference == "" {
			reference = fmt.Sprintf("refund-%d", refundID)
		}
		if err := s.q.SetProcessorRefundID(ctx, tx, dbgen.SetProcessorRefundIDParams{ID: refundID, ProcessorRefundID: reference}); err != nil {
			return interpretError(fmt.Errorf("set processor refund id of refund %d: %w", refundID, err))
		}
		if r.OrderID == nil || r.Processor == "" {
			return nil
		}
		n, err := s.q.AddRefundToPaymentSource(ctx, tx, dbgen.AddRefundToPaymentSourceParams{
			OrderID: *r.OrderID, Processor: r.Processor, Reference: r.Reference, Amount: r.TotalCreditExclTax,
		})
		if err != nil {
			return interpretError(fmt.Errorf("refund payment source of refund %d: %w", refundID, err))
		}
		if n == 0 {
			return nil // the payment is not the order's (e.g. an excessive second payment)
		}
		err = s.q.CreateRefundedEvent(ctx, tx, dbgen.CreateRefundedEventParams{
			OrderID: *r.OrderID, Amount: r.TotalCreditExclTax, Reference: reference, ProcessorName: r.Processor,
		})
		return interpretError(wrapIf(err, "record Refunded event of refund %d", refundID))
	})
}

// wrapIf wraps err with a formatted context, or returns nil when err is nil.
func wrapIf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
