package db

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
)

// offersWithRanges loads offers with their ranges: the open site offers when ids is nil.
func (s *Store) offersWithRanges(ctx context.Context, db dbgen.DBTX, ids []int64) ([]commerce.Offer, error) {
	rows, err := s.q.ListOffersWithRanges(ctx, db, ids)
	if err != nil {
		return nil, interpretError(fmt.Errorf("list offers: %w", err))
	}
	out := make([]commerce.Offer, len(rows))
	for i, r := range rows {
		out[i] = offerFromRow(r.Offer, r.IncludesAllProducts, r.CourseSeatTypes, r.ProductIds)
	}
	return out, nil
}

// Offer returns an offer with its range, or commerce.ErrNotFound.
func (s *Store) Offer(ctx context.Context, id int64) (commerce.Offer, error) {
	offers, err := s.offersWithRanges(ctx, s.pool, []int64{id})
	if err != nil {
		return commerce.Offer{}, err
	}
	if len(offers) == 0 {
		return commerce.Offer{}, fmt.Errorf("offer %d: %w", id, commerce.ErrNotFound)
	}
	return offers[0], nil
}

// SiteOffers returns a page of site offers and their count.
func (s *Store) SiteOffers(ctx context.Context, page commerce.Page) ([]commerce.Offer, int64, error) {
	total, err := s.q.CountOffersByType(ctx, s.pool, string(commerce.OfferSite))
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("count offers: %w", err))
	}
	rows, err := s.q.ListOffersByType(ctx, s.pool, dbgen.ListOffersByTypeParams{OfferType: string(commerce.OfferSite), PageLimit: int32(page.Limit), PageOffset: int32(page.Offset)})
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("list offers: %w", err))
	}
	out := make([]commerce.Offer, len(rows))
	for i, r := range rows {
		out[i] = offerFromRow(r.Offer, r.IncludesAllProducts, r.CourseSeatTypes, r.ProductIds)
	}
	return out, total, nil
}

// CreateOffer creates an offer and its range; its Type says whether it is a site offer. A
// duplicate name is an EInvalid error naming "name".
func (s *Store) CreateOffer(ctx context.Context, o commerce.Offer) (commerce.Offer, error) {
	if err := o.Validate(); err != nil {
		return commerce.Offer{}, err
	}
	var id int64
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = s.createOffer(ctx, tx, o, "Range for "+o.Name)
		return err
	})
	if err != nil {
		return commerce.Offer{}, err
	}
	s.cache.invalidate()
	return s.Offer(ctx, id)
}

func (s *Store) createOffer(ctx context.Context, tx pgx.Tx, o commerce.Offer, rangeName string) (int64, error) {
	rangeID, err := s.q.CreateRange(ctx, tx, dbgen.CreateRangeParams{Name: rangeName, IncludesAllProducts: o.Range.IncludesAllProducts, CourseSeatTypes: nonNil(o.Range.SeatTypes)})
	if err != nil {
		return 0, interpretError(fmt.Errorf("create range: %w", err))
	}
	if len(o.Range.ProductIDs) > 0 {
		if err := s.q.AddRangeProducts(ctx, tx, dbgen.AddRangeProductsParams{RangeID: rangeID, ProductIds: o.Range.ProductIDs}); err != nil {
			if errors.Is(interpretError(err), commerce.ErrInvalidReference) {
				return 0, commerce.FieldError("range", "A product of the range does not exist.")
			}
			return 0, interpretError(fmt.Errorf("fill range: %w", err))
		}
	}
	status := o.Status
	if status == "" {
		status = commerce.OfferOpen
	}
	id, err := s.q.CreateOffer(ctx, tx, dbgen.CreateOfferParams{
		Name: o.Name, OfferType: string(o.Type), RangeID: rangeID, ConditionType: string(o.Condition.Type),
		ConditionValue: o.Condition.Value, BenefitType: string(o.Benefit.Type), BenefitValue: o.Benefit.Value,
		MaxAffectedItems: maxAffectedItems(o.Benefit), Priority: int32(o.Priority), Exclusive: o.Exclusive,
		Status: string(status), StartDatetime: o.Start, EndDatetime: o.End,
		MaxGlobalApplications: convertPtr[int32](o.MaxGlobalApplications), MaxUserApplications: convertPtr[int32](o.MaxUserApplications),
		MaxBasketApplications: convertPtr[int32](o.MaxBasketApplications), MaxDiscount: o.MaxDiscount,
		EmailDomains: strings.Join(o.EmailDomains, ","),
	})
	if errors.Is(interpretError(err), commerce.ErrConflict) {
		return 0, commerce.FieldError("name", "An offer named %q already exists.", o.Name)
	}
	if err != nil {
		return 0, interpretError(fmt.Errorf("create offer %q: %w", o.Name, err))
	}
	return id, nil
}

