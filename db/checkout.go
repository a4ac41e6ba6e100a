package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
)

// FreezeBasket starts the checkout of the user's basket with processor: in one transaction the
// basket is frozen, its snapshot taken and the payment data built (by build, which must be pure:
// it runs inside the transaction) and stored. Asking again for
// a frozen basket returns what was stored the first time (existing is true). A basket that is
// not the user's is "not found" (EInvalid, as edX answers); one that is not open or is empty is
// EInvalid; one already being checked out with another processor is EConflict.
func (s *Store) FreezeBasket(ctx context.Context, basketID int64, owner commerce.User, partner, processor string, build func(commerce.Checkout) (commerce.PaymentData, error)) (checkout commerce.Checkout, data commerce.PaymentData, existing bool, err error) {
	notFound := commerce.UserError(commerce.EInvalid, fmt.Sprintf("Basket [%d] not found.", basketID), "We couldn't find your basket.")
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		row, err := s.q.LockBasket(ctx, tx, basketID)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		} else if err != nil {
			return interpretError(fmt.Errorf("lock basket %d: %w", basketID, err))
		}
		if row.OwnerID != owner.ID {
			return notFound
		}
		stored, err := s.q.GetCheckoutByBasket(ctx, tx, basketID)
		if err == nil {
			if stored.PaymentProcessor != processor {
				return commerce.UserError(commerce.EConflict,
					fmt.Sprintf("Basket [%d] is already being paid with %s.", basketID, stored.PaymentProcessor),
					"This basket is already being paid for.")
			}
			checkout, data, err = checkoutFromRow(stored)
			existing = true
			return err
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return interpretError(fmt.Errorf("get checkout of basket %d: %w", basketID, err))
		}
		if row.Status != string(commerce.BasketOpen) {
			return commerce.UserError(commerce.EInvalid,
				fmt.Sprintf("Basket [%d] is %s; only an open basket can be checked out.", basketID, row.Status),
				"This basket can no longer be checked out.")
		}
		basket, err := s.loadBasket(ctx, tx, basketID)
		if err != nil {
			return err
		}
		// Lock order everywhere: basket, then learner, then offers and vouchers (in id order).
		if err := s.q.LockUser(ctx, tx, owner.ID); err != nil {
			return interpretError(fmt.Errorf("lock user %d: %w", owner.ID, err))
		}
		if err := s.refuseOwnedSeats(ctx, tx, owner.ID, basket); err != nil {
			return err
		}
		pricing, _, err := s.priceForFreeze(ctx, tx, basket, owner)
		if err != nil {
			return err
		}
		if checkout, err = commerce.SnapshotBasket(basket, owner, partner, processor, s.now(), pricing); err != nil {
			return err
		}
		if err := s.reserve(ctx, tx, basketID, owner.ID, pricing.Offers); err != nil {
			return err
		}
		if data, err = build(checkout); err != nil {
			return fmt.Errorf("build payment data for %s: %w", checkout.OrderNumber, err)
		}
		snapshot, err := json.Marshal(checkout)
		if err != nil {
			return fmt.Errorf("encode checkout %s: %w", checkout.OrderNumber, err)
		}
		form, err := json.Marshal(data.FormData)
		if err != nil {
			return fmt.Errorf("encode payment form of %s: %w", checkout.OrderNumber, err)
		}
		if err := s.q.SetBasketStatus(ctx, tx, dbgen.SetBasketStatusParams{ID: basketID, Status: string(commerce.BasketFrozen)}); err != nil {
			return interpretError(fmt.Errorf("freeze basket %d: %w", basketID, err))
		}
		s.cache.forgetUses()
		_, err = s.q.CreateCheckout(ctx, tx, dbgen.CreateCheckoutParams{
			BasketID: basketID, OrderNumber: checkout.OrderNumber, UserID: owner.ID, PaymentProcessor: processor,
			PaymentPageUrl: data.PaymentPageURL, PaymentFormData: form, Snapshot: snapshot,
		})
		return interpretError(err)
	})
	return checkout, data, existing, err
}

