package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// CreateCoupon creates, in one transaction, the coupon product and its stock record, its
// range, its offers (one per voucher for Multi-use and Once per customer, else one shared)
// and its vouchers. A custom code already taken is EInvalid "A coupon with code X already exists.".
func (s *Store) CreateCoupon(ctx context.Context, partner string, spec commerce.CouponSpec) (commerce.Coupon, error) {
	if err := spec.Validate(); err != nil {
		return commerce.Coupon{}, err
	}
	var couponID int64
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		productIDs, err := s.couponProducts(ctx, tx, spec.StockRecordIDs)
		if err != nil {
			return err
		}
		p, err := s.q.CreateProduct(ctx, tx, dbgen.CreateProductParams{ProductClass: string(commerce.ClassCoupon), Title: spec.Title})
		if err != nil {
			return interpretError(fmt.Errorf("create coupon product: %w", err))
		}
		couponID = p.ID
		if _, err := s.q.CreateStockRecord(ctx, tx, dbgen.CreateStockRecordParams{
			ProductID: p.ID, PartnerSku: commerce.SKU(fmt.Sprintf("%d %s", p.ID, partner)), Price: spec.Price, PriceCurrency: commerce.DefaultCurrency,
		}); err != nil {
			return interpretError(fmt.Errorf("create coupon stock record: %w", err))
		}
		if err := s.q.CreateCoupon(ctx, tx, dbgen.CreateCouponParams{ProductID: p.ID, Category: spec.Category, Note: spec.Note, VoucherType: string(spec.VoucherType)}); err != nil {
			return interpretError(fmt.Errorf("create coupon: %w", err))
		}
		perVoucher := spec.VoucherType == commerce.MultiUse || spec.VoucherType == commerce.OncePerCustomer
		offer := commerce.Offer{
			Type: commerce.OfferVoucher, Priority: commerce.CouponPriority, Exclusive: true, Status: commerce.OfferOpen,
			Range:                 commerce.Range{ProductIDs: productIDs, SeatTypes: spec.SeatTypes},
			Condition:             commerce.Condition{Type: commerce.ConditionCount, Value: decimal.NewFromInt(1)},
			Benefit:               commerce.Benefit{Type: spec.BenefitType, Value: spec.BenefitValue, MaxAffectedItems: 1},
			MaxGlobalApplications: spec.MaxUses, EmailDomains: spec.EmailDomains,
		}
		var shared int64
		for n := 1; n <= spec.Quantity; n++ {
			offerID := shared
			if perVoucher || shared == 0 {
				offer.Name = commerce.OfferName(p.ID, spec.BenefitType, spec.BenefitValue, n)
				if !perVoucher {
					offer.Name = commerce.OfferName(p.ID, spec.BenefitType, spec.BenefitValue, 0)
				}
				if offerID, err = s.createOffer(ctx, tx, offer, fmt.Sprintf("Range for coupon [%d]", p.ID)); err != nil {
					return err
				}
				shared = offerID
			}
			voucherID, err := s.createVoucher(ctx, tx, spec, p.ID)
			if err != nil {
				return err
			}
			if err := s.q.AddVoucherOffer(ctx, tx, dbgen.AddVoucherOfferParams{VoucherID: voucherID, OfferID: offerID}); err != nil {
				return interpretError(fmt.Errorf("link voucher %d to offer %d: %w", voucherID, offerID, err))
			}
		}
		return nil
	})
	if err != nil {
		return commerce.Coupon{}, err
	}
	s.cache.invalidate()
	return s.Coupon(ctx, couponID)
}

// couponProducts checks the stock records a coupon names and returns their products. Only
// seats with a paid certificate qualify (edX: "Course mode not supported").
func (s *Store) couponProducts(ctx context.Context, tx pgx.Tx, stockRecordIDs []int64) ([]int64, error) {
	if len(stockRecordIDs) == 0 {
		return nil, nil
	}
	rows, err := s.q.GetStockRecordsByIDs(ctx, tx, stockRecordIDs)
	if err != nil {
		return nil, interpretError(fmt.Errorf("get stock records: %w", err))
	}
	if len(rows) != len(slices.Compact(slices.Sorted(slices.Values(stockRecordIDs)))) {
		return nil, commerce.FieldError("stock_record_ids", "A stock record does not exist.")
	}
	var ids []int64
	for _, r := range rows {
		if r.Product.ProductClass != string(commerce.ClassSeat) || r.Product.CertificateType == "" || r.Product.CertificateType == "honor" {
			return nil, commerce.FieldError("stock_record_ids", "Course mode not supported")
		}
		ids = append(ids, r.Product.ID)
	}
	return ids, nil
}

