package db_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// goneURL names a server that is not there; pgxpool.New connects lazily, so the store is built
// and every call fails as it would after the database went away.
const goneURL = "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5"

func TestDatabaseUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), goneURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := db.NewStore(pool)
	u := commerce.User{ID: 1, Username: "gone", Email: "gone@example.com"}
	email := "gone@example.com"
	checkout := commerce.Checkout{
		OrderNumber: "EDX-100001", BasketID: 1, UserID: 1, Currency: "USD", Processor: "cybersource",
		Total: decimal.RequireFromString("49.00"), TotalBeforeDiscounts: decimal.RequireFromString("49.00"),
	}
	build := func(commerce.Checkout) (commerce.PaymentData, error) { return commerce.PaymentData{}, nil }

	calls := map[string]func(ctx context.Context) error{
		"Ping": s.Ping,
		"UpsertUser": func(ctx context.Context) error {
			_, err := s.UpsertUser(ctx, commerce.UserClaims{Username: "gone", Email: &email})
			return err
		},
		"UserByUsername": func(ctx context.Context) error { _, err := s.UserByUsername(ctx, "gone"); return err },
		"Course":         func(ctx context.Context) error { _, err := s.Course(ctx, "course-v1:edX+Gone+2026", true); return err },
		"Courses": func(ctx context.Context) error {
			_, _, err := s.Courses(ctx, commerce.Page{Limit: 10}, true)
			return err
		},
		"Products": func(ctx context.Context) error {
			_, _, err := s.Products(ctx, commerce.ProductFilter{}, commerce.Page{Limit: 10})
			return err
		},
		"ProductsBySKU": func(ctx context.Context) error { _, err := s.ProductsBySKU(ctx, []string{"ABC1234"}); return err },
		"PublishCourse": func(ctx context.Context) error {
			_, err := s.PublishCourse(ctx, partner, commerce.Publication{CourseID: "course-v1:edX+Gone+2026", Name: "Gone"}, true)
			return err
		},
		"Basket":            func(ctx context.Context) error { _, err := s.Basket(ctx, 1); return err },
		"ReplaceOpenBasket": func(ctx context.Context) error { _, err := s.ReplaceOpenBasket(ctx, 1, nil); return err },
		"PurchasedProducts": func(ctx context.Context) error { _, err := s.PurchasedProducts(ctx, 1, []int64{1}); return err },
		"FreezeBasket": func(ctx context.Context) error {
			_, _, _, err := s.FreezeBasket(ctx, 1, u, partner, "cybersource", build)
			return err
		},
		"CheckoutByOrderNumber": func(ctx context.Context) error {
			_, _, err := s.CheckoutByOrderNumber(ctx, "EDX-100001")
			return err
		},
		"CheckoutStatus":    func(ctx context.Context) error { _, err := s.CheckoutStatus(ctx, "EDX-100001"); return err },
		"SetCheckoutStatus": func(ctx context.Context) error { return s.SetCheckoutStatus(ctx, "EDX-100001", commerce.CheckoutPaid) },
		"RecordProcessorResponse": func(ctx context.Context) error {
			_, err := s.RecordProcessorResponse(ctx, commerce.ProcessorResponse{Processor: "cybersource", OrderNumber: "EDX-100001", Body: map[string]string{}})
			return err
		},
		"PaymentDelivered": func(ctx context.Context) error {
			_, err := s.PaymentDelivered(ctx, commerce.PaymentNotification{OrderNumber: "EDX-100001", Processor: "cybersource", TransactionID: "t"})
			return err
		},
		"MarkPaymentDelivered": func(ctx context.Context) error { return s.MarkPaymentDelivered(ctx, 1, commerce.PaymentAccepted) },
		"ReopenBasket":         func(ctx context.Context) error { _, err := s.ReopenBasket(ctx, 1); return err },
		"PlaceOrder": func(ctx context.Context) error {
			_, _, err := s.PlaceOrder(ctx, checkout, nil)
			return err
		},
		"Order": func(ctx context.Context) error { _, err := s.Order(ctx, "EDX-100001"); return err },
		"OrdersOfUser": func(ctx context.Context) error {
			_, _, err := s.OrdersOfUser(ctx, 1, commerce.Page{Limit: 10})
			return err
		},
		"RecordFulfillmentAttempts": func(ctx context.Context) error {
			return s.RecordFulfillmentAttempts(ctx, "EDX-100001", "ABC1234", commerce.LineComplete, "", 1)
		},
		"FinishFulfillment":  func(ctx context.Context) error { _, err := s.FinishFulfillment(ctx, "EDX-100001"); return err },
		"MarkOrderFulfilled": func(ctx context.Context) error { _, err := s.MarkOrderFulfilled(ctx, "EDX-100001", "n"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := call(ctx)
			require.Error(t, err)
			require.Equal(t, commerce.EUnavailable, commerce.ErrorCodeOf(err), "error: %v", err)
			require.ErrorIs(t, err, commerce.ErrUnavailable)
		})
	}
}