// refuseOwnedSeats answers edX's "already purchased" when the basket holds a seat the owner
// bought in an order (not refunded): a seat is sold once.
func (s *Store) refuseOwnedSeats(ctx context.Context, tx pgx.Tx, ownerID int64, b commerce.Basket) error {
	ids := make([]int64, 0, len(b.Lines))
	skuOf := make(map[int64]string, len(b.Lines))
	for _, l := range b.Lines {
		ids = append(ids, l.Product.ID)
		skuOf[l.Product.ID] = l.Product.StockRecord.PartnerSKU
	}
	owned, err := s.q.ListOwnedSeats(ctx, tx, dbgen.ListOwnedSeatsParams{UserID: ownerID, ProductIds: ids})
	if err != nil {
		return interpretError(fmt.Errorf("list owned seats of user %d: %w", ownerID, err))
	}
	if len(owned) == 0 {
		return nil
	}
	skus := make([]string, 0, len(owned))
	for _, o := range owned {
		skus = append(skus, skuOf[o.ProductID])
	}
	slices.Sort(skus)
	return commerce.AlreadyPurchased(slices.Compact(skus))
}

// CheckoutByOrderNumber returns the checkout snapshot and payment data of an order number, or
// commerce.ErrNotFound.
func (s *Store) CheckoutByOrderNumber(ctx context.Context, number string) (commerce.Checkout, commerce.PaymentData, error) {
	row, err := s.q.GetCheckoutByOrderNumber(ctx, s.pool, number)
	if err != nil {
		return commerce.Checkout{}, commerce.PaymentData{}, interpretError(fmt.Errorf("get checkout %s: %w", number, err))
	}
	return checkoutFromRow(row)
}

// CheckoutStatus returns the status mirrored into the database for an order number.
func (s *Store) CheckoutStatus(ctx context.Context, number string) (commerce.CheckoutStatus, error) {
	row, err := s.q.GetCheckoutByOrderNumber(ctx, s.pool, number)
	if err != nil {
		return "", interpretError(fmt.Errorf("get checkout %s: %w", number, err))
	}
	return commerce.CheckoutStatus(row.Status), nil
}

// SetCheckoutStatus mirrors a checkout's status into the database (for lists and support).
func (s *Store) SetCheckoutStatus(ctx context.Context, number string, status commerce.CheckoutStatus) error {
	err := s.q.SetCheckoutStatus(ctx, s.pool, dbgen.SetCheckoutStatusParams{OrderNumber: number, Status: string(status)})
	return interpretError(err)
}

// RecordProcessorResponse stores a raw processor message, authentic or not, and returns its id.
// It is the first thing a callback does: a payment that reached us is never lost.
func (s *Store) RecordProcessorResponse(ctx context.Context, r commerce.ProcessorResponse) (int64, error) {
	body, err := json.Marshal(r.Body)
	if err != nil {
		return 0, fmt.Errorf("encode %s response: %w", r.Processor, err)
	}
	p := dbgen.CreateProcessorResponseParams{
		ProcessorName: r.Processor, OrderNumber: r.OrderNumber, Kind: r.Kind, Authentic: r.Authentic, Response: body,
	}
	if r.TransactionID != "" {
		p.TransactionID = &r.TransactionID
	}
	if id, err := commerce.BasketIDFromOrderNumber(r.OrderNumber); err == nil {
		if ok, err := s.q.BasketExists(ctx, s.pool, id); err == nil && ok {
			p.BasketID = &id
		}
	}
	id, err := s.q.CreateProcessorResponse(ctx, s.pool, p)
	if err != nil {
		return 0, interpretError(fmt.Errorf("record %s response for %q: %w", r.Processor, r.OrderNumber, err))
	}
	return id, nil
}

// CountProcessorResponses counts the processor messages recorded for an order number.
func (s *Store) CountProcessorResponses(ctx context.Context, number string) (int64, error) {
	n, err := s.q.CountProcessorResponses(ctx, s.pool, number)
	return n, interpretError(err)
}

