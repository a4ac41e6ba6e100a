package db_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func couponCode(t *testing.T, s *db.Store, seat commerce.Product, usage commerce.VoucherUsage, maxUses *int) commerce.Voucher {
	t.Helper()
	cp, err := s.CreateCoupon(context.Background(), partner, commerce.CouponSpec{
		Title: dbtest.Unique("coupon-"), StockRecordIDs: []int64{seat.StockRecord.ID},
		Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour),
		BenefitType: commerce.BenefitPercentage, BenefitValue: decimal.NewFromInt(50),
		VoucherType: usage, Quantity: 1, MaxUses: maxUses,
	})
	require.NoError(t, err)
	v, err := s.VoucherByCode(context.Background(), cp.Vouchers[0].Code)
	require.NoError(t, err)
	return v
}

func basketWithCode(t *testing.T, s *db.Store, seat commerce.Product, v commerce.Voucher) (commerce.User, commerce.Basket) {
	t.Helper()
	u := newUser(t, s)
	b := openBasket(t, s, u, seat)
	require.NoError(t, s.SetBasketVoucher(context.Background(), b.ID, v.ID))
	return u, b
}

// A payment that arrives after its checkout expired still places its order, even when the
// single-use code it used has been taken by another learner meanwhile; the order gets a note for
// ops.
func TestLatePaymentPastASingleUseCodeIsPlacedAndNoted(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	seat := newSeat(t, s, "100.00")
	v := couponCode(t, s, seat, commerce.SingleUse, nil)
	u, a := basketWithCode(t, s, seat, v)
	var bld builder
	ca, _, _, err := s.FreezeBasket(ctx, a.ID, u, partner, "cybersource", bld.build)
	require.NoError(t, err)
	_, err = s.ReopenBasket(ctx, a.ID)
	require.NoError(t, err)
	other, b := basketWithCode(t, s, seat, v)
	cb, _, _, err := s.FreezeBasket(ctx, b.ID, other, partner, "cybersource", bld.build)
	require.NoError(t, err, "the released code may be reserved again")
	ob, _, err := s.PlaceOrder(ctx, cb, paymentFor(cb, "b"))
	require.NoError(t, err)
	oa, _, err := s.PlaceOrder(ctx, ca, paymentFor(ca, "late"))
	require.NoError(t, err, "a paid order is never lost")
	require.Equal(t, "50.00", commerce.FormatMoney(oa.TotalInclTax))
	require.Equal(t, 0, count(t, "SELECT count(*) FROM order_notes WHERE order_id = $1", ob.ID))
	require.Equal(t, 1, count(t, "SELECT count(*) FROM order_notes WHERE order_id = $1 AND note_type = 'Warning' AND message LIKE '%'||$2||'%'", oa.ID, v.Code))
}

// Freezing baskets that share a code while orders on it are placed never deadlocks into an
// error: both sides take the voucher, then the offers, in id order.
func TestFreezeAndPlaceOrderOnOneCodeNeverFail(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	seat := newSeat(t, s, "80.00")
	max := 1000
	v := couponCode(t, s, seat, commerce.MultiUse, &max)
	var checkouts []commerce.Checkout
	var bld builder
	for range 10 {
		u, b := basketWithCode(t, s, seat, v)
		c, _, _, err := s.FreezeBasket(ctx, b.ID, u, partner, "cybersource", bld.build)
		require.NoError(t, err)
		checkouts = append(checkouts, c)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i, c := range checkouts {
		wg.Go(func() { _, _, err := s.PlaceOrder(ctx, c, paymentFor(c, "p"+itoa(i))); errs <- err })
		wg.Go(func() {
			u, b := basketWithCode(t, s, seat, v)
			_, _, _, err := s.FreezeBasket(ctx, b.ID, u, partner, "cybersource", bld.build)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// An offer whose global limit is reached by an order becomes Consumed.
func TestOfferIsConsumedAtItsLimit(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	seat := newSeat(t, s, "40.00")
	one := 1
	v := couponCode(t, s, seat, commerce.MultiUse, &one)
	u, b := basketWithCode(t, s, seat, v)
	var bld builder
	c, _, _, err := s.FreezeBasket(ctx, b.ID, u, partner, "cybersource", bld.build)
	require.NoError(t, err)
	offer, err := s.Offer(ctx, v.Offers[0].ID)
	require.NoError(t, err)
	require.Equal(t, commerce.OfferOpen, offer.Status, "a reservation does not consume the offer")
	_, _, err = s.PlaceOrder(ctx, c, paymentFor(c, "t"))
	require.NoError(t, err)
	offer, err = s.Offer(ctx, v.Offers[0].ID)
	require.NoError(t, err)
	require.Equal(t, commerce.OfferConsumed, offer.Status)
	require.Equal(t, 1, offer.NumApplications)
	require.Equal(t, "20.00", commerce.FormatMoney(offer.TotalDiscount))
}
