package activities_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/smtp"
	"os"
	"sync"
	"testing"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/lms"
	lmssim "github.com/coursecommerce/commerce/simulators/lms"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

const (
	partner = "EDX"
	lmsKey  = "lms-test-key"
	// dep is the deployment identity the tests' activities and inputs share.
	dep = "0b7c9a8e-1111-4222-8333-444455556666"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// env runs activities the way a worker does, so activity.GetInfo works.
func env(a *activities.Activities) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(discard))
	e := suite.NewTestActivityEnvironment()
	e.RegisterActivity(a)
	return e
}

// lmsServer serves a fresh LMS simulator and returns it with a real client for it.
func lmsServer(t *testing.T) (*lmssim.Simulator, *lms.Client) {
	t.Helper()
	sim := lmssim.New(lmsKey)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return sim, lms.NewClient(ts.URL, lmsKey)
}

// fakeEnroller is an Enroller whose answer a test chooses.
type fakeEnroller struct {
	EnrollFunc func(ctx context.Context, e lms.Enrollment) error
}

func (f fakeEnroller) Enroll(ctx context.Context, e lms.Enrollment) error {
	return f.EnrollFunc(ctx, e)
}

func (f fakeEnroller) Unenroll(context.Context, string, string, string) error {
	return errors.New("fakeEnroller: unenroll not expected")
}

// order is a paid order of verified seats, placed through the store, and its checkout.
type order struct {
	user     commerce.User
	checkout commerce.Checkout
	payment  *commerce.Payment
	order    commerce.Order
}

// checkout freezes a new learner's basket holding one verified seat per price.
func checkout(t *testing.T, s *db.Store, prices ...string) (commerce.User, commerce.Checkout) {
	t.Helper()
	ctx := context.Background()
	name := dbtest.Unique("learner-")
	email := name + "@example.com"
	u, err := s.UpsertUser(ctx, commerce.UserClaims{Username: name, Email: &email})
	require.NoError(t, err)
	products := make([]commerce.Product, len(prices))
	for i, price := range prices {
		id := dbtest.Unique("course-v1:edX+Act") + "+2026"
		course, err := s.PublishCourse(ctx, partner, commerce.Publication{
			CourseID: id, Name: "Course " + id,
			Seats: []commerce.SeatSpec{{CertificateType: "verified", IDVerificationRequired: true, Price: decimal.RequireFromString(price), Currency: "USD"}},
		}, true)
		require.NoError(t, err)
		products[i] = course.Products[0]
	}
	b, err := s.ReplaceOpenBasket(ctx, u.ID, commerce.OneOfEach(products...))
	require.NoError(t, err)
	c, _, _, err := s.FreezeBasket(ctx, b.ID, u, partner, "cybersource", func(c commerce.Checkout) (commerce.PaymentData, error) {
		return commerce.PaymentData{Processor: "cybersource", PaymentPageURL: "https://pay.example.com/", FormData: map[string]string{"reference_number": c.OrderNumber}}, nil
	})
	require.NoError(t, err)
	return u, c
}

// placedOrder places the paid order of a new checkout through the store.
func placedOrder(t *testing.T, s *db.Store, prices ...string) order {
	t.Helper()
	u, c := checkout(t, s, prices...)
	pay := &commerce.Payment{Processor: "cybersource", TransactionID: "txn-" + c.OrderNumber, Amount: c.Total, Currency: c.Currency, CardType: "visa", Label: "1111"}
	o, created, err := s.PlaceOrder(context.Background(), c, pay)
	require.NoError(t, err)
	require.True(t, created)
	return order{user: u, checkout: c, payment: pay, order: o}
}

// enrollInput is what the workflow passes to Enroll for line i.
func (o order) enrollInput(i int) activities.EnrollInput {
	l := o.checkout.Lines[i]
	return activities.EnrollInput{Deployment: dep,
		OrderNumber: o.checkout.OrderNumber, SKU: l.SKU, Username: o.checkout.Username, CourseID: l.CourseID,
		Mode: l.Mode, CreditProvider: l.CreditProvider, DatePlaced: o.order.DatePlaced,
	}
}

func line(t *testing.T, s *db.Store, number, sku string) commerce.OrderLine {
	t.Helper()
	o, err := s.Order(context.Background(), number)
	require.NoError(t, err)
	for _, l := range o.Lines {
		if l.SKU == sku {
			return l
		}
	}
	t.Fatalf("order %s has no line %s", number, sku)
	return commerce.OrderLine{}
}