// ReopenBasket gives the owner of a frozen basket an open basket holding the same products
// (at their current prices), merging them into the open basket the owner may already have.
// The frozen basket and its order number are never reused. It is idempotent.
func (s *Store) ReopenBasket(ctx context.Context, frozenBasketID int64) (int64, error) {
	var openID int64
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		frozen, err := s.q.LockBasket(ctx, tx, frozenBasketID)
		if err != nil {
			return interpretError(fmt.Errorf("lock basket %d: %w", frozenBasketID, err))
		}
		if frozen.Status != string(commerce.BasketFrozen) {
			return fmt.Errorf("reopen basket %d: it is %s, not Frozen: %w", frozenBasketID, frozen.Status, commerce.ErrConflict)
		}
		open, err := s.lockOpenBasket(ctx, tx, frozen.OwnerID)
		if err != nil {
			return err
		}
		openID = open.ID
		if open.ID == frozen.ID {
			return nil
		}
		s.cache.forgetUses()
		if err := s.release(ctx, tx, frozen.ID); err != nil {
			return err
		}
		if _, err := s.q.CopyBasketLines(ctx, tx, dbgen.CopyBasketLinesParams{ToBasketID: open.ID, FromBasketID: frozen.ID}); err != nil {
			return interpretError(fmt.Errorf("copy lines of basket %d to %d: %w", frozen.ID, open.ID, err))
		}
		if _, err := s.q.DeleteOwnedSeatsFromOpenBasket(ctx, tx, frozen.OwnerID); err != nil {
			return interpretError(fmt.Errorf("drop owned seats from basket %d: %w", open.ID, err))
		}
		return interpretError(s.q.CopyBasketVoucher(ctx, tx, dbgen.CopyBasketVoucherParams{ToBasketID: open.ID, FromBasketID: frozen.ID}))
	})
	return openID, err
}

// PlaceOrder creates the order of a checkout, its lines and, when payment is given, its payment
// source and Paid event, and submits the basket, in one transaction. It is idempotent on the
// order number: a second call returns the existing order with created false and writes nothing.
func (s *Store) PlaceOrder(ctx context.Context, c commerce.Checkout, payment *commerce.Payment) (order commerce.Order, created bool, err error) {
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		// Serialise concurrent placements of one basket: the loser waits, then finds the order.
		if _, err := s.q.LockBasket(ctx, tx, c.BasketID); err != nil {
			return interpretError(fmt.Errorf("lock basket %d: %w", c.BasketID, err))
		}
		// Serialise the learner's placements too, so two baskets never both sell the same seat.
		if err := s.q.LockUser(ctx, tx, c.UserID); err != nil {
			return interpretError(fmt.Errorf("lock user %d: %w", c.UserID, err))
		}
		row, err := s.q.CreateOrder(ctx, tx, dbgen.CreateOrderParams{
			Number: c.OrderNumber, BasketID: c.BasketID, UserID: c.UserID, Currency: c.Currency, Total: c.Total,
			TotalBeforeDiscounts: c.TotalBeforeDiscounts, PaymentProcessor: processorName(c, payment),
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // placed before
		} else if err != nil {
			return interpretError(fmt.Errorf("create order %s: %w", c.OrderNumber, err))
		}
		created = true
		if err := s.refuseSecondOrder(ctx, tx, c); err != nil {
			return err
		}
		for _, l := range c.Lines {
			p := dbgen.CreateOrderLineParams{
				OrderID: row.ID, ProductID: &l.ProductID, StockRecordID: &l.StockRecordID, PartnerSku: l.SKU, Title: l.Title,
				Quantity: int32(l.Quantity), UnitPrice: l.UnitPrice, LinePrice: l.LinePrice, LinePriceBeforeDiscounts: l.LinePriceBeforeDiscounts,
				Discount: l.LinePriceBeforeDiscounts.Sub(l.LinePrice),
			}
			if l.CourseID != "" {
				p.CourseID = &l.CourseID
			}
			if err := s.q.CreateOrderLine(ctx, tx, p); err != nil {
				return interpretError(fmt.Errorf("create line %s of order %s: %w", l.SKU, c.OrderNumber, err))
			}
		}
		if err := s.consume(ctx, tx, c, row.ID); err != nil {
			return err
		}
		if payment != nil {
			if err := s.q.CreatePaymentSource(ctx, tx, dbgen.CreatePaymentSourceParams{
				OrderID: row.ID, SourceType: payment.Processor, Currency: payment.Currency, Amount: payment.Amount,
				Reference: payment.TransactionID, Label: payment.Label, CardType: payment.CardType,
			}); err != nil {
				return interpretError(fmt.Errorf("record payment source of %s: %w", c.OrderNumber, err))
			}
			if err := s.q.CreatePaymentEvent(ctx, tx, dbgen.CreatePaymentEventParams{
				OrderID: row.ID, Amount: payment.Amount, Reference: payment.TransactionID, ProcessorName: payment.Processor,
			}); err != nil {
				return interpretError(fmt.Errorf("record payment event of %s: %w", c.OrderNumber, err))
			}
		}
		if err := s.q.SetBasketStatus(ctx, tx, dbgen.SetBasketStatusParams{ID: c.BasketID, Status: string(commerce.BasketSubmitted)}); err != nil {
			return interpretError(fmt.Errorf("submit basket %d: %w", c.BasketID, err))
		}
		if _, err := s.q.DeleteOwnedSeatsFromOpenBasket(ctx, tx, c.UserID); err != nil {
			return interpretError(fmt.Errorf("drop seats of order %s from the open basket: %w", c.OrderNumber, err))
		}
		return interpretError(s.q.SetCheckoutStatus(ctx, tx, dbgen.SetCheckoutStatusParams{OrderNumber: c.OrderNumber, Status: string(commerce.CheckoutPaid)}))
	})
	if err != nil {
		return commerce.Order{}, false, err
	}
	order, err = s.Order(ctx, c.OrderNumber)
	return order, created, err
}