// singleConnStore is a store over its own one-connection pool on the package's schema, reached
// through addr (host:port) when it is not empty.
func singleConnStore(t *testing.T, addr string) (*db.Store, *pgxpool.Pool) {
	t.Helper()
	u, err := url.Parse(dbtest.URL(t))
	require.NoError(t, err)
	if addr != "" {
		u.Host = addr
	}
	cfg, err := pgxpool.ParseConfig(u.String())
	require.NoError(t, err)
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return db.NewStore(pool), pool
}

func TestTerminatedConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := singleConnStore(t, "")
	// The server ends the session (as on a restart): it says so with SQLSTATE 57P01.
	terminate := func(t *testing.T) {
		var pid int
		require.NoError(t, pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
		var ok bool
		require.NoError(t, dbtest.Pool(t).QueryRow(ctx, "SELECT pg_terminate_backend($1, 5000)", pid).Scan(&ok))
		require.True(t, ok)
	}
	t.Run("Read", func(t *testing.T) {
		terminate(t)
		_, err := s.UserByUsername(ctx, "nobody")
		require.Equal(t, commerce.EUnavailable, commerce.ErrorCodeOf(err), "error: %v", err)
	})
	t.Run("Write", func(t *testing.T) {
		terminate(t)
		_, err := s.ReplaceOpenBasket(ctx, 1<<40, nil)
		require.Equal(t, commerce.EUnavailable, commerce.ErrorCodeOf(err), "error: %v", err)
	})
	t.Run("NextCallReconnects", func(t *testing.T) {
		_, err := s.UserByUsername(ctx, "nobody")
		requireCode(t, err, commerce.ENotFound)
	})
}

// cutter is a TCP proxy to PostgreSQL whose connections can be cut without a word from the
// server, as when a network path, a proxy or a load balancer in between drops them.
type cutter struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutter(t *testing.T, target string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &cutter{ln: ln}
	go func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				down.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, down, up)
			c.mu.Unlock()
			go func() { _, _ = io.Copy(up, down); up.Close() }()
			go func() { _, _ = io.Copy(down, up); down.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); c.cut() })
	return c
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func TestDroppedConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, err := url.Parse(dbtest.URL(t))
	require.NoError(t, err)
	proxy := newCutter(t, u.Host)
	s, pool := singleConnStore(t, proxy.ln.Addr().String())
	calls := []struct {
		name string
		call func() error
	}{
		{"Read", func() error { _, err := s.Order(ctx, "EDX-999999999"); return err }},
		{"ReadUser", func() error { _, err := s.UserByUsername(ctx, "nobody"); return err }},
		{"Write", func() error { return s.SetCheckoutStatus(ctx, "EDX-999999999", commerce.CheckoutPaid) }},
		{"RecordProcessorResponse", func() error {
			_, err := s.RecordProcessorResponse(ctx, commerce.ProcessorResponse{Processor: "cybersource", Body: map[string]string{}})
			return err
		}},
		{"Transaction", func() error { _, err := s.ReplaceOpenBasket(ctx, 1<<40, nil); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, pool.Ping(ctx)) // a live connection, idle for less than a second
			proxy.cut()
			err := tc.call()
			require.Error(t, err)
			require.Equal(t, commerce.EUnavailable, commerce.ErrorCodeOf(err), "error: %v", err)
		})
	}
}
