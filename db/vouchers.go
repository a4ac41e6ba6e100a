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

// attachVoucherOffers loads a voucher's offers, marked with the voucher.
func (s *Store) attachVoucherOffers(ctx context.Context, db dbgen.DBTX, v *commerce.Voucher) error {
	ids, err := s.q.ListVoucherOfferIDs(ctx, db, v.ID)
	if err != nil {
		return interpretError(fmt.Errorf("offers of voucher %s: %w", v.Code, err))
	}
	if len(ids) == 0 {
		v.Offers = nil
		return nil
	}
	offers, err := s.offersWithRanges(ctx, db, ids)
	if err != nil {
		return err
	}
	for i := range offers {
		offers[i].VoucherID, offers[i].VoucherCode = v.ID, v.Code
	}
	v.Offers = offers
	return nil
}

// VoucherByCode returns the voucher with that code (any case) and its offers, or commerce.ErrNotFound.
func (s *Store) VoucherByCode(ctx context.Context, code string) (commerce.Voucher, error) {
	row, err := s.q.GetVoucherByCode(ctx, s.pool, strings.ToUpper(strings.TrimSpace(code)))
	if err != nil {
		return commerce.Voucher{}, interpretError(fmt.Errorf("get voucher: %w", err))
	}
	v := voucherFromRow(row)
	return v, s.attachVoucherOffers(ctx, s.pool, &v)
}

// VoucherUses counts the baskets that reserved or consumed the voucher, by the user and by
// others, leaving out basketID.
func (s *Store) VoucherUses(ctx context.Context, voucherID, userID, basketID int64) (commerce.VoucherUses, error) {
	return s.voucherUses(ctx, s.pool, voucherID, userID, basketID)
}

func (s *Store) voucherUses(ctx context.Context, db dbgen.DBTX, voucherID, userID, basketID int64) (commerce.VoucherUses, error) {
	r, err := s.q.VoucherUses(ctx, db, dbgen.VoucherUsesParams{VoucherID: voucherID, UserID: userID, BasketID: basketID})
	if err != nil {
		return commerce.VoucherUses{}, interpretError(fmt.Errorf("uses of voucher %d: %w", voucherID, err))
	}
	return commerce.VoucherUses{ByUser: int(r.ByUser), ByOthers: int(r.ByOthers)}, nil
}

// Vouchers returns a page of vouchers (one code, when given) with their offers, and the count.
func (s *Store) Vouchers(ctx context.Context, code string, page commerce.Page) ([]commerce.Voucher, int64, error) {
	var c *string
	if code != "" {
		up := strings.ToUpper(strings.TrimSpace(code))
		c = &up
	}
	total, err := s.q.CountVouchers(ctx, s.pool, c)
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("count vouchers: %w", err))
	}
	rows, err := s.q.ListVouchers(ctx, s.pool, dbgen.ListVouchersParams{Code: c, PageLimit: int32(page.Limit), PageOffset: int32(page.Offset)})
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("list vouchers: %w", err))
	}
	out := make([]commerce.Voucher, len(rows))
	for i, r := range rows {
		out[i] = voucherFromRow(r)
		if err := s.attachVoucherOffers(ctx, s.pool, &out[i]); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// SetBasketVoucher puts the voucher on the basket, replacing any other (one voucher per basket).
func (s *Store) SetBasketVoucher(ctx context.Context, basketID, voucherID int64) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		n, err := s.q.SetBasketVoucher(ctx, tx, dbgen.SetBasketVoucherParams{BasketID: basketID, VoucherID: voucherID})
		if err != nil {
			return interpretError(fmt.Errorf("set voucher of basket %d: %w", basketID, err))
		}
		if n == 0 {
			msg := fmt.Sprintf("Basket [%d] is no longer open; coupons apply to open baskets only.", basketID)
			return commerce.UserError(commerce.EInvalid, msg, msg)
		}
		return interpretError(s.q.IncrementVoucherBasketAdditions(ctx, tx, voucherID))
	})
}

// RemoveBasketVoucher takes the voucher off the basket; commerce.ErrNotFound if it was not on it.
func (s *Store) RemoveBasketVoucher(ctx context.Context, basketID, voucherID int64) error {
	n, err := s.q.DeleteBasketVoucher(ctx, s.pool, dbgen.DeleteBasketVoucherParams{BasketID: basketID, VoucherID: voucherID})
	if err != nil {
		return interpretError(fmt.Errorf("remove voucher from basket %d: %w", basketID, err))
	}
	if n == 0 {
		return fmt.Errorf("voucher %d on basket %d: %w", voucherID, basketID, commerce.ErrNotFound)
	}
	return nil
}

// BasketVoucher returns the basket's voucher with its offers, or nil.
func (s *Store) BasketVoucher(ctx context.Context, basketID int64) (*commerce.Voucher, error) {
	return s.basketVoucher(ctx, s.pool, basketID, false)
}

func (s *Store) basketVoucher(ctx context.Context, db dbgen.DBTX, basketID int64, lock bool) (*commerce.Voucher, error) {
	id, err := s.q.GetBasketVoucherID(ctx, db, basketID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, interpretError(fmt.Errorf("voucher of basket %d: %w", basketID, err))
	}
	get := s.q.GetVoucherByID
	if lock {
		get = s.q.LockVoucher
	}
	row, err := get(ctx, db, id)
	if err != nil {
		return nil, interpretError(fmt.Errorf("get voucher %d: %w", id, err))
	}
	v := voucherFromRow(row)
	if err := s.attachVoucherOffers(ctx, db, &v); err != nil {
		return nil, err
	}
	return &v, nil
}