func (s *Store) createVoucher(ctx context.Context, tx pgx.Tx, spec commerce.CouponSpec, couponID int64) (int64, error) {
	for attempt := 0; attempt < 5; attempt++ {
		code := commerce.NewVoucherCode()
		if spec.Code != "" {
			code, _ = commerce.NormalizeCode(spec.Code)
		}
		id, err := s.q.CreateVoucher(ctx, tx, dbgen.CreateVoucherParams{
			Code: code, Name: spec.Title, Usage: string(spec.VoucherType), StartDatetime: spec.Start, EndDatetime: spec.End, CouponID: &couponID,
		})
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, interpretError(fmt.Errorf("create voucher: %w", err))
		}
		if spec.Code != "" { // ON CONFLICT DO NOTHING: the code is taken
			return 0, commerce.FieldError("code", "A coupon with code %s already exists.", code)
		}
	}
	return 0, fmt.Errorf("create voucher: %w", commerce.ErrConflict)
}

// Coupon returns a coupon with its vouchers, or commerce.ErrNotFound.
func (s *Store) Coupon(ctx context.Context, id int64) (commerce.Coupon, error) {
	row, err := s.q.GetCoupon(ctx, s.pool, id)
	if err != nil {
		return commerce.Coupon{}, interpretError(fmt.Errorf("get coupon %d: %w", id, err))
	}
	return s.couponFromRows(ctx, row.Coupon, row.Product, row.StockRecord)
}

// Coupons returns a page of coupons and their count.
func (s *Store) Coupons(ctx context.Context, page commerce.Page) ([]commerce.Coupon, int64, error) {
	total, err := s.q.CountCoupons(ctx, s.pool)
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("count coupons: %w", err))
	}
	rows, err := s.q.ListCoupons(ctx, s.pool, dbgen.ListCouponsParams{PageLimit: int32(page.Limit), PageOffset: int32(page.Offset)})
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("list coupons: %w", err))
	}
	out := make([]commerce.Coupon, len(rows))
	for i, r := range rows {
		if out[i], err = s.couponFromRows(ctx, r.Coupon, r.Product, r.StockRecord); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

func (s *Store) couponFromRows(ctx context.Context, c dbgen.Coupon, p dbgen.Product, sr dbgen.StockRecord) (commerce.Coupon, error) {
	out := commerce.Coupon{
		ID: c.ProductID, Title: p.Title, Category: c.Category, Note: c.Note, SKU: sr.PartnerSku, StockRecordID: sr.ID, Price: sr.Price,
		Currency: sr.PriceCurrency, VoucherType: commerce.VoucherUsage(c.VoucherType), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	vouchers, err := s.q.ListCouponVouchers(ctx, s.pool, &c.ProductID)
	if err != nil {
		return out, interpretError(fmt.Errorf("vouchers of coupon %d: %w", c.ProductID, err))
	}
	for _, v := range vouchers {
		cv := voucherFromRow(v)
		out.Vouchers = append(out.Vouchers, cv)
		out.NumUses += cv.NumOrders
		out.Start, out.End = cv.Start, cv.End
	}
	offerIDs, err := s.q.ListCouponOfferIDs(ctx, s.pool, &c.ProductID)
	if err != nil {
		return out, interpretError(fmt.Errorf("offers of coupon %d: %w", c.ProductID, err))
	}
	if len(offerIDs) > 0 {
		offers, err := s.offersWithRanges(ctx, s.pool, offerIDs)
		if err != nil {
			return out, err
		}
		links, err := s.q.ListCouponVoucherOffers(ctx, s.pool, &c.ProductID)
		if err != nil {
			return out, interpretError(fmt.Errorf("offers of the vouchers of coupon %d: %w", c.ProductID, err))
		}
		byID := map[int64]commerce.Offer{}
		for _, o := range offers {
			byID[o.ID] = o
		}
		index := map[int64]int{}
		for i, v := range out.Vouchers {
			index[v.ID] = i
		}
		for _, l := range links {
			if i, ok := index[l.VoucherID]; ok {
				o := byID[l.OfferID]
				o.VoucherID, o.VoucherCode = out.Vouchers[i].ID, out.Vouchers[i].Code
				out.Vouchers[i].Offers = append(out.Vouchers[i].Offers, o)
			}
		}
		o := offers[0]
		out.BenefitType, out.BenefitValue, out.EmailDomains, out.SeatTypes = o.Benefit.Type, o.Benefit.Value, o.EmailDomains, o.Range.SeatTypes
		out.MaxUses = o.MaxGlobalApplications
		if len(o.Range.ProductIDs) > 0 {
			if out.StockRecordIDs, err = s.q.StockRecordIDsOfProducts(ctx, s.pool, o.Range.ProductIDs); err != nil {
				return out, interpretError(fmt.Errorf("stock records of coupon %d: %w", c.ProductID, err))
			}
		}
	}
	return out, nil
}

// UpdateCoupon applies changes to a coupon's product, details, vouchers' dates and offers' terms,
// in one transaction.
func (s *Store) UpdateCoupon(ctx context.Context, id int64, u commerce.CouponChanges) (commerce.Coupon, error) {
	current, err := s.Coupon(ctx, id)
	if err != nil {
		return commerce.Coupon{}, err
	}
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		if u.Title != nil {
			if err := s.q.SetProductTitle(ctx, tx, dbgen.SetProductTitleParams{ID: id, Title: *u.Title}); err != nil {
				return interpretError(fmt.Errorf("retitle coupon %d: %w", id, err))
			}
			current.Title = *u.Title
		}
		if u.Category != nil {
			current.Category = *u.Category
		}
		if u.Note != nil {
			current.Note = *u.Note
		}
		if err := s.q.UpdateCoupon(ctx, tx, dbgen.UpdateCouponParams{ProductID: id, Category: current.Category, Note: current.Note}); err != nil {
			return interpretError(fmt.Errorf("update coupon %d: %w", id, err))
		}
		if u.Title != nil || u.Start != nil || u.End != nil {
			st, en := current.Start, current.End
			if u.Start != nil {
				st = *u.Start
			}
			if u.End != nil {
				en = *u.End
			}
			if !st.Before(en) {
				return commerce.FieldError("end_datetime", "The end must be after the start.")
			}
			if err := s.q.UpdateCouponVoucherDates(ctx, tx, dbgen.UpdateCouponVoucherDatesParams{CouponID: &id, StartDatetime: st, EndDatetime: en, Name: current.Title}); err != nil {
				return interpretError(fmt.Errorf("update dates of coupon %d: %w", id, err))
			}
		}
		if u.Price != nil {
			if _, err := s.q.UpdateStockRecordPrice(ctx, tx, dbgen.UpdateStockRecordPriceParams{ID: current.StockRecordID, Price: *u.Price, PriceCurrency: current.Currency}); err != nil {
				return interpretError(fmt.Errorf("update price of coupon %d: %w", id, err))
			}
		}
		if u.BenefitValue != nil || u.MaxUses != nil || u.EmailDomains != nil {
			value, maxUses, domains := current.BenefitValue, current.MaxUses, current.EmailDomains
			if u.BenefitValue != nil {
				value = *u.BenefitValue
			}
			if u.MaxUses != nil {
				if current.VoucherType == commerce.SingleUse {
					return commerce.FieldError("max_uses", "A single-use coupon cannot have max_uses.")
				}
				maxUses = u.MaxUses
			}
			if u.EmailDomains != nil {
				domains = *u.EmailDomains
			}
			if current.BenefitType == commerce.BenefitPercentage && value.GreaterThan(decimal.NewFromInt(100)) {
				return commerce.FieldError("benefit_value", "A percentage is at most 100.")
			}
			ids, err := s.q.ListCouponOfferIDs(ctx, tx, &id)
			if err != nil {
				return interpretError(fmt.Errorf("offers of coupon %d: %w", id, err))
			}
			if err := s.q.UpdateOfferTerms(ctx, tx, dbgen.UpdateOfferTermsParams{Ids: ids, BenefitValue: value,
				MaxGlobalApplications: convertPtr[int32](maxUses), EmailDomains: strings.Join(domains, ",")}); err != nil {
				return interpretError(fmt.Errorf("update offers of coupon %d: %w", id, err))
			}
		}
		return nil
	})
	if err != nil {
		return commerce.Coupon{}, err
	}
	s.cache.invalidate()
	return s.Coupon(ctx, id)
}