// UpdateOffer replaces an offer's terms and range (its usage counters stay).
func (s *Store) UpdateOffer(ctx context.Context, o commerce.Offer) (commerce.Offer, error) {
	if err := o.Validate(); err != nil {
		return commerce.Offer{}, err
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := s.q.LockOffers(ctx, tx, []int64{o.ID}); err != nil {
			return interpretError(fmt.Errorf("lock offer %d: %w", o.ID, err))
		}
		rows, err := s.q.ListOffersWithRanges(ctx, tx, []int64{o.ID})
		if err != nil {
			return interpretError(fmt.Errorf("get offer %d: %w", o.ID, err))
		}
		if len(rows) == 0 {
			return fmt.Errorf("offer %d: %w", o.ID, commerce.ErrNotFound)
		}
		rangeID := rows[0].Offer.RangeID
		if err := s.q.ReplaceRange(ctx, tx, dbgen.ReplaceRangeParams{ID: rangeID, IncludesAllProducts: o.Range.IncludesAllProducts, CourseSeatTypes: nonNil(o.Range.SeatTypes)}); err != nil {
			return interpretError(fmt.Errorf("update range of offer %d: %w", o.ID, err))
		}
		if err := s.q.DeleteRangeProducts(ctx, tx, rangeID); err != nil {
			return interpretError(fmt.Errorf("empty range of offer %d: %w", o.ID, err))
		}
		if len(o.Range.ProductIDs) > 0 {
			if err := s.q.AddRangeProducts(ctx, tx, dbgen.AddRangeProductsParams{RangeID: rangeID, ProductIds: o.Range.ProductIDs}); err != nil {
				if errors.Is(interpretError(err), commerce.ErrInvalidReference) {
					return commerce.FieldError("range", "A product of the range does not exist.")
				}
				return interpretError(fmt.Errorf("fill range of offer %d: %w", o.ID, err))
			}
		}
		err = s.q.UpdateOffer(ctx, tx, dbgen.UpdateOfferParams{
			ID: o.ID, Name: o.Name, ConditionType: string(o.Condition.Type), ConditionValue: o.Condition.Value,
			BenefitType: string(o.Benefit.Type), BenefitValue: o.Benefit.Value, MaxAffectedItems: maxAffectedItems(o.Benefit),
			Priority: int32(o.Priority), Exclusive: o.Exclusive, Status: string(o.Status), StartDatetime: o.Start, EndDatetime: o.End,
			MaxGlobalApplications: convertPtr[int32](o.MaxGlobalApplications), MaxUserApplications: convertPtr[int32](o.MaxUserApplications),
			MaxBasketApplications: convertPtr[int32](o.MaxBasketApplications), MaxDiscount: o.MaxDiscount, EmailDomains: strings.Join(o.EmailDomains, ","),
		})
		if errors.Is(interpretError(err), commerce.ErrConflict) {
			return commerce.FieldError("name", "An offer named %q already exists.", o.Name)
		}
		return interpretError(err)
	})
	if err != nil {
		return commerce.Offer{}, err
	}
	s.cache.invalidate()
	return s.Offer(ctx, o.ID)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// offerUsage fills the usage of offers from their redemptions (reserved or consumed), overall
// and by the user, leaving out one basket's own reservations.
func (s *Store) offerUsage(ctx context.Context, db dbgen.DBTX, offers []commerce.Offer, userID, basketID int64) error {
	if len(offers) == 0 {
		return nil
	}
	ids := make([]int64, len(offers))
	for i, o := range offers {
		ids[i] = o.ID
	}
	rows, err := s.q.OfferUsage(ctx, db, dbgen.OfferUsageParams{OfferIds: ids, UserID: userID, BasketID: basketID})
	if err != nil {
		return interpretError(fmt.Errorf("offer usage: %w", err))
	}
	byID := map[int64]dbgen.OfferUsageRow{}
	for _, r := range rows {
		byID[r.OfferID] = r
	}
	for i := range offers {
		r := byID[offers[i].ID]
		offers[i].NumApplications = int(r.Applications)
		offers[i].UserApplications = int(r.UserApplications)
		offers[i].TotalDiscount = r.Discount
	}
	return nil
}
