package db_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// deadlocks is PostgreSQL's count of deadlocks detected in the test database.
func deadlocks(t *testing.T) int64 {
	var n int64
	require.NoError(t, dbtest.Pool(t).QueryRow(context.Background(), "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").Scan(&n))
	return n
}

// One learner's order placement and another basket's freeze (both holding one code) run at once
// 40 times: they take their locks in one order (basket, learner, vouchers, offers), so
// PostgreSQL detects no deadlock and neither fails.
func TestPlaceOrderAndFreezeOfOneLearnerNeverDeadlock(t *testing.T) {
	s := dbtest.Store(t)
	ctx := context.Background()
	seat := newSeat(t, s, "80.00")
	max := 100000
	v := couponCode(t, s, seat, commerce.MultiUse, &max)
	var bld builder
	before := deadlocks(t)
	var slow, fails int
	for i := 0; i < 40; i++ {
		u, b1 := basketWithCode(t, s, seat, v)
		c1, _, _, err := s.FreezeBasket(ctx, b1.ID, u, partner, "cybersource", bld.build)
		require.NoError(t, err)
		b2 := openBasket(t, s, u, seat)
		require.NoError(t, s.SetBasketVoucher(ctx, b2.ID, v.ID))
		var wg sync.WaitGroup
		var e1, e2 error
		start := time.Now()
		wg.Go(func() { _, _, e1 = s.PlaceOrder(ctx, c1, paymentFor(c1, "p"+itoa(i))) })
		wg.Go(func() { _, _, _, e2 = s.FreezeBasket(ctx, b2.ID, u, partner, "cybersource", bld.build) })
		wg.Wait()
		if time.Since(start) > 500*time.Millisecond {
			slow++
		}
		// The freeze may be refused by a rule (the learner now owns the seat, or used the code),
		// never by a lock cycle.
		if e1 != nil || (e2 != nil && commerce.ErrorCodeOf(e2) != commerce.EInvalid && !strings.Contains(e2.Error(), "can no longer be used")) {
			fails++
			t.Logf("e1=%v e2=%v", e1, e2)
		}
	}
	time.Sleep(600 * time.Millisecond)
	t.Logf("slow iterations (>0.5s): %d", slow)
	require.Zero(t, fails)
	require.Zero(t, deadlocks(t)-before, "deadlocks detected by PostgreSQL in this database")
}
