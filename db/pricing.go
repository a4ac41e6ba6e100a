package db

import (
	"context"
	"fmt"
	"slices"

	"github.com/coursecommerce/commerce/commerce"
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

// FillOfferUsage sets the offers' usage (reserved and consumed applications and discount,
// overall and by userID) from their redemptions.
func (s *Store) FillOfferUsage(ctx context.Context, offers []commerce.Offer, userID int64) error {
	return s.offerUsage(ctx, s.pool, offers, userID, 0)
}