// applicationError extracts the ApplicationError an activity failed with.
func applicationError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	return appErr
}

func TestPlaceOrderActivity(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()

	t.Run("IsIdempotent", func(t *testing.T) {
		t.Parallel()
		_, c := checkout(t, s, "49.00", "10.55")
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard}
		in := activities.PlaceOrderInput{Deployment: dep, Checkout: c, Payment: &commerce.Payment{
			Processor: "cybersource", TransactionID: "txn-1", Amount: c.Total, Currency: "USD", CardType: "visa", Label: "1111",
		}}
		var orders [2]commerce.Order
		for i := range orders {
			val, err := env(a).ExecuteActivity(a.PlaceOrder, in)
			require.NoError(t, err, "call %d", i)
			require.NoError(t, val.Get(&orders[i]))
		}
		require.Equal(t, orders[0].ID, orders[1].ID)
		require.Equal(t, c.OrderNumber, orders[0].Number)
		require.True(t, orders[1].TotalInclTax.Equal(decimal.RequireFromString("59.55")), "total %s", orders[1].TotalInclTax)
		require.Len(t, orders[1].Lines, 2)
		require.NotNil(t, orders[1].Payment)
		require.True(t, orders[1].Payment.AmountDebited.Equal(decimal.RequireFromString("59.55")))

		n, err := s.CountPaidEvents(ctx, c.OrderNumber)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		st, err := s.CheckoutStatus(ctx, c.OrderNumber)
		require.NoError(t, err)
		require.Equal(t, commerce.CheckoutPaid, st)
	})

	t.Run("FreeOrderHasNoPayment", func(t *testing.T) {
		t.Parallel()
		_, c := checkout(t, s, "0.00")
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard}
		val, err := env(a).ExecuteActivity(a.PlaceOrder, activities.PlaceOrderInput{Deployment: dep, Checkout: c})
		require.NoError(t, err)
		var o commerce.Order
		require.NoError(t, val.Get(&o))
		require.Nil(t, o.Payment)
		require.Equal(t, "free", o.PaymentProcessor)
	})
}

// Work carrying another deployment's identity (two deployments on one namespace) is refused
// before it touches the database or the LMS, and never retried.
func TestActivitiesRefuseAnotherDeploymentsWork(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	sim, client := lmsServer(t)
	_, c := checkout(t, s, "49.00")
	a := &activities.Activities{Deployment: dep, Store: s, LMS: client, Logger: discard}
	const other = "99999999-0000-4000-8000-000000000000"
	calls := map[string]func() error{
		"LoadOrder": func() error {
			_, err := env(a).ExecuteActivity(a.LoadOrder, activities.OrderRef{OrderNumber: c.OrderNumber, Deployment: other})
			return err
		},
		"PlaceOrder": func() error {
			_, err := env(a).ExecuteActivity(a.PlaceOrder, activities.PlaceOrderInput{Deployment: other, Checkout: c,
				Payment: &commerce.Payment{Processor: "cybersource", TransactionID: "x", Amount: c.Total, Currency: "USD"}})
			return err
		},
		"Enroll": func() error {
			_, err := env(a).ExecuteActivity(a.Enroll, activities.EnrollInput{Deployment: other, OrderNumber: c.OrderNumber,
				SKU: c.Lines[0].SKU, Username: c.Username, CourseID: c.Lines[0].CourseID, Mode: "verified"})
			return err
		},
		"ReopenBasket": func() error {
			_, err := env(a).ExecuteActivity(a.ReopenBasket, activities.ReopenInput{Deployment: other, OrderNumber: c.OrderNumber, BasketID: c.BasketID, Status: commerce.CheckoutPaymentExpired})
			return err
		},
		"FlagForOps": func() error {
			_, err := env(a).ExecuteActivity(a.FlagForOps, activities.FlagInput{Deployment: other, OrderNumber: c.OrderNumber, Reason: "x", Note: true})
			return err
		},
		"MarkOrderFulfilled": func() error {
			_, err := env(a).ExecuteActivity(a.MarkOrderFulfilled, activities.MarkFulfilledInput{Deployment: other, OrderNumber: c.OrderNumber})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr, name)
		require.Equal(t, activities.ErrTypeWrongDeployment, appErr.Type(), name)
		require.True(t, appErr.NonRetryable(), name)
	}
	n, err := s.CountPaidEvents(ctx, c.OrderNumber)
	require.NoError(t, err)
	require.Zero(t, n)
	st, err := s.CheckoutStatus(ctx, c.OrderNumber)
	require.NoError(t, err)
	require.Equal(t, commerce.CheckoutAwaitingPayment, st, "nothing written")
	require.Zero(t, sim.Calls(), "the LMS was not called")
}

