package db_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// completed is a placed, paid order whose fulfillment is Complete.
func completed(t *testing.T, s *db.Store, prices ...string) (frozen, commerce.Order) {
	t.Helper()
	f, o := placed(t, s, prices...)
	o, err := s.MarkOrderFulfilled(context.Background(), o.Number, "fulfilled by the test")
	require.NoError(t, err)
	require.Equal(t, commerce.OrderComplete, o.Status)
	return f, o
}

func money(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func requireMoney(t *testing.T, want string, got decimal.Decimal) {
	t.Helper()
	require.True(t, money(want).Equal(got), "want %s, got %s", want, got)
}

// refundRow is what the database holds of a refund beyond commerce.Refund.
type refundRow struct {
	kind, processorRefundID string
	orderID                 *int64
}

func refundRowOf(t *testing.T, id int64) refundRow {
	t.Helper()
	var r refundRow
	require.NoError(t, dbtest.Pool(t).QueryRow(context.Background(),
		"SELECT kind, processor_refund_id, order_id FROM refunds WHERE id = $1", id).Scan(&r.kind, &r.processorRefundID, &r.orderID))
	return r
}

func amountRefunded(t *testing.T, orderID int64) decimal.Decimal {
	t.Helper()
	var d decimal.Decimal
	require.NoError(t, dbtest.Pool(t).QueryRow(context.Background(),
		"SELECT amount_refunded FROM payment_sources WHERE order_id = $1", orderID).Scan(&d))
	return d
}

// refundedEvent is one Refunded payment event.
type refundedEvent struct {
	Amount               string
	Reference, Processor string
}

func refundedEvents(t *testing.T, orderID int64) []refundedEvent {
	t.Helper()
	rows, err := dbtest.Pool(t).Query(context.Background(),
		"SELECT amount::text, reference, processor_name FROM payment_events WHERE order_id = $1 AND event_type = 'Refunded' ORDER BY id", orderID)
	require.NoError(t, err)
	defer rows.Close()
	out := []refundedEvent{}
	for rows.Next() {
		var e refundedEvent
		require.NoError(t, rows.Scan(&e.Amount, &e.Reference, &e.Processor))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestCreateRefunds(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()

	t.Run("RefundsTheCourseLinesOfCompleteOrders", func(t *testing.T) {
		t.Parallel()
		f, o := completed(t, s, "49.00", "10.55")
		first, second := f.products[0], f.products[1]

		rs, err := s.CreateRefunds(ctx, f.user, first.CourseID, "")
		require.NoError(t, err)
		require.Len(t, rs, 1)
		r := rs[0]
		require.NotZero(t, r.ID)
		require.Equal(t, o.ID, r.OrderID)
		require.Equal(t, o.Number, r.OrderNumber)
		require.Equal(t, f.user.ID, r.UserID)
		require.Equal(t, f.user.Username, r.Username)
		require.Equal(t, f.user.Email, r.Email)
		requireMoney(t, "49.00", r.Total)
		require.Equal(t, "USD", r.Currency)
		require.Equal(t, commerce.RefundOpen, r.Status)
		require.Equal(t, "cybersource", r.Processor)
		require.Equal(t, "txn-"+o.Number, r.Reference)
		require.Empty(t, r.Reason)
		require.False(t, r.CreatedAt.IsZero())
		require.False(t, r.IsPaymentOnly())
		require.Len(t, r.Lines, 1)
		l := r.Lines[0]
		require.Equal(t, lineBySKU(t, o, first.StockRecord.PartnerSKU).ID, l.OrderLineID)
		require.Equal(t, first.StockRecord.PartnerSKU, l.SKU)
		require.Equal(t, first.Title, l.Title)
		require.Equal(t, first.CourseID, l.CourseID)
		require.Equal(t, "verified", l.Mode)
		requireMoney(t, "49.00", l.Credit)
		require.Equal(t, 1, l.Quantity)
		require.Equal(t, commerce.RefundLineOpen, l.Status)
		require.Equal(t, "lines", refundRowOf(t, r.ID).kind)

		again, err := s.CreateRefunds(ctx, f.user, first.CourseID, "")
		require.NoError(t, err)
		require.Empty(t, again, "a line is refunded once")

		other, err := s.CreateRefunds(ctx, f.user, second.CourseID, "")
		require.NoError(t, err)
		require.Len(t, other, 1)
		requireMoney(t, "10.55", other[0].Total)
		require.Equal(t, second.StockRecord.PartnerSKU, other[0].Lines[0].SKU)

		got, err := s.Refund(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, r, got)
	})

	t.Run("OnlyTheOwnersCompleteOrdersAreRefundedByCourse", func(t *testing.T) {
		t.Parallel()
		f, o := placed(t, s, "49.00") // Open: being fulfilled
		rs, err := s.CreateRefunds(ctx, f.user, f.products[0].CourseID, "")
		require.NoError(t, err)
		require.Empty(t, rs)

		_, err = s.MarkOrderFulfilled(ctx, o.Number, "done")
		require.NoError(t, err)
		stranger := newUser(t, s)
		rs, err = s.CreateRefunds(ctx, stranger, f.products[0].CourseID, "")
		require.NoError(t, err)
		require.Empty(t, rs, "another learner's order is never refunded")
		rs, err = s.CreateRefunds(ctx, f.user, "course-v1:edX+Nothing+2026", "")
		require.NoError(t, err)
		require.Empty(t, rs)
		rs, err = s.CreateRefunds(ctx, f.user, f.products[0].CourseID, "")
		require.NoError(t, err)
		require.Len(t, rs, 1)
	})

	t.Run("ByOrderNumberRefundsTheLinesLeftOnceFulfillmentEnded", func(t *testing.T) {
		t.Parallel()
		f, o := placed(t, s, "49.00", "10.55")
		rs, err := s.CreateRefunds(ctx, f.user, "", o.Number)
		require.NoError(t, err)
		require.Empty(t, rs, "an order being fulfilled is not refunded")

		first := f.products[0].StockRecord.PartnerSKU
		require.NoError(t, s.RecordFulfillmentAttempts(ctx, o.Number, first, commerce.LineConfigurationError, "bad mode", 1))
		o, err = s.FinishFulfillment(ctx, o.Number)
		require.NoError(t, err)
		require.Equal(t, commerce.OrderFulfillmentError, o.Status)

		rs, err = s.CreateRefunds(ctx, f.user, f.products[1].CourseID, o.Number)
		require.NoError(t, err)
		require.Len(t, rs, 1, "a course and an order number: that order's lines of that course")
		require.Len(t, rs[0].Lines, 1)
		require.Equal(t, f.products[1].StockRecord.PartnerSKU, rs[0].Lines[0].SKU)

		rs, err = s.CreateRefunds(ctx, f.user, "", o.Number)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Len(t, rs[0].Lines, 1, "only the line not refunded yet")
		require.Equal(t, first, rs[0].Lines[0].SKU)
		requireMoney(t, "49.00", rs[0].Total)

		rs, err = s.CreateRefunds(ctx, f.user, "", o.Number)
		require.NoError(t, err)
		require.Empty(t, rs)
	})

	t.Run("UnknownOrOthersOrderNumberDoesNotExist", func(t *testing.T) {
		t.Parallel()
		_, o := completed(t, s, "49.00")
		stranger := newUser(t, s)
		_, err := s.CreateRefunds(ctx, stranger, "", o.Number)
		require.Equal(t, "Order "+o.Number+" does not exist.", requireCode(t, err, commerce.EInvalid).Message)
		_, err = s.CreateRefunds(ctx, stranger, "", "EDX-999999999")
		require.Equal(t, "Order EDX-999999999 does not exist.", requireCode(t, err, commerce.EInvalid).Message)
		_, err = s.CreateRefunds(ctx, stranger, "", "")
		require.Equal(t, "No course_id specified.", requireCode(t, err, commerce.EInvalid).Message)
		require.Zero(t, count(t, "SELECT count(*) FROM refunds WHERE user_id = $1", stranger.ID))
	})

	t.Run("CreditIsThePricePaidAfterDiscounts", func(t *testing.T) {
		t.Parallel()
		f, o := completed(t, s, "49.00", "10.00")
		// As a 20% voucher leaves the lines: the price before discounts stays, the line price drops.
		_, err := dbtest.Pool(t).Exec(ctx, `UPDATE order_lines SET line_price_excl_tax = line_price_excl_tax * 0.8,
			line_price_incl_tax = line_price_incl_tax * 0.8 WHERE order_id = $1`, o.ID)
		require.NoError(t, err)
		rs, err := s.CreateRefunds(ctx, f.user, "", o.Number)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		requireMoney(t, "47.20", rs[0].Total)
		requireMoney(t, "39.20", rs[0].Lines[0].Credit)
		requireMoney(t, "8.00", rs[0].Lines[1].Credit)
	})

	t.Run("FreeOrderNamesNoPayment", func(t *testing.T) {
		t.Parallel()
		f := checkoutOf(t, s, "0.00")
		o, _, err := s.PlaceOrder(ctx, f.checkout, nil)
		require.NoError(t, err)
		_, err = s.MarkOrderFulfilled(ctx, o.Number, "free")
		require.NoError(t, err)
		rs, err := s.CreateRefunds(ctx, f.user, f.products[0].CourseID, "")
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.True(t, rs[0].Total.IsZero())
		require.Empty(t, rs[0].Processor)
		require.Empty(t, rs[0].Reference)
	})

	t.Run("DeniedLinesCanBeRefundedAgain", func(t *testing.T) {
		t.Parallel()
		f, _ := completed(t, s, "49.00")
		rs, err := s.CreateRefunds(ctx, f.user, f.products[0].CourseID, "")
		require.NoError(t, err)
		require.Len(t, rs, 1)
		denied, err := s.SetRefundStatus(ctx, rs[0].ID, commerce.RefundDenied)
		require.NoError(t, err)
		require.Equal(t, commerce.RefundLineDenied, denied.Lines[0].Status)

		again, err := s.CreateRefunds(ctx, f.user, f.products[0].CourseID, "")
		require.NoError(t, err)
		require.Len(t, again, 1)
		require.NotEqual(t, rs[0].ID, again[0].ID)
		require.Equal(t, rs[0].Lines[0].OrderLineID, again[0].Lines[0].OrderLineID)
	})

	t.Run("ConcurrentCreationsRefundEachLineOnce", func(t *testing.T) {
		t.Parallel()
		f, o := completed(t, s, "49.00", "10.55")
		var created atomic.Int32
		errs := make([]error, 8)
		parallel(8, func(i int) {
			course, number := f.products[0].CourseID, ""
			if i%2 == 1 {
				course, number = "", o.Number
			}
			rs, err := s.CreateRefunds(ctx, f.user, course, number)
			errs[i] = err
			created.Add(int32(len(rs)))
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, 2, count(t, "SELECT count(*) FROM refund_lines rl JOIN order_lines ol ON ol.id = rl.order_line_id WHERE ol.order_id = $1", o.ID))
		require.Equal(t, 2, count(t, "SELECT count(DISTINCT order_line_id) FROM refund_lines rl JOIN order_lines ol ON ol.id = rl.order_line_id WHERE ol.order_id = $1", o.ID))
		require.Equal(t, int(created.Load()), count(t, "SELECT count(*) FROM refunds WHERE order_id = $1", o.ID))
		var credited decimal.Decimal
		require.NoError(t, dbtest.Pool(t).QueryRow(ctx, "SELECT sum(total_credit_excl_tax) FROM refunds WHERE order_id = $1", o.ID).Scan(&credited))
		requireMoney(t, "59.55", credited)
	})

	t.Run("ARefundedSeatCanBeBoughtAgain", func(t *testing.T) {
		t.Parallel()
		f, _ := completed(t, s, "49.00")
		seat := f.products[0]
		owned := func() bool {
			got, err := s.PurchasedProducts(ctx, f.user.ID, []int64{seat.ID})
			require.NoError(t, err)
			return got[seat.ID]
		}
		rs, err := s.CreateRefunds(ctx, f.user, seat.CourseID, "")
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.True(t, owned(), "an Open refund does not give the seat back yet")
		b := openBasket(t, s, f.user, seat)
		var bld builder
		_, _, _, err = s.FreezeBasket(ctx, b.ID, f.user, partner, "cybersource", bld.build)
		requireCode(t, err, commerce.EInvalid)

		_, err = s.SetRefundStatus(ctx, rs[0].ID, commerce.RefundPaymentRefunded)
		require.NoError(t, err)
		require.NoError(t, s.SetRefundLineStatus(ctx, rs[0].ID, rs[0].Lines[0].ID, commerce.RefundLineComplete))
		_, err = s.SetRefundStatus(ctx, rs[0].ID, commerce.RefundComplete)
		require.NoError(t, err)
		require.False(t, owned())
		_, _, existing, err := s.FreezeBasket(ctx, b.ID, f.user, partner, "cybersource", bld.build)
		require.NoError(t, err)
		require.False(t, existing)
	})
}

func TestCreatePaymentRefund(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()

	t.Run("OncePerPaymentWithTheOrderWhenItExists", func(t *testing.T) {
		t.Parallel()
		f, o := completed(t, s, "49.00")
		in := commerce.Refund{
			OrderNumber: o.Number, UserID: f.user.ID, Total: money("49.00"), Currency: "USD",
			Processor: "cybersource", Reference: dbtest.Unique("second-"), Reason: "Excessive payment for " + o.Number,
		}
		r, created, err := s.CreatePaymentRefund(ctx, in)
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, o.ID, r.OrderID)
		require.Equal(t, o.Number, r.OrderNumber)
		require.Equal(t, f.user.Username, r.Username)
		requireMoney(t, "49.00", r.Total)
		require.Equal(t, in.Processor, r.Processor)
		require.Equal(t, in.Reference, r.Reference)
		require.Equal(t, in.Reason, r.Reason)
		require.Equal(t, commerce.RefundOpen, r.Status)
		require.Empty(t, r.Lines)
		require.True(t, r.IsPaymentOnly())
		require.Equal(t, "payment", refundRowOf(t, r.ID).kind)

		in.Reason, in.Total = "flagged again", money("1.00")
		again, created, err := s.CreatePaymentRefund(ctx, in)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, r, again, "the existing refund, unchanged")
	})

	t.Run("WithoutAnOrder", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, s)
		r, created, err := s.CreatePaymentRefund(ctx, commerce.Refund{
			OrderNumber: "EDX-987654321", UserID: u.ID, Total: money("10.00"), Currency: "USD",
			Processor: "paypal", Reference: dbtest.Unique("capture-"), Reason: "Seat already owned",
		})
		require.NoError(t, err)
		require.True(t, created)
		require.Zero(t, r.OrderID)
		require.Nil(t, refundRowOf(t, r.ID).orderID)
		require.Equal(t, "EDX-987654321", r.OrderNumber)
	})

	t.Run("ConcurrentCallsCreateOne", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, s)
		ref := dbtest.Unique("race-")
		var created atomic.Int32
		ids := make([]int64, 6)
		parallel(6, func(i int) {
			r, c, err := s.CreatePaymentRefund(ctx, commerce.Refund{UserID: u.ID, Total: money("5.00"), Currency: "USD", Processor: "stripe", Reference: ref})
			if err == nil {
				ids[i] = r.ID
			}
			if c {
				created.Add(1)
			}
		})
		require.Equal(t, int32(1), created.Load())
		for _, id := range ids {
			require.Equal(t, ids[0], id)
		}
		require.Equal(t, 1, count(t, "SELECT count(*) FROM refunds WHERE reference = $1", ref))
	})

	t.Run("RefusesIncompleteInput", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, s)
		good := commerce.Refund{UserID: u.ID, Total: money("5.00"), Currency: "USD", Processor: "stripe", Reference: dbtest.Unique("bad-")}
		for name, mutate := range map[string]func(r *commerce.Refund){
			"NoProcessor": func(r *commerce.Refund) { r.Processor = "" },
			"NoReference": func(r *commerce.Refund) { r.Reference = "" },
			"NoUser":      func(r *commerce.Refund) { r.UserID = 0 },
			"NoCurrency":  func(r *commerce.Refund) { r.Currency = "" },
			"Negative":    func(r *commerce.Refund) { r.Total = money("-1.00") },
		} {
			r := good
			mutate(&r)
			_, _, err := s.CreatePaymentRefund(ctx, r)
			requireCode(t, err, commerce.EInvalid)
			require.Zero(t, count(t, "SELECT count(*) FROM refunds WHERE user_id = $1", u.ID), name)
		}
	})
}

