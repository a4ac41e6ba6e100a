package db_test

import (
	"context"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// note is one order note.
type note struct{ Type, Message string }

func notesOf(t *testing.T, orderID int64) []note {
	t.Helper()
	rows, err := dbtest.Pool(t).Query(context.Background(), "SELECT note_type, message FROM order_notes WHERE order_id = $1 ORDER BY id", orderID)
	require.NoError(t, err)
	defer rows.Close()
	out := []note{}
	for rows.Next() {
		var n note
		require.NoError(t, rows.Scan(&n.Type, &n.Message))
		out = append(out, n)
	}
	require.NoError(t, rows.Err())
	return out
}

func checkoutStatus(t *testing.T, s *db.Store, number string) commerce.CheckoutStatus {
	t.Helper()
	st, err := s.CheckoutStatus(context.Background(), number)
	require.NoError(t, err)
	return st
}

func lineBySKU(t *testing.T, o commerce.Order, sku string) commerce.OrderLine {
	t.Helper()
	for _, l := range o.Lines {
		if l.SKU == sku {
			return l
		}
	}
	t.Fatalf("order %s has no line %s", o.Number, sku)
	return commerce.OrderLine{}
}

func TestFulfillment(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()

	t.Run("LineOutcomesCountAttemptsAndNoteErrors", func(t *testing.T) {
		t.Parallel()
		f, o := placed(t, s, "49.00", "10.55")
		first, second := f.products[0].StockRecord.PartnerSKU, f.products[1].StockRecord.PartnerSKU

		require.NoError(t, s.RecordFulfillmentAttempts(ctx, o.Number, first, commerce.LineServerError, "server error: status 500", 1))
		require.NoError(t, s.RecordFulfillmentAttempts(ctx, o.Number, first, commerce.LineTimeoutError, "timeout error", 1))
		o, err := s.Order(ctx, o.Number)
		require.NoError(t, err)
		l := lineBySKU(t, o, first)
		require.Equal(t, commerce.LineTimeoutError, l.Status)
		require.Equal(t, 2, l.FulfillmentAttempts)
		require.Equal(t, "timeout error", l.FulfillmentError)
		require.Equal(t, commerce.LineOpen, lineBySKU(t, o, second).Status)
		require.Zero(t, lineBySKU(t, o, second).FulfillmentAttempts)
		require.Equal(t, []note{
			{"Error", "Fulfillment of " + first + " failed: server error: status 500"},
			{"Error", "Fulfillment of " + first + " failed: timeout error"},
		}, notesOf(t, o.ID))

		require.NoError(t, s.RecordFulfillmentAttempts(ctx, o.Number, first, commerce.LineComplete, "", 1))
		o, err = s.Order(ctx, o.Number)
		require.NoError(t, err)
		l = lineBySKU(t, o, first)
		require.Equal(t, commerce.LineComplete, l.Status)
		require.Equal(t, 3, l.FulfillmentAttempts)
		require.Empty(t, l.FulfillmentError)
		require.Len(t, notesOf(t, o.ID), 2, "a completed line adds no note")
		require.Equal(t, commerce.OrderOpen, o.Status, "line outcomes alone do not finish the order")

		t.Run("FinishWithAnOpenLineNeedsAttention", func(t *testing.T) {
			o, err := s.FinishFulfillment(ctx, o.Number)
			require.NoError(t, err)
			require.Equal(t, commerce.OrderFulfillmentError, o.Status)
			require.True(t, o.Fulfillable())
			require.Equal(t, commerce.CheckoutNeedsAttention, checkoutStatus(t, s, o.Number))
		})

		t.Run("FinishWithEveryLineCompleteIsComplete", func(t *testing.T) {
			require.NoError(t, s.RecordFulfillmentAttempts(ctx, o.Number, second, commerce.LineComplete, "", 1))
			o, err := s.FinishFulfillment(ctx, o.Number)
			require.NoError(t, err)
			require.Equal(t, commerce.OrderComplete, o.Status)
			require.False(t, o.Fulfillable())
			for _, l := range o.Lines {
				require.Equal(t, commerce.LineComplete, l.Status)
			}
			require.Equal(t, 1, lineBySKU(t, o, second).FulfillmentAttempts)
			require.Equal(t, commerce.CheckoutFulfilled, checkoutStatus(t, s, o.Number))
		})
	})

	t.Run("FinishWithAFailedLineIsFulfillmentError", func(t *testing.T) {
		t.Parallel()
		f, o := placed(t, s, "49.00", "10.55")
		require.NoError(t, s.RecordFulfillmentAttempts(ctx, o.Number, f.products[0].StockRecord.PartnerSKU, commerce.LineComplete, "", 1))
		require.NoError(t, s.RecordFulfillmentAttempts(ctx, o.Number, f.products[1].StockRecord.PartnerSKU, commerce.LineServerError, "client error: status 400", 1))
		o, err := s.FinishFulfillment(ctx, o.Number)
		require.NoError(t, err)
		require.Equal(t, commerce.OrderFulfillmentError, o.Status)
		require.Equal(t, commerce.CheckoutNeedsAttention, checkoutStatus(t, s, o.Number))
	})

	t.Run("MarkOrderFulfilledCompletesEveryLineWithANote", func(t *testing.T) {
		t.Parallel()
		f, o := placed(t, s, "49.00", "10.55")
		failed := f.products[0].StockRecord.PartnerSKU
		require.NoError(t, s.RecordFulfillmentAttempts(ctx, o.Number, failed, commerce.LineServerError, "server error", 1))
		_, err := s.FinishFulfillment(ctx, o.Number)
		require.NoError(t, err)
		require.Equal(t, commerce.CheckoutNeedsAttention, checkoutStatus(t, s, o.Number))

		o, err = s.MarkOrderFulfilled(ctx, o.Number, "Enrolled by hand, ticket 42.")
		require.NoError(t, err)
		require.Equal(t, commerce.OrderComplete, o.Status)
		for _, l := range o.Lines {
			require.Equal(t, commerce.LineComplete, l.Status)
			require.Empty(t, l.FulfillmentError)
		}
		require.Equal(t, 1, lineBySKU(t, o, failed).FulfillmentAttempts, "an operator's word is not an attempt")
		require.Equal(t, commerce.CheckoutFulfilled, checkoutStatus(t, s, o.Number))
		notes := notesOf(t, o.ID)
		require.Len(t, notes, 2)
		require.Equal(t, note{"Info", "Enrolled by hand, ticket 42."}, notes[1])
	})

	t.Run("UnknownOrderIsNotFound", func(t *testing.T) {
		t.Parallel()
		err := s.RecordFulfillmentAttempts(ctx, "EDX-999999999", "ABC1234", commerce.LineComplete, "", 1)
		requireCode(t, err, commerce.ENotFound)
		_, err = s.FinishFulfillment(ctx, "EDX-999999999")
		requireCode(t, err, commerce.ENotFound)
		_, err = s.MarkOrderFulfilled(ctx, "EDX-999999999", "note")
		requireCode(t, err, commerce.ENotFound)
	})

	t.Run("UnknownSKUChangesNoLine", func(t *testing.T) {
		t.Parallel()
		_, o := placed(t, s, "49.00")
		_ = s.RecordFulfillmentAttempts(ctx, o.Number, "NOSUCH1", commerce.LineComplete, "", 1)
		after, err := s.Order(ctx, o.Number)
		require.NoError(t, err)
		require.Equal(t, o.Lines, after.Lines)
	})

	t.Run("CheckoutStatusMirrorsWhatIsSet", func(t *testing.T) {
		t.Parallel()
		f := checkoutOf(t, s, "5.00")
		for _, st := range []commerce.CheckoutStatus{commerce.CheckoutPaymentDeclined, commerce.CheckoutPaymentExpired, commerce.CheckoutAwaitingPayment} {
			require.NoError(t, s.SetCheckoutStatus(ctx, f.checkout.OrderNumber, st))
			require.Equal(t, st, checkoutStatus(t, s, f.checkout.OrderNumber))
		}
		_, err := s.CheckoutStatus(ctx, "EDX-999999999")
		requireCode(t, err, commerce.ENotFound)
	})
}