// refuseSecondOrder fails with commerce.ErrAlreadyOwned when the checkout sells the learner a
// seat another order of theirs already holds (e.g. a late payment for an expired checkout whose
// seat was bought again meanwhile).
func (s *Store) refuseSecondOrder(ctx context.Context, tx pgx.Tx, c commerce.Checkout) error {
	var ids []int64
	for _, l := range c.Lines {
		if l.Class == commerce.ClassSeat {
			ids = append(ids, l.ProductID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	owned, err := s.q.ListOwnedSeats(ctx, tx, dbgen.ListOwnedSeatsParams{UserID: c.UserID, ExceptOrder: c.OrderNumber, ProductIds: ids})
	if err != nil {
		return interpretError(fmt.Errorf("list owned seats of user %d: %w", c.UserID, err))
	}
	if len(owned) == 0 {
		return nil
	}
	var held []string
	for _, o := range owned {
		for _, l := range c.Lines {
			if l.ProductID == o.ProductID {
				held = append(held, fmt.Sprintf("%s (order %s)", l.SKU, o.OrderNumber))
			}
		}
	}
	return fmt.Errorf("%w: %s already owns %s", commerce.ErrAlreadyOwned, c.Username, strings.Join(held, ", "))
}

func processorName(c commerce.Checkout, p *commerce.Payment) string {
	if p != nil {
		return p.Processor
	}
	if c.IsFree() {
		return "free"
	}
	return c.Processor
}

// FlagForOps puts a checkout in NeedsAttention with reason and, with note, adds reason as an
// Error note to its order when one exists (once: the same note is not written twice). Every
// payment that ops must act on (excessive, already owned, mismatched) is recorded this way.
func (s *Store) FlagForOps(ctx context.Context, number, reason string, note bool) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		if err := s.q.FlagCheckout(ctx, tx, dbgen.FlagCheckoutParams{OrderNumber: number, Reason: reason}); err != nil {
			return interpretError(fmt.Errorf("flag checkout %s: %w", number, err))
		}
		if !note {
			return nil
		}
		order, err := s.q.LockOrderByNumber(ctx, tx, number)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return interpretError(fmt.Errorf("lock order %s: %w", number, err))
		}
		exists, err := s.q.OrderNoteExists(ctx, tx, dbgen.OrderNoteExistsParams{OrderID: order.ID, Message: reason})
		if err != nil || exists {
			return interpretError(err)
		}
		return interpretError(s.q.CreateOrderNote(ctx, tx, dbgen.CreateOrderNoteParams{OrderID: order.ID, NoteType: "Error", Message: reason}))
	})
}

// AttentionReason returns why a checkout needs attention ("" when it does not).
func (s *Store) AttentionReason(ctx context.Context, number string) (string, error) {
	row, err := s.q.GetCheckoutByOrderNumber(ctx, s.pool, number)
	if err != nil {
		return "", interpretError(fmt.Errorf("get checkout %s: %w", number, err))
	}
	return row.AttentionReason, nil
}