func TestRefundStatuses(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()

	// refundOf creates the refund of a new Complete order of two lines.
	refundOf := func(t *testing.T) commerce.Refund {
		t.Helper()
		f, o := completed(t, s, "49.00", "10.55")
		rs, err := s.CreateRefunds(ctx, f.user, "", o.Number)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Len(t, rs[0].Lines, 2)
		return rs[0]
	}

	t.Run("UnknownRefundIsNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.Refund(ctx, 1<<60)
		requireCode(t, err, commerce.ENotFound)
		_, err = s.SetRefundStatus(ctx, 1<<60, commerce.RefundDenied)
		requireCode(t, err, commerce.ENotFound)
		requireCode(t, s.RecordRefundCredit(ctx, 1<<60, "x"), commerce.ENotFound)
		r := refundOf(t)
		requireCode(t, s.SetRefundLineStatus(ctx, r.ID, 1<<60, commerce.RefundLineComplete), commerce.ENotFound)
		requireCode(t, s.SetRefundLineStatus(ctx, r.ID+1<<40, r.Lines[0].ID, commerce.RefundLineComplete), commerce.ENotFound)
	})

	t.Run("FollowsEdXTransitions", func(t *testing.T) {
		t.Parallel()
		r := refundOf(t)
		got, err := s.SetRefundStatus(ctx, r.ID, commerce.RefundPaymentRefundError)
		require.NoError(t, err)
		require.Equal(t, commerce.RefundPaymentRefundError, got.Status)
		got, err = s.SetRefundStatus(ctx, r.ID, commerce.RefundPaymentRefunded)
		require.NoError(t, err)
		require.Equal(t, commerce.RefundPaymentRefunded, got.Status)

		for _, refused := range []commerce.RefundStatus{commerce.RefundOpen, commerce.RefundDenied, commerce.RefundPaymentRefundError, "Bogus"} {
			_, err = s.SetRefundStatus(ctx, r.ID, refused)
			e := requireCode(t, err, commerce.EConflict)
			require.Contains(t, e.Message, "Payment Refunded")
		}
		got, err = s.Refund(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, commerce.RefundPaymentRefunded, got.Status, "a refused move writes nothing")

		got, err = s.SetRefundStatus(ctx, r.ID, commerce.RefundPaymentRefunded)
		require.NoError(t, err, "staying is a no-op")
		same, err := s.SetRefundStatus(ctx, r.ID, commerce.RefundPaymentRefunded)
		require.NoError(t, err)
		require.Equal(t, got.UpdatedAt, same.UpdatedAt, "nothing written")

		got, err = s.SetRefundStatus(ctx, r.ID, commerce.RefundRevocationError)
		require.NoError(t, err)
		got, err = s.SetRefundStatus(ctx, r.ID, commerce.RefundComplete)
		require.NoError(t, err)
		require.Equal(t, commerce.RefundComplete, got.Status)
		_, err = s.SetRefundStatus(ctx, r.ID, commerce.RefundComplete)
		require.NoError(t, err, "Complete stays Complete")
		_, err = s.SetRefundStatus(ctx, r.ID, commerce.RefundRevocationError)
		requireCode(t, err, commerce.EConflict)
	})

	t.Run("DenyingDeniesTheOpenLines", func(t *testing.T) {
		t.Parallel()
		r := refundOf(t)
		require.NoError(t, s.SetRefundLineStatus(ctx, r.ID, r.Lines[0].ID, commerce.RefundLineComplete))
		got, err := s.SetRefundStatus(ctx, r.ID, commerce.RefundDenied)
		require.NoError(t, err)
		require.Equal(t, commerce.RefundDenied, got.Status)
		require.Equal(t, commerce.RefundLineComplete, got.Lines[0].Status)
		require.Equal(t, commerce.RefundLineDenied, got.Lines[1].Status)
		_, err = s.SetRefundStatus(ctx, r.ID, commerce.RefundPaymentRefunded)
		requireCode(t, err, commerce.EConflict)
	})

	t.Run("LinesFollowEdXTransitions", func(t *testing.T) {
		t.Parallel()
		r := refundOf(t)
		a, b := r.Lines[0].ID, r.Lines[1].ID
		require.NoError(t, s.SetRefundLineStatus(ctx, r.ID, a, commerce.RefundLineRevocationError))
		require.NoError(t, s.SetRefundLineStatus(ctx, r.ID, a, commerce.RefundLineRevocationError))
		requireCode(t, s.SetRefundLineStatus(ctx, r.ID, a, commerce.RefundLineOpen), commerce.EConflict)
		require.NoError(t, s.SetRefundLineStatus(ctx, r.ID, a, commerce.RefundLineComplete))
		require.NoError(t, s.SetRefundLineStatus(ctx, r.ID, a, commerce.RefundLineComplete), "staying is a no-op")
		requireCode(t, s.SetRefundLineStatus(ctx, r.ID, a, commerce.RefundLineDenied), commerce.EConflict)
		require.NoError(t, s.SetRefundLineStatus(ctx, r.ID, b, commerce.RefundLineDenied))
		requireCode(t, s.SetRefundLineStatus(ctx, r.ID, b, commerce.RefundLineComplete), commerce.EConflict)
		got, err := s.Refund(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, commerce.RefundLineComplete, got.Lines[0].Status)
		require.Equal(t, commerce.RefundLineDenied, got.Lines[1].Status)
	})
}

