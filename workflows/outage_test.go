package workflows_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A database that is down while the order is placed (PostgreSQL restarting, a failover) holds
// the checkout until it answers: the payment's order is placed and fulfilled then, however long
// the outage. Found by the fault suite's PostgreSQL restart: the local activities gave up after
// their 10 s start-to-close timeout (the SDK's default schedule-to-close for a local activity)
// and a paid checkout failed without its order.
func TestCheckout_DatabaseDownWhilePlacingTheOrder_RetriedUntilItAnswers(t *testing.T) {
	for _, outage := range []time.Duration{7 * time.Second, 5 * time.Minute, 2 * time.Hour} {
		t.Run(outage.String(), func(t *testing.T) {
			h := newHarness(t, input(twoSeats()))
			// The test environment bounds a local activity's retries by its schedule-to-close
			// timeout on the workflow clock, but each attempt's deadline on the wall clock: the
			// workflow clock starts now, so that a retry is not past its deadline before it runs.
			start := time.Now().UTC().Truncate(time.Second)
			h.env.SetStartTime(start)
			paidAt := start.Add(time.Minute)
			h.placeErr = func(activities.PlaceOrderInput) error {
				if h.env.Now().Before(paidAt.Add(outage)) {
					return fmt.Errorf("place order %s: %w (begin transaction: connection refused)", orderNumber, commerce.ErrUnavailable)
				}
				return nil
			}
			h.pay(time.Minute, paid("txn-1"))
			st := h.run()

			require.Equal(t, commerce.CheckoutFulfilled, st.State)
			assert.Equal(t, commerce.OrderComplete, st.OrderStatus)
			assert.Greater(t, h.count("PlaceOrder"), 3, "retried while the database was down")
			last := h.places[len(h.places)-1].At
			assert.False(t, last.Before(paidAt.Add(outage)), "placed once the database answers")
			assert.True(t, last.Before(paidAt.Add(outage+time.Minute)), "placed within a minute of the database's return (at %s)", last.Sub(paidAt))
		})
	}
}
