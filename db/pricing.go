package db

import (
	"context"
	"fmt"
	"slices"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
)

func buyerOf(u *commerce.User) commerce.Buyer {
	if u == nil {
		return commerce.Buyer{Anonymous: true}
	}
	return commerce.Buyer{Email: u.Email}
}

// Price prices lines with the open site offers that may apply (from the cache) and the voucher's
// offers. Offers with limits are priced with their usage so far; the result is what the learner
// would pay now (freezing the basket checks it again under locks).
func (s *Store) Price(ctx context.Context, req commerce.PricingRequest) (commerce.Pricing, error) {
	snap, err := s.siteOfferSnapshot(ctx, s.pool)
	if err != nil {
		return commerce.Pricing{}, err
	}
	offers := snap.candidates(req.Lines)
	if req.Voucher != nil {
		offers = append(offers, req.Voucher.Offers...)
	}
	var limited []commerce.Offer
	var limitedIdx []int
	for i, o := range offers {
		if o.MaxGlobalApplications != nil || o.MaxDiscount != nil || (o.MaxUserApplications != nil && req.Buyer != nil) {
			limited = append(limited, o)
			limitedIdx = append(limitedIdx, i)
		}
	}
	if len(limited) > 0 {
		var userID int64
		if req.Buyer != nil {
			userID = req.Buyer.ID
		}
		if err := s.offerUsage(ctx, s.pool, limited, userID, req.BasketID); err != nil {
			return commerce.Pricing{}, err
		}
		for j, i := range limitedIdx {
			offers[i] = limited[j]
		}
	}
	return commerce.PriceBasket(req.Lines, offers, buyerOf(req.Buyer), s.now())
}

// priceForFreeze prices a basket inside the freezing transaction with the offers it uses
// locked and their usage read under the lock, so that two checkouts cannot both take the last
// use of an offer or voucher. A voucher that can no longer be used is an EConflict error: the
// learner is never charged for a discount that will not be honoured, nor silently charged more.
func (s *Store) priceForFreeze(ctx context.Context, tx pgx.Tx, basket commerce.Basket, owner commerce.User) (commerce.Pricing, *commerce.Voucher, error) {
	lines := commerce.PriceLines(basket.Lines)
	voucher, err := s.basketVoucher(ctx, tx, basket.ID, true)
	if err != nil {
		return commerce.Pricing{}, nil, err
	}
	if voucher != nil {
		uses, err := s.voucherUses(ctx, tx, voucher.ID, owner.ID, basket.ID)
		if err != nil {
			return commerce.Pricing{}, nil, err
		}
		if problem := voucher.UseProblem(uses, false, s.now()); problem != "" {
			return commerce.Pricing{}, nil, voucherConflict(voucher.Code, problem)
		}
	}
	snap, err := s.siteOfferSnapshot(ctx, tx)
	if err != nil {
		return commerce.Pricing{}, nil, err
	}
	offers := snap.candidates(lines)
	if voucher != nil {
		offers = append(offers, voucher.Offers...)
	}
	locked := map[int64]bool{}
	var pricing commerce.Pricing
	for round := 0; ; round++ {
		var toLock []int64
		if round == 0 && voucher != nil {
			for _, o := range voucher.Offers {
				toLock = append(toLock, o.ID)
			}
		}
		if round > 0 {
			for _, a := range pricing.Offers {
				if !locked[a.OfferID] {
					toLock = append(toLock, a.OfferID)
				}
			}
			if len(toLock) == 0 {
				break
			}
		}
		if round > 5 {
			return commerce.Pricing{}, nil, fmt.Errorf("price basket %d: offers keep changing: %w", basket.ID, commerce.ErrConflict)
		}
		if err := s.lockAndRefresh(ctx, tx, offers, toLock, owner.ID, basket.ID); err != nil {
			return commerce.Pricing{}, nil, err
		}
		for _, id := range toLock {
			locked[id] = true
		}
		if pricing, err = commerce.PriceBasket(lines, offers, buyerOf(&owner), s.now()); err != nil {
			return commerce.Pricing{}, nil, err
		}
	}
	if voucher != nil && !slices.ContainsFunc(pricing.Offers, func(a commerce.AppliedOffer) bool { return a.VoucherID == voucher.ID }) {
		return commerce.Pricing{}, nil, voucherConflict(voucher.Code, "Its uses have run out or the basket no longer qualifies.")
	}
	return pricing, voucher, nil
}

func voucherConflict(code, why string) error {
	return commerce.UserError(commerce.EConflict,
		fmt.Sprintf("Coupon code '%s' can no longer be used: %s", code, why),
		fmt.Sprintf("Coupon code '%s' can no longer be used. Remove it from your basket to continue.", code))
}

// lockAndRefresh locks the offers (in id order), reloads them and reads their usage under the
// lock, replacing them in offers.
func (s *Store) lockAndRefresh(ctx context.Context, tx pgx.Tx, offers []commerce.Offer, ids []int64, userID, basketID int64) error {
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	if _, err := s.q.LockOffers(ctx, tx, ids); err != nil {
		return interpretError(fmt.Errorf("lock offers: %w", err))
	}
	fresh, err := s.offersWithRanges(ctx, tx, ids)
	if err != nil {
		return err
	}
	if err := s.offerUsage(ctx, tx, fresh, userID, basketID); err != nil {
		return err
	}
	byID := map[int64]commerce.Offer{}
	for _, o := range fresh {
		byID[o.ID] = o
	}
	for i, o := range offers {
		if f, ok := byID[o.ID]; ok {
			f.VoucherID, f.VoucherCode = o.VoucherID, o.VoucherCode
			offers[i] = f
		}
	}
	return nil
}

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

// FillOfferUsage sets the offers' usage (reserved and consumed applications and discount,
// overall and by userID) from their redemptions.
func (s *Store) FillOfferUsage(ctx context.Context, offers []commerce.Offer, userID int64) error {
	return s.offerUsage(ctx, s.pool, offers, userID, 0)
}