// A checkout started before deployment identities existed (no identity in its input) still
// completes after the upgrade.
func TestActivitiesAcceptWorkStartedBeforeIdentities(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	_, c := checkout(t, s, "12.00")
	a := &activities.Activities{Deployment: dep, Store: s, Logger: discard}
	val, err := env(a).ExecuteActivity(a.PlaceOrder, activities.PlaceOrderInput{Checkout: c,
		Payment: &commerce.Payment{Processor: "cybersource", TransactionID: "legacy", Amount: c.Total, Currency: "USD"}})
	require.NoError(t, err)
	var o commerce.Order
	require.NoError(t, val.Get(&o))
	require.Equal(t, c.OrderNumber, o.Number)
}

// A second order for a seat the learner owns is refused, permanently, so the workflow asks ops.
func TestPlaceOrderRefusesASeatAlreadyOwned(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	u, c := checkout(t, s, "75.00")
	a := &activities.Activities{Deployment: dep, Store: s, Logger: discard}
	// The same learner checks out the same seat again from another basket, and pays it first.
	seat, err := s.StockRecordBySKU(ctx, c.Lines[0].SKU)
	require.NoError(t, err)
	b, err := s.ReplaceOpenBasket(ctx, u.ID, []commerce.BasketItem{{Product: seat, Quantity: 1}})
	require.NoError(t, err)
	bld := func(commerce.Checkout) (commerce.PaymentData, error) {
		return commerce.PaymentData{Processor: "cybersource"}, nil
	}
	c2, _, _, err := s.FreezeBasket(ctx, b.ID, u, partner, "cybersource", bld)
	require.NoError(t, err)
	_, err = env(a).ExecuteActivity(a.PlaceOrder, activities.PlaceOrderInput{Deployment: dep, Checkout: c2,
		Payment: &commerce.Payment{Processor: "cybersource", TransactionID: "first", Amount: c2.Total, Currency: "USD"}})
	require.NoError(t, err)

	_, err = env(a).ExecuteActivity(a.PlaceOrder, activities.PlaceOrderInput{Deployment: dep, Checkout: c,
		Payment: &commerce.Payment{Processor: "cybersource", TransactionID: "second", Amount: c.Total, Currency: "USD"}})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, activities.ErrTypeAlreadyOwned, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Contains(t, appErr.Error(), c2.OrderNumber)
	n, err := s.CountPaidEvents(ctx, c.OrderNumber)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestEnroll(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)

	t.Run("SuccessMarksTheLineComplete", func(t *testing.T) {
		t.Parallel()
		sim, client := lmsServer(t)
		o := placedOrder(t, s, "49.00")
		a := &activities.Activities{Deployment: dep, Store: s, LMS: client, Logger: discard}
		in := o.enrollInput(0)

		val, err := env(a).ExecuteActivity(a.Enroll, in)
		require.NoError(t, err)
		var res activities.EnrollResult
		require.NoError(t, val.Get(&res))
		require.Equal(t, 1, res.Attempts)

		l := line(t, s, in.OrderNumber, in.SKU)
		require.Equal(t, commerce.LineComplete, l.Status)
		require.Equal(t, 1, l.FulfillmentAttempts)
		require.Empty(t, l.FulfillmentError)

		e, ok := sim.Enrollment(o.user.Username, in.CourseID)
		require.True(t, ok)
		require.True(t, e.IsActive)
		require.Equal(t, "verified", e.Mode)
		number, ok := e.Attribute("order", "order_number")
		require.True(t, ok)
		require.Equal(t, in.OrderNumber, number)
		require.Equal(t, 1, sim.Successes(o.user.Username, in.CourseID))
	})

	t.Run("LMSServerErrorIsRetryableAndRecorded", func(t *testing.T) {
		t.Parallel()
		sim, client := lmsServer(t)
		o := placedOrder(t, s, "49.00")
		a := &activities.Activities{Deployment: dep, Store: s, LMS: client, Logger: discard}
		in := o.enrollInput(0)
		sim.FailNext(1)

		_, err := env(a).ExecuteActivity(a.Enroll, in)
		appErr := applicationError(t, err)
		require.Equal(t, "Fulfillment Server Error", appErr.Type())
		require.False(t, appErr.NonRetryable())
		require.Contains(t, appErr.Error(), "simulated failure")

		l := line(t, s, in.OrderNumber, in.SKU)
		require.Equal(t, commerce.LineServerError, l.Status)
		require.Equal(t, 1, l.FulfillmentAttempts)
		require.Contains(t, l.FulfillmentError, "500")
		_, enrolled := sim.Enrollment(o.user.Username, in.CourseID)
		require.False(t, enrolled)

		t.Run("RetrySucceedsAndCountsBothAttempts", func(t *testing.T) {
			_, err := env(a).ExecuteActivity(a.Enroll, in)
			require.NoError(t, err)
			l := line(t, s, in.OrderNumber, in.SKU)
			require.Equal(t, commerce.LineComplete, l.Status)
			require.Equal(t, 2, l.FulfillmentAttempts)
			require.Empty(t, l.FulfillmentError)
			require.Equal(t, 1, sim.Successes(o.user.Username, in.CourseID))
		})
	})

	t.Run("LMSRejectionIsPermanent", func(t *testing.T) {
		t.Parallel()
		sim, client := lmsServer(t)
		o := placedOrder(t, s, "49.00")
		a := &activities.Activities{Deployment: dep, Store: s, LMS: client, Logger: discard}
		in := o.enrollInput(0)
		sim.RejectCourses(in.CourseID)

		_, err := env(a).ExecuteActivity(a.Enroll, in)
		appErr := applicationError(t, err)
		require.Equal(t, activities.ErrTypeLMSRejected, appErr.Type())
		require.True(t, appErr.NonRetryable())
		require.Contains(t, appErr.Error(), "course not found")
		var status string
		require.NoError(t, appErr.Details(&status))
		require.Equal(t, string(commerce.LineServerError), status, "edX marks a 4xx a server error too")

		l := line(t, s, in.OrderNumber, in.SKU)
		require.Equal(t, commerce.LineServerError, l.Status)
		require.Equal(t, 1, l.FulfillmentAttempts)
		require.Contains(t, l.FulfillmentError, "400")

		fin, err := s.FinishFulfillment(context.Background(), in.OrderNumber)
		require.NoError(t, err)
		require.Equal(t, commerce.OrderFulfillmentError, fin.Status)
	})

	t.Run("OtherFailuresAreClassified", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name          string
			err           error
			wantType      string
			wantRetryable bool
			wantStatus    commerce.LineStatus
		}{
			{"Timeout", &lms.Error{Kind: lms.KindTimeout, Err: context.DeadlineExceeded}, string(commerce.LineTimeoutError), true, commerce.LineTimeoutError},
			{"Network", &lms.Error{Kind: lms.KindNetwork, Err: errors.New("connection refused")}, string(commerce.LineNetworkError), true, commerce.LineNetworkError},
			{"NotConfigured", lms.ErrNotConfigured, activities.ErrTypeLMSRejected, false, commerce.LineConfigurationError},
			{"InvalidEnrollment", lms.ErrInvalidEnrollment, activities.ErrTypeLMSRejected, false, commerce.LineConfigurationError},
			{"Unknown", errors.New("something odd"), string(commerce.LineServerError), true, commerce.LineServerError},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				o := placedOrder(t, s, "49.00")
				var calls []lms.Enrollment
				var mu sync.Mutex
				a := &activities.Activities{Deployment: dep, Store: s, Logger: discard, LMS: fakeEnroller{EnrollFunc: func(_ context.Context, e lms.Enrollment) error {
					mu.Lock()
					defer mu.Unlock()
					calls = append(calls, e)
					return tc.err
				}}}
				in := o.enrollInput(0)
				_, err := env(a).ExecuteActivity(a.Enroll, in)
				appErr := applicationError(t, err)
				require.Equal(t, tc.wantType, appErr.Type())
				require.Equal(t, !tc.wantRetryable, appErr.NonRetryable())

				l := line(t, s, in.OrderNumber, in.SKU)
				require.Equal(t, tc.wantStatus, l.Status)
				require.Equal(t, 1, l.FulfillmentAttempts)
				require.NotEmpty(t, l.FulfillmentError)

				require.Len(t, calls, 1)
				require.Equal(t, lms.Enrollment{
					Username: o.user.Username, Mode: "verified", CourseID: in.CourseID, OrderNumber: in.OrderNumber,
					DatePlaced: in.DatePlaced, CreditProvider: "",
				}, calls[0])
			})
		}
	})
}