// DeploymentID returns this database's deployment identity (created by the first migration).
func (s *Store) DeploymentID(ctx context.Context) (string, error) {
	id, err := s.q.GetDeploymentID(ctx, s.pool)
	if err != nil {
		return "", interpretError(fmt.Errorf("read the deployment identity (run migrate): %w", err))
	}
	return id, nil
}

// MarkWorkflowStarted records that a checkout's workflow exists, so the orphan sweeper leaves it.
func (s *Store) MarkWorkflowStarted(ctx context.Context, number string) error {
	return interpretError(s.q.MarkWorkflowStarted(ctx, s.pool, number))
}

// OrphanCheckouts returns up to limit checkouts frozen before before whose workflow is not known
// to have started.
func (s *Store) OrphanCheckouts(ctx context.Context, before time.Time, limit int) ([]commerce.Checkout, error) {
	rows, err := s.q.ListOrphanCheckouts(ctx, s.pool, dbgen.ListOrphanCheckoutsParams{Before: before, MaxRows: int32(min(limit, math.MaxInt32))})
	if err != nil {
		return nil, interpretError(fmt.Errorf("list orphan checkouts: %w", err))
	}
	out := make([]commerce.Checkout, 0, len(rows))
	for _, r := range rows {
		c, _, err := checkoutFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// PaymentDelivered reports whether the order's checkout already has this notification: a message
// with the same processor, transaction and outcome was signalled to it (MarkPaymentDelivered), or,
// for an accepted payment, the order records it as paid.
func (s *Store) PaymentDelivered(ctx context.Context, n commerce.PaymentNotification) (bool, error) {
	ok, err := s.q.PaymentMessageDelivered(ctx, s.pool, dbgen.PaymentMessageDeliveredParams{
		ProcessorName: n.Processor, TransactionID: n.TransactionID, OrderNumber: n.OrderNumber,
		Outcome: string(n.Outcome), Accepted: n.Outcome == commerce.PaymentAccepted,
	})
	return ok, interpretError(err)
}

// MarkPaymentDelivered records that the processor message responseID was signalled to its
// checkout with outcome.
func (s *Store) MarkPaymentDelivered(ctx context.Context, responseID int64, outcome commerce.PaymentOutcome) error {
	err := s.q.MarkPaymentMessageDelivered(ctx, s.pool, dbgen.MarkPaymentMessageDeliveredParams{ID: responseID, Outcome: string(outcome)})
	return interpretError(err)
}

// CountPaidEvents counts the Paid payment events of an order.
func (s *Store) CountPaidEvents(ctx context.Context, number string) (int64, error) {
	n, err := s.q.CountPaidEvents(ctx, s.pool, number)
	return n, interpretError(err)
}

// Order returns the order with that number, its lines and payment source, or commerce.ErrNotFound.
func (s *Store) Order(ctx context.Context, number string) (commerce.Order, error) {
	row, err := s.q.GetOrderByNumber(ctx, s.pool, number)
	if err != nil {
		return commerce.Order{}, interpretError(fmt.Errorf("get order %s: %w", number, err))
	}
	o := orderFromRow(row.Order, row.Username, row.Email)
	return o, s.attachOrderDetails(ctx, &o, row.OrderPart)
}

// ReceiptSent reports whether the order's receipt was emailed (MarkReceiptSent), or ErrNotFound.
func (s *Store) ReceiptSent(ctx context.Context, number string) (bool, error) {
	sent, err := s.q.OrderReceiptSent(ctx, s.pool, number)
	if err != nil {
		return false, interpretError(fmt.Errorf("receipt of order %s: %w", number, err))
	}
	return sent, nil
}

// MarkReceiptSent records that the order's receipt was emailed (the first time counts).
func (s *Store) MarkReceiptSent(ctx context.Context, number string) error {
	if err := s.q.MarkOrderReceiptSent(ctx, s.pool, number); err != nil {
		return interpretError(fmt.Errorf("mark the receipt of order %s sent: %w", number, err))
	}
	return nil
}

// OrdersOfUser returns a page of the user's orders, newest first, and their count.
func (s *Store) OrdersOfUser(ctx context.Context, userID int64, page commerce.Page) ([]commerce.Order, int64, error) {
	total, err := s.q.CountOrdersOfUser(ctx, s.pool, userID)
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("count orders of user %d: %w", userID, err))
	}
	rows, err := s.q.ListOrdersOfUser(ctx, s.pool, dbgen.ListOrdersOfUserParams{UserID: userID, PageLimit: int32(page.Limit), PageOffset: int32(page.Offset)})
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("list orders of user %d: %w", userID, err))
	}
	out := make([]commerce.Order, len(rows))
	for i, r := range rows {
		out[i] = orderFromRow(r.Order, r.Username, r.Email)
		if err := s.attachOrderDetails(ctx, &out[i], r.OrderPart); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// attachOrderDetails reads an order's lines and payment source, and the parts it has (the
// order_parts view) of its notes, discounts and enrollment codes.
func (s *Store) attachOrderDetails(ctx context.Context, o *commerce.Order, has dbgen.OrderPart) error {
	lines, err := s.q.ListOrderLines(ctx, s.pool, o.ID)
	if err != nil {
		return interpretError(fmt.Errorf("list lines of order %s: %w", o.Number, err))
	}
	o.Lines = make([]commerce.OrderLine, len(lines))
	for i, l := range lines {
		o.Lines[i] = orderLineFromRow(l)
	}
	if has.HasEnrollmentCodes {
		if err := s.attachEnrollmentCodes(ctx, o); err != nil {
			return err
		}
	}
	var notes []dbgen.ListOrderNotesRow
	if has.HasNotes {
		if notes, err = s.q.ListOrderNotes(ctx, s.pool, o.ID); err != nil {
			return interpretError(fmt.Errorf("list notes of order %s: %w", o.Number, err))
		}
	}
	for _, n := range notes {
		o.Notes = append(o.Notes, commerce.OrderNote{Type: n.NoteType, Message: n.Message, CreatedAt: n.CreatedAt})
	}
	var discounts []dbgen.OrderDiscount
	if has.HasDiscounts {
		if discounts, err = s.q.ListOrderDiscounts(ctx, s.pool, o.ID); err != nil {
			return interpretError(fmt.Errorf("list discounts of order %s: %w", o.Number, err))
		}
	}
	for _, d := range discounts {
		a := commerce.AppliedOffer{Name: d.OfferName, VoucherCode: d.VoucherCode, BenefitType: commerce.BenefitType(d.BenefitType),
			BenefitValue: d.BenefitValue, Frequency: int(d.Frequency), Amount: d.Amount}
		if d.OfferID != nil {
			a.OfferID = *d.OfferID
		}
		if d.VoucherID != nil {
			a.VoucherID = *d.VoucherID
			a.Type = commerce.OfferVoucher
		} else {
			a.Type = commerce.OfferSite
		}
		o.Discounts = append(o.Discounts, a)
	}
	src, err := s.q.GetPaymentSource(ctx, s.pool, o.ID)
	if err == nil {
		o.Payment = &commerce.PaymentSource{
			Processor: src.SourceType, Reference: src.Reference, Currency: src.Currency, AmountDebited: src.AmountDebited,
			AmountRefunded: src.AmountRefunded, Label: src.Label, CardType: src.CardType,
		}
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return interpretError(fmt.Errorf("get payment source of %s: %w", o.Number, err))
	}
	return nil
}

// RecordFulfillmentAttempts records the outcome of fulfilling one line of an order: it sets the
// line's status and error (a completed line stays complete) and adds attempts to its counter.
func (s *Store) RecordFulfillmentAttempts(ctx context.Context, number, sku string, status commerce.LineStatus, message string, attempts int) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		order, err := s.q.LockOrderByNumber(ctx, tx, number)
		if err != nil {
			return interpretError(fmt.Errorf("lock order %s: %w", number, err))
		}
		if err := s.q.RecordOrderLineFulfillmentAttempts(ctx, tx, dbgen.RecordOrderLineFulfillmentAttemptsParams{
			OrderID: order.ID, PartnerSku: sku, Status: string(status), FulfillmentError: message, Attempts: int32(attempts),
		}); err != nil {
			return interpretError(fmt.Errorf("set line %s of %s: %w", sku, number, err))
		}
		if status != commerce.LineComplete && message != "" {
			return interpretError(s.q.CreateOrderNote(ctx, tx, dbgen.CreateOrderNoteParams{OrderID: order.ID, NoteType: "Error", Message: fmt.Sprintf("Fulfillment of %s failed: %s", sku, message)}))
		}
		return nil
	})
}

