package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// One seat, one order (issue 7): an expired checkout's seat moves to a restored basket; the late
// payment places the expired checkout's order, the restored basket loses the seat, and neither
// a checkout nor an order can sell the learner that seat again.
func TestOneSeatOneOrder(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	var bld builder

	t.Run("LatePaymentEmptiesTheRestoredBasketAndCheckoutRefusesTheSeat", func(t *testing.T) {
		t.Parallel()
		seat, other := newSeat(t, s, "99.00"), newSeat(t, s, "10.00")
		u := newUser(t, s)
		a := openBasket(t, s, u, seat)
		ca, _, _, err := s.FreezeBasket(ctx, a.ID, u, partner, "cybersource", bld.build)
		require.NoError(t, err)
		restored, err := s.ReopenBasket(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, 1, count(t, "SELECT count(*) FROM basket_lines WHERE basket_id = $1 AND product_id = $2", restored, seat.ID))

		_, created, err := s.PlaceOrder(ctx, ca, paymentFor(ca, "late"))
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, 0, count(t, "SELECT count(*) FROM basket_lines WHERE basket_id = $1", restored), "the bought seat left the restored basket")

		// Put the seat back by hand (as an old client might): checkout answers edX's message.
		b, err := s.ReplaceOpenBasket(ctx, u.ID, []commerce.BasketItem{{Product: seat, Quantity: 1}, {Product: other, Quantity: 1}})
		require.NoError(t, err)
		_, _, _, err = s.FreezeBasket(ctx, b.ID, u, partner, "cybersource", bld.build)
		var e *commerce.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, commerce.EInvalid, e.Code)
		require.Equal(t, "The user has already purchased the products with SKU(s) ["+seat.StockRecord.PartnerSKU+"]", e.Message)
		require.Equal(t, "Open", basketStatus(t, b.ID), "nothing frozen")
		require.Equal(t, 0, count(t, "SELECT count(*) FROM checkouts WHERE basket_id = $1", b.ID))
	})

	t.Run("ASecondOrderForAnOwnedSeatIsRefused", func(t *testing.T) {
		t.Parallel()
		seat := newSeat(t, s, "299.00")
		u := newUser(t, s)
		a := openBasket(t, s, u, seat)
		ca, _, _, err := s.FreezeBasket(ctx, a.ID, u, partner, "cybersource", bld.build)
		require.NoError(t, err)
		restored, err := s.ReopenBasket(ctx, a.ID)
		require.NoError(t, err)
		cb, _, _, err := s.FreezeBasket(ctx, restored, u, partner, "cybersource", bld.build)
		require.NoError(t, err, "nothing owned yet: the restored basket may be checked out")
		ob, _, err := s.PlaceOrder(ctx, cb, paymentFor(cb, "second-basket"))
		require.NoError(t, err)

		_, created, err := s.PlaceOrder(ctx, ca, paymentFor(ca, "late"))
		require.ErrorIs(t, err, commerce.ErrAlreadyOwned)
		require.Contains(t, err.Error(), ob.Number)
		require.False(t, created)
		require.Equal(t, 0, count(t, "SELECT count(*) FROM orders WHERE number = $1", ca.OrderNumber), "nothing written")
		require.Equal(t, "Frozen", basketStatus(t, ca.BasketID))

		// The order placed first is still placed idempotently.
		again, created, err := s.PlaceOrder(ctx, cb, paymentFor(cb, "second-basket"))
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, ob.Number, again.Number)
	})

	t.Run("ConcurrentPlacementsOfOneSeatPlaceOneOrder", func(t *testing.T) {
		t.Parallel()
		seat := newSeat(t, s, "50.00")
		u := newUser(t, s)
		var checkouts []commerce.Checkout
		for range 4 {
			b := openBasket(t, s, u, seat)
			c, _, _, err := s.FreezeBasket(ctx, b.ID, u, partner, "cybersource", bld.build)
			require.NoError(t, err)
			checkouts = append(checkouts, c)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(checkouts))
		for i, c := range checkouts {
			wg.Go(func() { _, _, errs[i] = s.PlaceOrder(ctx, c, paymentFor(c, c.OrderNumber)) })
		}
		wg.Wait()
		placed := 0
		for _, err := range errs {
			if err == nil {
				placed++
			} else {
				require.True(t, errors.Is(err, commerce.ErrAlreadyOwned), err)
			}
		}
		require.Equal(t, 1, placed)
		require.Equal(t, 1, count(t, "SELECT count(*) FROM orders WHERE user_id = $1", u.ID))
	})
}

// FlagForOps records the reason on the checkout and, once, as a note on the order.
func TestFlagForOps(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	_, o := placed(t, s, "49.00")
	reason := "Excessive payment: refund txn-2."
	require.NoError(t, s.FlagForOps(ctx, o.Number, reason, true))
	require.NoError(t, s.FlagForOps(ctx, o.Number, reason, true))
	st, err := s.CheckoutStatus(ctx, o.Number)
	require.NoError(t, err)
	require.Equal(t, commerce.CheckoutNeedsAttention, st)
	got, err := s.AttentionReason(ctx, o.Number)
	require.NoError(t, err)
	require.Equal(t, reason, got)
	require.Equal(t, 1, count(t, "SELECT count(*) FROM order_notes WHERE order_id = $1 AND note_type = 'Error' AND message = $2", o.ID, reason))
	require.NoError(t, s.FlagForOps(ctx, o.Number, "Fulfillment failed.", false))
	require.Equal(t, 1, count(t, "SELECT count(*) FROM order_notes WHERE order_id = $1", o.ID), "no note when not asked")
	require.NoError(t, s.SetCheckoutStatus(ctx, o.Number, commerce.CheckoutFulfilled))
	got, err = s.AttentionReason(ctx, o.Number)
	require.NoError(t, err)
	require.Empty(t, got, "a checkout that no longer needs attention has no reason")

	// A checkout without an order is flagged too.
	g := checkoutOf(t, s, "5.00")
	require.NoError(t, s.FlagForOps(ctx, g.checkout.OrderNumber, "already owned", true))
	got, err = s.AttentionReason(ctx, g.checkout.OrderNumber)
	require.NoError(t, err)
	require.Equal(t, "already owned", got)
}

func basketStatus(t *testing.T, id int64) string {
	t.Helper()
	var st string
	require.NoError(t, dbtest.Pool(t).QueryRow(context.Background(), "SELECT status FROM baskets WHERE id = $1", id).Scan(&st))
	return st
}
