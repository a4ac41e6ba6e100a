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

// CreateEnrollmentCodes fulfils an enrollment-code line of an order: one single-use, 100% code
// per unit bought, for the seat of the line's course and seat type, valid for
// commerce.EnrollmentCodeValidity; the line becomes Complete. It is idempotent: a line that has
// its codes gets no more. It returns the line's codes.
func (s *Store) CreateEnrollmentCodes(ctx context.Context, number, sku string) ([]commerce.Voucher, error) {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		order, err := s.q.LockOrderByNumber(ctx, tx, number)
		if err != nil {
			return interpretError(fmt.Errorf("lock order %s: %w", number, err))
		}
		line, err := s.q.GetOrderLineBySKU(ctx, tx, dbgen.GetOrderLineBySKUParams{OrderID: order.ID, PartnerSku: sku})
		if err != nil {
			return interpretError(fmt.Errorf("line %s of order %s: %w", sku, number, err))
		}
		have, err := s.q.CountOrderLineVouchers(ctx, tx, line.ID)
		if err != nil {
			return interpretError(fmt.Errorf("codes of line %d: %w", line.ID, err))
		}
		if have >= int64(line.Quantity) {
			return nil
		}
		if line.ProductID == nil {
			return fmt.Errorf("line %s of order %s has no product: %w", sku, number, commerce.ErrNotFound)
		}
		code, err := s.q.GetProductWithStock(ctx, tx, *line.ProductID)
		if err != nil {
			return interpretError(fmt.Errorf("enrollment code product of line %d: %w", line.ID, err))
		}
		if code.Product.CourseID == nil {
			return fmt.Errorf("enrollment code product %d has no course: %w", code.Product.ID, commerce.ErrInvalidReference)
		}
		seat, err := s.q.GetSeatOfCourse(ctx, tx, dbgen.GetSeatOfCourseParams{CourseID: code.Product.CourseID, CertificateType: seatCertificateType(code.Product.SeatType)})
		if err != nil {
			return interpretError(fmt.Errorf("seat %s of %s: %w", code.Product.SeatType, *code.Product.CourseID, err))
		}
		offerID, err := s.createOffer(ctx, tx, commerce.Offer{
			Name: fmt.Sprintf("Enrollment codes of order %s line %d", number, line.ID), Type: commerce.OfferVoucher,
			Priority: commerce.CouponPriority, Exclusive: true, Status: commerce.OfferOpen,
			Range:     commerce.Range{ProductIDs: []int64{seat.ID}},
			Condition: commerce.Condition{Type: commerce.ConditionCount, Value: decimal.NewFromInt(1)},
			Benefit:   commerce.Benefit{Type: commerce.BenefitPercentage, Value: decimal.NewFromInt(100), MaxAffectedItems: 1},
		}, fmt.Sprintf("Enrollment Code Range for %s", *code.Product.CourseID))
		if err != nil {
			return err
		}
		start := s.now()
		for n := have; n < int64(line.Quantity); {
			id, err := s.q.CreateEnrollmentCodeVoucher(ctx, tx, dbgen.CreateEnrollmentCodeVoucherParams{
				Code: commerce.NewVoucherCode(), Name: "Enrollment code voucher [" + seat.Title + "]",
				StartDatetime: start, EndDatetime: start.Add(commerce.EnrollmentCodeValidity),
			})
			if errors.Is(err, pgx.ErrNoRows) {
				continue // the random code was taken: draw another
			} else if err != nil {
				return interpretError(fmt.Errorf("create enrollment code: %w", err))
			}
			if err := s.q.AddVoucherOffer(ctx, tx, dbgen.AddVoucherOfferParams{VoucherID: id, OfferID: offerID}); err != nil {
				return interpretError(fmt.Errorf("link enrollment code %d: %w", id, err))
			}
			if err := s.q.AddOrderLineVoucher(ctx, tx, dbgen.AddOrderLineVoucherParams{OrderLineID: line.ID, VoucherID: id}); err != nil {
				return interpretError(fmt.Errorf("attach enrollment code %d to line %d: %w", id, line.ID, err))
			}
			n++
		}
		return interpretError(s.q.SetOrderLineComplete(ctx, tx, line.ID))
	})
	if err != nil {
		return nil, err
	}
	s.cache.invalidate()
	o, err := s.Order(ctx, number)
	if err != nil {
		return nil, err
	}
	for _, l := range o.Lines {
		if l.SKU == sku {
			return l.EnrollmentCodes, nil
		}
	}
	return nil, nil
}

// seatCertificateType is the certificate type of the seat an enrollment code's seat type names.
func seatCertificateType(seatType string) string {
	if seatType == "no-id-professional" {
		return "professional"
	}
	return seatType
}

// attachEnrollmentCodes adds to an order's lines the codes they created.
func (s *Store) attachEnrollmentCodes(ctx context.Context, o *commerce.Order) error {
	rows, err := s.q.ListOrderEnrollmentCodes(ctx, s.pool, o.ID)
	if err != nil {
		return interpretError(fmt.Errorf("enrollment codes of order %s: %w", o.Number, err))
	}
	for _, r := range rows {
		for i := range o.Lines {
			if o.Lines[i].ID == r.OrderLineID {
				o.Lines[i].EnrollmentCodes = append(o.Lines[i].EnrollmentCodes, voucherFromRow(r.Voucher))
			}
		}
	}
	return nil
}