// FinishFulfillment sets the order Complete when every line is, else Fulfillment Error, and
// mirrors the outcome into the checkout. It returns the order.
func (s *Store) FinishFulfillment(ctx context.Context, number string) (commerce.Order, error) {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		order, err := s.q.LockOrderByNumber(ctx, tx, number)
		if err != nil {
			return interpretError(fmt.Errorf("lock order %s: %w", number, err))
		}
		lines, err := s.q.ListOrderLines(ctx, tx, order.ID)
		if err != nil {
			return interpretError(fmt.Errorf("list lines of %s: %w", number, err))
		}
		status, checkout := commerce.OrderComplete, commerce.CheckoutFulfilled
		for _, l := range lines {
			if l.Status != string(commerce.LineComplete) {
				status, checkout = commerce.OrderFulfillmentError, commerce.CheckoutNeedsAttention
			}
		}
		if err := s.q.SetOrderStatus(ctx, tx, dbgen.SetOrderStatusParams{ID: order.ID, Status: string(status)}); err != nil {
			return interpretError(fmt.Errorf("set status of %s: %w", number, err))
		}
		return interpretError(s.q.SetCheckoutStatus(ctx, tx, dbgen.SetCheckoutStatusParams{OrderNumber: number, Status: string(checkout)}))
	})
	if err != nil {
		return commerce.Order{}, err
	}
	return s.Order(ctx, number)
}

