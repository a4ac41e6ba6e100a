package db_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// partner is the partner short code every test checks out with.
const partner = "EDX"

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// newUser creates a learner with an email through the store.
func newUser(t *testing.T, s *db.Store) commerce.User {
	t.Helper()
	name := dbtest.Unique("learner-")
	email := name + "@example.com"
	full := "Learner " + name
	u, err := s.UpsertUser(context.Background(), commerce.UserClaims{Username: name, Email: &email, FullName: &full})
	require.NoError(t, err)
	require.NotZero(t, u.ID)
	return u
}

// newSeat publishes a course with one verified seat at price (USD) and returns the seat.
func newSeat(t *testing.T, s *db.Store, price string) commerce.Product {
	t.Helper()
	id := dbtest.Unique("course-v1:edX+Store") + "+2026"
	course, err := s.PublishCourse(context.Background(), partner, commerce.Publication{
		CourseID: id, Name: "Course " + id,
		Seats: []commerce.SeatSpec{{
			CertificateType: "verified", IDVerificationRequired: true,
			Price: decimal.RequireFromString(price), Currency: "USD",
		}},
	}, true)
	require.NoError(t, err)
	require.Len(t, course.Products, 1)
	return course.Products[0]
}

// newSeats publishes one seat per price.
func newSeats(t *testing.T, s *db.Store, prices ...string) []commerce.Product {
	t.Helper()
	out := make([]commerce.Product, len(prices))
	for i, p := range prices {
		out[i] = newSeat(t, s, p)
	}
	return out
}

// builder is a pure payment-data builder that counts its calls.
type builder struct{ calls atomic.Int32 }

func (b *builder) build(c commerce.Checkout) (commerce.PaymentData, error) {
	b.calls.Add(1)
	return commerce.PaymentData{
		Processor:      "cybersource",
		PaymentPageURL: "https://pay.example.com/" + c.OrderNumber,
		FormData: map[string]string{
			"reference_number": c.OrderNumber,
			"amount":           commerce.FormatMoney(c.Total),
			"currency":         c.Currency,
		},
	}, nil
}

// openBasket gives the user an open basket holding products.
func openBasket(t *testing.T, s *db.Store, u commerce.User, products ...commerce.Product) commerce.Basket {
	t.Helper()
	b, err := s.ReplaceOpenBasket(context.Background(), u.ID, commerce.OneOfEach(products...))
	require.NoError(t, err)
	require.Equal(t, commerce.BasketOpen, b.Status)
	require.Len(t, b.Lines, len(products))
	return b
}

// frozen is a checkout in progress: a frozen basket and its snapshot.
type frozen struct {
	user     commerce.User
	basket   commerce.Basket
	checkout commerce.Checkout
	products []commerce.Product
}

// checkoutOf freezes a new user's basket holding one seat per price with cybersource.
func checkoutOf(t *testing.T, s *db.Store, prices ...string) frozen {
	t.Helper()
	u := newUser(t, s)
	products := newSeats(t, s, prices...)
	b := openBasket(t, s, u, products...)
	var bld builder
	c, _, existing, err := s.FreezeBasket(context.Background(), b.ID, u, partner, "cybersource", bld.build)
	require.NoError(t, err)
	require.False(t, existing)
	return frozen{user: u, basket: b, checkout: c, products: products}
}

// paymentFor is an accepted cybersource payment of the checkout's total.
func paymentFor(c commerce.Checkout, txn string) *commerce.Payment {
	return &commerce.Payment{
		Processor: "cybersource", TransactionID: txn, Amount: c.Total, Currency: c.Currency,
		CardType: "visa", Label: "1111",
	}
}

// placed is a checkout whose order has been placed and paid.
func placed(t *testing.T, s *db.Store, prices ...string) (frozen, commerce.Order) {
	t.Helper()
	f := checkoutOf(t, s, prices...)
	o, created, err := s.PlaceOrder(context.Background(), f.checkout, paymentFor(f.checkout, "txn-"+f.checkout.OrderNumber))
	require.NoError(t, err)
	require.True(t, created)
	return f, o
}

// productIDs returns the sorted product ids of basket lines.
func productIDs(lines []commerce.BasketLine) []int64 {
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.Product.ID
	}
	slices.Sort(ids)
	return ids
}