func TestLoadOrder(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	a := &activities.Activities{Deployment: dep, Store: s, Logger: discard}

	t.Run("UnknownNumberIsNotPlaced", func(t *testing.T) {
		t.Parallel()
		val, err := env(a).ExecuteActivity(a.LoadOrder, activities.OrderRef{OrderNumber: "EDX-999999999", Deployment: dep})
		require.NoError(t, err)
		var st activities.OrderState
		require.NoError(t, val.Get(&st))
		require.False(t, st.Placed)
	})

	t.Run("PlacedOrderIsLoaded", func(t *testing.T) {
		t.Parallel()
		o := placedOrder(t, s, "49.00")
		val, err := env(a).ExecuteActivity(a.LoadOrder, activities.OrderRef{OrderNumber: o.order.Number, Deployment: dep})
		require.NoError(t, err)
		var st activities.OrderState
		require.NoError(t, val.Get(&st))
		require.True(t, st.Placed)
		require.Equal(t, o.order.ID, st.Order.ID)
		require.True(t, st.Order.TotalInclTax.Equal(decimal.RequireFromString("49.00")))
	})

	t.Run("DatabaseDownIsAnErrorNotAbsence", func(t *testing.T) {
		t.Parallel()
		pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5")
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		down := &activities.Activities{Deployment: dep, Store: db.NewStore(pool), Logger: discard}
		_, err = env(down).ExecuteActivity(down.LoadOrder, activities.OrderRef{OrderNumber: "EDX-100001", Deployment: dep})
		appErr := applicationError(t, err)
		require.False(t, appErr.NonRetryable())
	})
}