// MarkOrderFulfilled sets every line and the order Complete on an operator's word, with a note.
func (s *Store) MarkOrderFulfilled(ctx context.Context, number, note string) (commerce.Order, error) {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		order, err := s.q.LockOrderByNumber(ctx, tx, number)
		if err != nil {
			return interpretError(fmt.Errorf("lock order %s: %w", number, err))
		}
		if err := s.q.CompleteOpenOrderLines(ctx, tx, order.ID); err != nil {
			return interpretError(fmt.Errorf("complete lines of %s: %w", number, err))
		}
		if err := s.q.SetOrderStatus(ctx, tx, dbgen.SetOrderStatusParams{ID: order.ID, Status: string(commerce.OrderComplete)}); err != nil {
			return interpretError(fmt.Errorf("complete %s: %w", number, err))
		}
		if err := s.q.CreateOrderNote(ctx, tx, dbgen.CreateOrderNoteParams{OrderID: order.ID, NoteType: "Info", Message: note}); err != nil {
			return interpretError(fmt.Errorf("note on %s: %w", number, err))
		}
		return interpretError(s.q.SetCheckoutStatus(ctx, tx, dbgen.SetCheckoutStatusParams{OrderNumber: number, Status: string(commerce.CheckoutFulfilled)}))
	})
	if err != nil {
		return commerce.Order{}, err
	}
	return s.Order(ctx, number)
}

// OrderNumberOfPayment returns the order number a processor's payment id (e.g. a PayPal order)
// was created for, from the processor's recorded answers to our calls, or commerce.ErrNotFound.
func (s *Store) OrderNumberOfPayment(ctx context.Context, processor, paymentID string) (string, error) {
	n, err := s.q.OrderNumberOfPayment(ctx, s.pool, dbgen.OrderNumberOfPaymentParams{ProcessorName: processor, TransactionID: &paymentID})
	if err != nil {
		return "", interpretError(fmt.Errorf("order number of %s payment %s: %w", processor, paymentID, err))
	}
	return n, nil
}

// AddOrderNote adds a note to the order of that number; a number without an order is a no-op
// (e.g. a checkout whose order was refused).
func (s *Store) AddOrderNote(ctx context.Context, number, noteType, message string) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		order, err := s.q.LockOrderByNumber(ctx, tx, number)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return interpretError(fmt.Errorf("lock order %s: %w", number, err))
		}
		return interpretError(s.q.CreateOrderNote(ctx, tx, dbgen.CreateOrderNoteParams{OrderID: order.ID, NoteType: noteType, Message: message}))
	})
}
