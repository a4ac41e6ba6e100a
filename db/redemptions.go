package db

import (
	"context"
	"fmt"
	"slices"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
)

// reserve records what a frozen basket takes from each offer.
func (s *Store) reserve(ctx context.Context, tx pgx.Tx, basketID, userID int64, applied []commerce.AppliedOffer) error {
	for _, a := range applied {
		p := dbgen.CreateRedemptionParams{BasketID: basketID, OfferID: &a.OfferID, UserID: userID, Frequency: int32(a.Frequency), Amount: a.Amount}
		if a.VoucherID != 0 {
			p.VoucherID = &a.VoucherID
		}
		if err := s.q.CreateRedemption(ctx, tx, p); err != nil {
			return interpretError(fmt.Errorf("reserve offer %d for basket %d: %w", a.OfferID, basketID, err))
		}
	}
	return nil
}

// consume turns a placed order's reservations into usage: offer and voucher counters, voucher
// applications and the order's discounts.
func (s *Store) consume(ctx context.Context, tx pgx.Tx, c commerce.Checkout, orderID int64) error {
	if _, err := s.q.ConsumeRedemptions(ctx, tx, c.BasketID); err != nil {
		return interpretError(fmt.Errorf("consume redemptions of basket %d: %w", c.BasketID, err))
	}
	var offerIDs, voucherIDs []int64
	for _, a := range c.Discounts {
		offerIDs = append(offerIDs, a.OfferID)
		if a.VoucherID != 0 {
			voucherIDs = append(voucherIDs, a.VoucherID)
		}
	}
	liveOffers, err := s.q.ExistingOfferIDs(ctx, tx, offerIDs)
	if err != nil {
		return interpretError(fmt.Errorf("offers of order %s: %w", c.OrderNumber, err))
	}
	liveVouchers, err := s.q.ExistingVoucherIDs(ctx, tx, voucherIDs)
	if err != nil {
		return interpretError(fmt.Errorf("vouchers of order %s: %w", c.OrderNumber, err))
	}
	// Lock in the order FreezeBasket does (basket, learner, then vouchers and offers by id) so the two never deadlock.
	if _, err := s.q.LockVouchers(ctx, tx, liveVouchers); err != nil {
		return interpretError(fmt.Errorf("lock vouchers of order %s: %w", c.OrderNumber, err))
	}
	if _, err := s.q.LockOffers(ctx, tx, liveOffers); err != nil {
		return interpretError(fmt.Errorf("lock offers of order %s: %w", c.OrderNumber, err))
	}
	vouchers := map[int64]bool{}
	for _, a := range c.Discounts {
		// An offer or voucher deleted while the learner paid: the order keeps the discount by
		// name and code (the learner paid the discounted price), without the links.
		if !slices.Contains(liveOffers, a.OfferID) {
			a.OfferID = 0
		}
		if !slices.Contains(liveVouchers, a.VoucherID) {
			a.VoucherID = 0
		}
		p := dbgen.CreateOrderDiscountParams{OrderID: orderID, OfferName: a.Name, VoucherCode: a.VoucherCode,
			BenefitType: string(a.BenefitType), BenefitValue: a.BenefitValue, Frequency: int32(a.Frequency), Amount: a.Amount}
		if a.OfferID != 0 {
			p.OfferID = &a.OfferID
			if err := s.q.RecordOfferUsage(ctx, tx, dbgen.RecordOfferUsageParams{ID: a.OfferID, Frequency: int32(a.Frequency), Amount: a.Amount}); err != nil {
				return interpretError(fmt.Errorf("record usage of offer %d: %w", a.OfferID, err))
			}
			if err := s.q.ConsumeExhaustedOffer(ctx, tx, a.OfferID); err != nil {
				return interpretError(fmt.Errorf("close offer %d: %w", a.OfferID, err))
			}
		}
		if a.VoucherID != 0 {
			p.VoucherID = &a.VoucherID
			if !vouchers[a.VoucherID] {
				vouchers[a.VoucherID] = true
				if err := s.q.RecordVoucherUsage(ctx, tx, dbgen.RecordVoucherUsageParams{ID: a.VoucherID, Amount: c.VoucherDiscount(a.VoucherID)}); err != nil {
					return interpretError(fmt.Errorf("record usage of voucher %d: %w", a.VoucherID, err))
				}
				if err := s.q.CreateVoucherApplication(ctx, tx, dbgen.CreateVoucherApplicationParams{VoucherID: a.VoucherID, UserID: c.UserID, OrderID: orderID}); err != nil {
					return interpretError(fmt.Errorf("record application of voucher %d: %w", a.VoucherID, err))
				}
			}
		}
		if err := s.q.CreateOrderDiscount(ctx, tx, p); err != nil {
			return interpretError(fmt.Errorf("record discount of order %s: %w", c.OrderNumber, err))
		}
	}
	return s.noteOveruse(ctx, tx, c, orderID, liveOffers, liveVouchers)
}

// noteOveruse leaves an order note for ops when placing the order took an offer or a single-use
// voucher past its limit: a payment that arrived after its reservation was released (the order
// is placed all the same: the learner paid the discounted price).
func (s *Store) noteOveruse(ctx context.Context, tx pgx.Tx, c commerce.Checkout, orderID int64, offers, vouchers []int64) error {
	over, err := s.q.OverusedOffers(ctx, tx, offers)
	if err != nil {
		return interpretError(fmt.Errorf("check offer limits of order %s: %w", c.OrderNumber, err))
	}
	for _, o := range over {
		if err := s.q.CreateOrderNote(ctx, tx, dbgen.CreateOrderNoteParams{OrderID: orderID, NoteType: "Warning",
			Message: fmt.Sprintf("Offer %q is now used beyond its global limit (a late payment placed this order).", o.Name)}); err != nil {
			return interpretError(fmt.Errorf("note on order %s: %w", c.OrderNumber, err))
		}
	}
	used, err := s.q.OverusedSingleUseVouchers(ctx, tx, vouchers)
	if err != nil {
		return interpretError(fmt.Errorf("check voucher limits of order %s: %w", c.OrderNumber, err))
	}
	for _, v := range used {
		if err := s.q.CreateOrderNote(ctx, tx, dbgen.CreateOrderNoteParams{OrderID: orderID, NoteType: "Warning",
			Message: fmt.Sprintf("Single-use code %s is now used by more than one order (a late payment placed this order).", v.Code)}); err != nil {
			return interpretError(fmt.Errorf("note on order %s: %w", c.OrderNumber, err))
		}
	}
	return nil
}

// release gives back what a frozen basket reserved (it was reopened unpaid).
func (s *Store) release(ctx context.Context, tx pgx.Tx, basketID int64) error {
	if _, err := s.q.ReleaseRedemptions(ctx, tx, basketID); err != nil {
		return interpretError(fmt.Errorf("release redemptions of basket %d: %w", basketID, err))
	}
	return nil
}