// DeleteCoupon deletes a coupon, its vouchers, offers and ranges. Orders keep their discounts
// (by name and code); redemptions lose their links.
func (s *Store) DeleteCoupon(ctx context.Context, id int64) error {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if _, err := s.q.GetCoupon(ctx, tx, id); err != nil {
			return interpretError(fmt.Errorf("get coupon %d: %w", id, err))
		}
		offerIDs, err := s.q.ListCouponOfferIDs(ctx, tx, &id)
		if err != nil {
			return interpretError(fmt.Errorf("offers of coupon %d: %w", id, err))
		}
		rangeIDs, err := s.q.GetRangeIDsOfOffers(ctx, tx, offerIDs)
		if err != nil {
			return interpretError(fmt.Errorf("ranges of coupon %d: %w", id, err))
		}
		if err := s.q.DeleteProduct(ctx, tx, id); err != nil {
			return interpretError(fmt.Errorf("delete coupon %d: %w", id, err))
		}
		if err := s.q.DeleteOffers(ctx, tx, offerIDs); err != nil {
			return interpretError(fmt.Errorf("delete offers of coupon %d: %w", id, err))
		}
		return interpretError(s.q.DeleteRanges(ctx, tx, rangeIDs))
	})
	if err == nil {
		s.cache.invalidate()
	}
	return err
}