func idsOf(products ...commerce.Product) []int64 {
	ids := make([]int64, len(products))
	for i, p := range products {
		ids[i] = p.ID
	}
	slices.Sort(ids)
	return ids
}

// count runs a counting query on the package's schema.
func count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, dbtest.Pool(t).QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// requireCode checks that err is a domain error with code.
func requireCode(t *testing.T, err error, code commerce.ErrorCode) *commerce.Error {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, commerce.ErrorCodeOf(err), "error: %v", err)
	var e *commerce.Error
	require.ErrorAs(t, err, &e)
	return e
}

// parallel runs fn n times at once, releasing every goroutine together.
func parallel(n int, fn func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			fn(i)
		}()
	}
	start.Done()
	done.Wait()
}

func TestReplaceOpenBasket(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()

	t.Run("CreatesThenReplacesTheOneOpenBasket", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, s)
		p := newSeats(t, s, "49.00", "10.55", "0.00")
		first := openBasket(t, s, u, p[0], p[1])
		require.Equal(t, u.ID, first.OwnerID)
		require.Equal(t, u.Username, first.OwnerUsername)
		require.Equal(t, idsOf(p[0], p[1]), productIDs(first.Lines))
		for _, l := range first.Lines {
			require.Equal(t, 1, l.Quantity)
			require.Equal(t, "USD", l.Currency)
			require.True(t, l.UnitPrice.Equal(l.Product.StockRecord.Price), "%s != %s", l.UnitPrice, l.Product.StockRecord.Price)
		}

		second := openBasket(t, s, u, p[2])
		require.Equal(t, first.ID, second.ID)
		require.Equal(t, idsOf(p[2]), productIDs(second.Lines))
		require.True(t, second.Lines[0].UnitPrice.IsZero())

		emptied := openBasket(t, s, u)
		require.Equal(t, first.ID, emptied.ID)
		require.Empty(t, emptied.Lines)
		require.Equal(t, 1, count(t, "SELECT count(*) FROM baskets WHERE owner_id = $1", u.ID))
	})

	t.Run("KeepsPricesExactly", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, s)
		p := newSeat(t, s, "49.00")
		b := openBasket(t, s, u, p)
		require.True(t, b.Lines[0].UnitPrice.Equal(decimal.RequireFromString("49.00")))
		require.Equal(t, "49.00", commerce.FormatMoney(b.Lines[0].UnitPrice))
	})

	t.Run("OneOpenBasketUnderTwentyConcurrentCalls", func(t *testing.T) {
		t.Parallel()
		u := newUser(t, s)
		p := newSeats(t, s, "1.00", "2.00", "3.00", "4.00", "5.00", "6.00")
		const calls = 20
		// Call i puts its own pair of products in the basket.
		want := make([][]commerce.Product, calls)
		for i := range want {
			want[i] = []commerce.Product{p[i%len(p)], p[(i/len(p)+i+1)%len(p)]}
		}
		ids := make([]int64, calls)
		errs := make([]error, calls)
		parallel(calls, func(i int) {
			b, err := s.ReplaceOpenBasket(ctx, u.ID, commerce.OneOfEach(want[i]...))
			ids[i], errs[i] = b.ID, err
		})
		for i, err := range errs {
			require.NoError(t, err, "call %d", i)
			require.Equal(t, ids[0], ids[i], "call %d got another basket", i)
		}
		require.Equal(t, 1, count(t, "SELECT count(*) FROM baskets WHERE owner_id = $1", u.ID))
		require.Equal(t, 1, count(t, "SELECT count(*) FROM baskets WHERE owner_id = $1 AND status = 'Open'", u.ID))

		final, err := s.Basket(ctx, ids[0])
		require.NoError(t, err)
		got := productIDs(final.Lines)
		matches := false
		for _, w := range want {
			if slices.Equal(idsOf(w...), got) {
				matches = true
			}
		}
		require.True(t, matches, "basket holds %v, which no single call asked for", got)
	})

	t.Run("UnknownOwnerIsAnInvalidReference", func(t *testing.T) {
		t.Parallel()
		_, err := s.ReplaceOpenBasket(ctx, 1<<40, nil)
		requireCode(t, err, commerce.EInvalid)
	})

	t.Run("MissingBasketIsNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.Basket(ctx, 1<<40)
		requireCode(t, err, commerce.ENotFound)
		require.ErrorIs(t, err, commerce.ErrNotFound)
	})
}