func TestRecordRefundCredit(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()

	t.Run("RefundsThePaymentSourceOnce", func(t *testing.T) {
		t.Parallel()
		f, o := completed(t, s, "49.00", "10.55")
		rs, err := s.CreateRefunds(ctx, f.user, f.products[0].CourseID, "")
		require.NoError(t, err)
		r := rs[0]
		require.NoError(t, s.RecordRefundCredit(ctx, r.ID, "rf-1"))
		require.Equal(t, "rf-1", refundRowOf(t, r.ID).processorRefundID)
		requireMoney(t, "49.00", amountRefunded(t, o.ID))
		require.Equal(t, []refundedEvent{{"49.00", "rf-1", "cybersource"}}, refundedEvents(t, o.ID))

		require.NoError(t, s.RecordRefundCredit(ctx, r.ID, "rf-2"), "a second call is a no-op")
		require.Equal(t, "rf-1", refundRowOf(t, r.ID).processorRefundID)
		requireMoney(t, "49.00", amountRefunded(t, o.ID))
		require.Len(t, refundedEvents(t, o.ID), 1)

		order, err := s.Order(ctx, o.Number)
		require.NoError(t, err)
		requireMoney(t, "49.00", order.Payment.AmountRefunded)
	})

	t.Run("ConcurrentCallsCreditOnce", func(t *testing.T) {
		t.Parallel()
		f, o := completed(t, s, "49.00")
		rs, err := s.CreateRefunds(ctx, f.user, "", o.Number)
		require.NoError(t, err)
		errs := make([]error, 6)
		parallel(6, func(i int) { errs[i] = s.RecordRefundCredit(ctx, rs[0].ID, fmt.Sprintf("rf-%d", i)) })
		for _, err := range errs {
			require.NoError(t, err)
		}
		requireMoney(t, "49.00", amountRefunded(t, o.ID))
		require.Len(t, refundedEvents(t, o.ID), 1)
	})

	t.Run("WithoutAProcessorIDTheRefundNamesItself", func(t *testing.T) {
		t.Parallel()
		f, o := completed(t, s, "49.00")
		rs, err := s.CreateRefunds(ctx, f.user, "", o.Number)
		require.NoError(t, err)
		require.NoError(t, s.RecordRefundCredit(ctx, rs[0].ID, ""))
		ref := fmt.Sprintf("refund-%d", rs[0].ID)
		require.Equal(t, ref, refundRowOf(t, rs[0].ID).processorRefundID)
		require.Equal(t, []refundedEvent{{"49.00", ref, "cybersource"}}, refundedEvents(t, o.ID))
		require.NoError(t, s.RecordRefundCredit(ctx, rs[0].ID, "late-id"))
		require.Len(t, refundedEvents(t, o.ID), 1)
	})

	t.Run("AnotherPaymentOfTheOrderLeavesItsSourceAlone", func(t *testing.T) {
		t.Parallel()
		f, o := completed(t, s, "49.00")
		r, _, err := s.CreatePaymentRefund(ctx, commerce.Refund{
			OrderNumber: o.Number, UserID: f.user.ID, Total: money("49.00"), Currency: "USD",
			Processor: "cybersource", Reference: dbtest.Unique("excess-"), Reason: "Excessive payment",
		})
		require.NoError(t, err)
		require.NoError(t, s.RecordRefundCredit(ctx, r.ID, "rf-excess"))
		require.Equal(t, "rf-excess", refundRowOf(t, r.ID).processorRefundID)
		require.True(t, amountRefunded(t, o.ID).IsZero())
		require.Empty(t, refundedEvents(t, o.ID))
	})

	t.Run("FreeOrderHasNothingToCredit", func(t *testing.T) {
		t.Parallel()
		f := checkoutOf(t, s, "0.00")
		o, _, err := s.PlaceOrder(ctx, f.checkout, nil)
		require.NoError(t, err)
		_, err = s.MarkOrderFulfilled(ctx, o.Number, "free")
		require.NoError(t, err)
		rs, err := s.CreateRefunds(ctx, f.user, "", o.Number)
		require.NoError(t, err)
		require.NoError(t, s.RecordRefundCredit(ctx, rs[0].ID, ""))
		require.Empty(t, refundedEvents(t, o.ID))
		require.Zero(t, count(t, "SELECT count(*) FROM payment_sources WHERE order_id = $1", o.ID))
	})
}