// mailbox is a fake SendMail that keeps what it was given.
type mailbox struct {
	mu    sync.Mutex
	sent  []sentMail
	fails error
}

type sentMail struct {
	addr, from string
	to         []string
	msg        string
}

func (m *mailbox) send(addr string, _ smtp.Auth, from string, to []string, msg []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, sentMail{addr: addr, from: from, to: to, msg: string(msg)})
	return m.fails
}

func TestSendReceipt(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)

	t.Run("WithoutSMTPItSkips", func(t *testing.T) {
		t.Parallel()
		o := placedOrder(t, s, "49.00")
		var box mailbox
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard, SendMail: box.send}
		_, err := env(a).ExecuteActivity(a.SendReceipt, o.order.Number)
		require.NoError(t, err)
		require.Empty(t, box.sent)
	})

	t.Run("SendsTheReceiptToTheLearner", func(t *testing.T) {
		t.Parallel()
		o := placedOrder(t, s, "49.00", "10.55")
		var box mailbox
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard, SMTPAddr: "smtp.example.com:25", MailFrom: "receipts@example.com", SendMail: box.send}
		_, err := env(a).ExecuteActivity(a.SendReceipt, o.order.Number)
		require.NoError(t, err)
		require.Len(t, box.sent, 1)
		m := box.sent[0]
		require.Equal(t, "smtp.example.com:25", m.addr)
		require.Equal(t, "receipts@example.com", m.from)
		require.Equal(t, []string{o.user.Email}, m.to)
		require.Contains(t, m.msg, "To: "+o.user.Email)
		require.Contains(t, m.msg, "Subject: Receipt for order "+o.order.Number)
		require.Contains(t, m.msg, o.order.Number)
		require.Contains(t, m.msg, "Total: 59.55 USD")
		require.Contains(t, m.msg, "49.00 USD")
		require.Contains(t, m.msg, "10.55 USD")
	})

	t.Run("EmailedOnceHoweverOftenTheStepRuns", func(t *testing.T) {
		t.Parallel()
		o := placedOrder(t, s, "49.00")
		var box mailbox
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard, SMTPAddr: "smtp.example.com:25", SendMail: box.send}
		for range 3 { // a retried activity, a replayed workflow task
			_, err := env(a).ExecuteActivity(a.SendReceipt, o.order.Number)
			require.NoError(t, err)
		}
		require.Len(t, box.sent, 1)
	})

	t.Run("AFailedEmailIsSentOnTheRetry", func(t *testing.T) {
		t.Parallel()
		o := placedOrder(t, s, "49.00")
		box := mailbox{fails: errors.New("421 try again later")}
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard, SMTPAddr: "smtp.example.com:25", SendMail: box.send}
		_, err := env(a).ExecuteActivity(a.SendReceipt, o.order.Number)
		require.Error(t, err)
		box.fails = nil
		_, err = env(a).ExecuteActivity(a.SendReceipt, o.order.Number)
		require.NoError(t, err)
		require.Len(t, box.sent, 2, "the failed attempt, then the retry: a failed email is not marked sent")
	})

	t.Run("MailFailureIsReturned", func(t *testing.T) {
		t.Parallel()
		o := placedOrder(t, s, "49.00")
		box := mailbox{fails: errors.New("421 try again later")}
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard, SMTPAddr: "smtp.example.com:25", SendMail: box.send}
		_, err := env(a).ExecuteActivity(a.SendReceipt, o.order.Number)
		require.Error(t, err)
		require.Contains(t, err.Error(), "421 try again later")
	})

	t.Run("UnknownOrderIsAnError", func(t *testing.T) {
		t.Parallel()
		var box mailbox
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard, SMTPAddr: "smtp.example.com:25", SendMail: box.send}
		_, err := env(a).ExecuteActivity(a.SendReceipt, "EDX-999999999")
		require.Error(t, err)
		require.Empty(t, box.sent)
	})
}

func TestFulfillmentActivities(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()

	t.Run("FinishAfterEnrollingEveryLineIsComplete", func(t *testing.T) {
		t.Parallel()
		_, client := lmsServer(t)
		o := placedOrder(t, s, "49.00", "10.55")
		a := &activities.Activities{Deployment: dep, Store: s, LMS: client, Logger: discard}
		for i := range o.checkout.Lines {
			_, err := env(a).ExecuteActivity(a.Enroll, o.enrollInput(i))
			require.NoError(t, err)
		}
		val, err := env(a).ExecuteActivity(a.FinishFulfillment, o.order.Number)
		require.NoError(t, err)
		var fin commerce.Order
		require.NoError(t, val.Get(&fin))
		require.Equal(t, commerce.OrderComplete, fin.Status)
		st, err := s.CheckoutStatus(ctx, o.order.Number)
		require.NoError(t, err)
		require.Equal(t, commerce.CheckoutFulfilled, st)
	})

	t.Run("MarkOrderFulfilledNotesTheOperator", func(t *testing.T) {
		t.Parallel()
		o := placedOrder(t, s, "49.00")
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard}
		val, err := env(a).ExecuteActivity(a.MarkOrderFulfilled, activities.MarkFulfilledInput{Deployment: dep, OrderNumber: o.order.Number, Note: "Ticket 42."})
		require.NoError(t, err)
		var fin commerce.Order
		require.NoError(t, val.Get(&fin))
		require.Equal(t, commerce.OrderComplete, fin.Status)
		var msg string
		require.NoError(t, dbtest.Pool(t).QueryRow(ctx, "SELECT message FROM order_notes WHERE order_id = $1", o.order.ID).Scan(&msg))
		require.Equal(t, "Marked fulfilled by an operator. Ticket 42.", msg)
	})

	t.Run("ReopenBasketRecordsWhyTheCheckoutEnded", func(t *testing.T) {
		t.Parallel()
		u, c := checkout(t, s, "49.00")
		a := &activities.Activities{Deployment: dep, Store: s, Logger: discard}
		in := activities.ReopenInput{Deployment: dep, OrderNumber: c.OrderNumber, BasketID: c.BasketID, Status: commerce.CheckoutPaymentExpired}
		var ids [2]int64
		for i := range ids {
			val, err := env(a).ExecuteActivity(a.ReopenBasket, in)
			require.NoError(t, err)
			require.NoError(t, val.Get(&ids[i]))
		}
		require.Equal(t, ids[0], ids[1])
		require.NotEqual(t, c.BasketID, ids[0])
		open, err := s.Basket(ctx, ids[0])
		require.NoError(t, err)
		require.Equal(t, commerce.BasketOpen, open.Status)
		require.Equal(t, u.ID, open.OwnerID)
		require.Len(t, open.Lines, 1)
		require.Equal(t, c.Lines[0].ProductID, open.Lines[0].Product.ID)
		st, err := s.CheckoutStatus(ctx, c.OrderNumber)
		require.NoError(t, err)
		require.Equal(t, commerce.CheckoutPaymentExpired, st)
	})
}