func TestStuckCheckouts(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	pool := dbtest.Pool(t)

	// age sets when a checkout's status last changed; the ages are older than any other test's
	// checkouts, so these come first in the list.
	age := func(t *testing.T, number, status string, at time.Time) {
		t.Helper()
		_, err := pool.Exec(ctx, "UPDATE checkouts SET status = $2, updated_at = $3 WHERE order_number = $1", number, status, at)
		require.NoError(t, err)
	}
	epoch := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	awaiting := checkoutOf(t, s, "49.00")
	age(t, awaiting.checkout.OrderNumber, "AwaitingPayment", epoch.Add(2*time.Hour))
	paid := checkoutOf(t, s, "10.55")
	age(t, paid.checkout.OrderNumber, "Paid", epoch)
	fulfilling := checkoutOf(t, s, "20.00")
	age(t, fulfilling.checkout.OrderNumber, "Fulfilling", epoch.Add(time.Hour))
	done := checkoutOf(t, s, "30.00")
	age(t, done.checkout.OrderNumber, "Fulfilled", epoch)
	expired := checkoutOf(t, s, "30.00")
	age(t, expired.checkout.OrderNumber, "PaymentExpired", epoch)
	fresh := checkoutOf(t, s, "40.00")
	flagged := checkoutOf(t, s, "50.00")
	require.NoError(t, s.FlagForOps(ctx, flagged.checkout.OrderNumber, "Excessive payment T-2", false))

	list := func(t *testing.T, olderThan time.Duration) ([]commerce.StuckCheckout, int64) {
		t.Helper()
		got, n, err := s.StuckCheckouts(ctx, olderThan, commerce.Page{Limit: 1000})
		require.NoError(t, err)
		return got, n
	}
	numbers := func(cs []commerce.StuckCheckout) map[string]commerce.StuckCheckout {
		out := map[string]commerce.StuckCheckout{}
		for _, c := range cs {
			out[c.OrderNumber] = c
		}
		return out
	}

	t.Run("InFlightTooLongOrNeedingAttention", func(t *testing.T) {
		got, n := list(t, 15*time.Minute)
		require.GreaterOrEqual(t, n, int64(4))
		require.GreaterOrEqual(t, len(got), 4)
		require.Equal(t, []string{paid.checkout.OrderNumber, fulfilling.checkout.OrderNumber, awaiting.checkout.OrderNumber},
			[]string{got[0].OrderNumber, got[1].OrderNumber, got[2].OrderNumber}, "oldest first")
		byNumber := numbers(got)
		for _, absent := range []frozen{done, expired, fresh} {
			require.NotContains(t, byNumber, absent.checkout.OrderNumber)
		}
		c := byNumber[flagged.checkout.OrderNumber]
		require.Equal(t, commerce.CheckoutNeedsAttention, c.Status)
		require.Equal(t, "Excessive payment T-2", c.Reason)
		require.Equal(t, flagged.user.Username, c.Username)

		p := got[0]
		require.Equal(t, commerce.CheckoutPaid, p.Status)
		require.Equal(t, paid.user.Username, p.Username)
		requireMoney(t, "10.55", p.Total)
		require.Equal(t, "USD", p.Currency)
		require.Equal(t, "cybersource", p.Processor)
		require.Empty(t, p.Reason)
		require.True(t, epoch.Equal(p.UpdatedAt), "%s", p.UpdatedAt)
	})

	t.Run("AgeIsMeasuredFromTheLastChange", func(t *testing.T) {
		got, _ := list(t, time.Since(epoch)-90*time.Minute)
		byNumber := numbers(got)
		require.Contains(t, byNumber, paid.checkout.OrderNumber)
		require.Contains(t, byNumber, fulfilling.checkout.OrderNumber)
		require.NotContains(t, byNumber, awaiting.checkout.OrderNumber)
		require.Contains(t, byNumber, flagged.checkout.OrderNumber, "attention is needed whatever the age")

		got, _ = list(t, time.Since(epoch)+time.Hour)
		require.NotContains(t, numbers(got), paid.checkout.OrderNumber)
		require.Contains(t, numbers(got), flagged.checkout.OrderNumber)
	})

	t.Run("Pages", func(t *testing.T) {
		first, n, err := s.StuckCheckouts(ctx, 15*time.Minute, commerce.Page{Limit: 1})
		require.NoError(t, err)
		require.Len(t, first, 1)
		require.GreaterOrEqual(t, n, int64(4))
		second, _, err := s.StuckCheckouts(ctx, 15*time.Minute, commerce.Page{Limit: 1, Offset: 1})
		require.NoError(t, err)
		require.Equal(t, paid.checkout.OrderNumber, first[0].OrderNumber)
		require.Equal(t, fulfilling.checkout.OrderNumber, second[0].OrderNumber)
	})
}

func TestRefundStoreUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), goneURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := db.NewStore(pool)
	u := commerce.User{ID: 1, Username: "gone"}
	calls := map[string]func(ctx context.Context) error{
		"CreateRefunds": func(ctx context.Context) error {
			_, err := s.CreateRefunds(ctx, u, "course-v1:edX+Gone+2026", "")
			return err
		},
		"CreatePaymentRefund": func(ctx context.Context) error {
			_, _, err := s.CreatePaymentRefund(ctx, commerce.Refund{UserID: 1, Total: money("1.00"), Currency: "USD", Processor: "p", Reference: "r"})
			return err
		},
		"Refund": func(ctx context.Context) error { _, err := s.Refund(ctx, 1); return err },
		"SetRefundStatus": func(ctx context.Context) error {
			_, err := s.SetRefundStatus(ctx, 1, commerce.RefundDenied)
			return err
		},
		"SetRefundLineStatus": func(ctx context.Context) error { return s.SetRefundLineStatus(ctx, 1, 1, commerce.RefundLineComplete) },
		"RecordRefundCredit":  func(ctx context.Context) error { return s.RecordRefundCredit(ctx, 1, "x") },
		"StuckCheckouts": func(ctx context.Context) error {
			_, _, err := s.StuckCheckouts(ctx, time.Minute, commerce.Page{Limit: 1})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			requireCode(t, call(ctx), commerce.EUnavailable)
		})
	}
}
