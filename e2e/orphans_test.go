package e2e_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/require"
)

// A checkout frozen while Temporal is down answers 503 and leaves a frozen basket with no
// workflow. The orphan sweeper heals it by itself: once Temporal is back it starts the workflow
// (and the learner can pay); if Temporal stays down past ORPHAN_UNFREEZE_AFTER it gives the
// learner an open basket again.
func TestOrphanFreezesAreHealedByTheService(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{temporalDownForAPI: true})
	_, sku := s.publishSeat("35.00")
	ctx := context.Background()

	freeze := func(user string) int64 {
		var basket basketResponse
		tok := s.token(user, false)
		require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": sku}}}, &basket))
		var e map[string]any
		require.Equal(t, http.StatusServiceUnavailable, s.call("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": basket.ID, "payment_processor": "cybersource"}, &e))
		require.Equal(t, 1, s.count("SELECT count(*) FROM baskets WHERE id = $1 AND status = 'Frozen'", basket.ID), "the 503 leaves the basket frozen")
		require.Equal(t, 1, s.count("SELECT count(*) FROM checkouts WHERE basket_id = $1 AND NOT workflow_started", basket.ID))
		return basket.ID
	}
	restarted, other := freeze("orphan-a"), freeze("orphan-b")
	number := commerce.OrderNumber(s.partner, restarted)

	// Temporal is back for the sweeper: the workflow of the first orphan starts.
	later := func() time.Time { return time.Now().Add(2 * time.Minute) }
	ours := func(c commerce.Checkout) bool { return strings.HasPrefix(c.OrderNumber, s.partner+"-") }
	sw := &workflows.OrphanSweeper{Only: ours, Logger: discardLogger, Store: s.store, Checkouts: s.checkouts, Now: later, UnfreezeAfter: time.Hour}
	res, err := sw.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, res.Started)
	require.Equal(t, commerce.CheckoutAwaitingPayment, s.waitForState(number, commerce.CheckoutAwaitingPayment).State)
	require.Equal(t, 0, s.count("SELECT count(*) FROM checkouts WHERE basket_id = $1 AND NOT workflow_started", restarted))
	again, err := sw.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, workflows.SweepResult{}, again, "nothing left to heal")

	st := s.status(number)
	require.Equal(t, "35.00", st.Total, "the workflow runs the frozen basket: the learner can pay")

	// The second orphan's workflow was started too; a third, frozen while Temporal stays down for
	// longer than ORPHAN_UNFREEZE_AFTER, is unfrozen: the learner gets an open basket back.
	s.waitForState(commerce.OrderNumber(s.partner, other), commerce.CheckoutAwaitingPayment)
	stuck := freeze("orphan-c")
	downSweeper := &workflows.OrphanSweeper{Only: ours, Logger: discardLogger, Store: s.store, Checkouts: apiCheckoutsDown(t), Now: func() time.Time { return time.Now().Add(time.Hour) }, UnfreezeAfter: 10 * time.Minute}
	res, err = downSweeper.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Unfrozen)
	require.Equal(t, 1, s.count("SELECT count(*) FROM checkouts WHERE basket_id = $1 AND status = 'PaymentExpired'", stuck))
	require.Equal(t, 1, s.count(`SELECT count(*) FROM baskets b JOIN basket_lines l ON l.basket_id = b.id JOIN users u ON u.id = b.owner_id
		WHERE u.username = 'orphan-c' AND b.status = 'Open'`), "the seat is back in an open basket")
	res, err = downSweeper.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, workflows.SweepResult{}, res, "an unfrozen checkout is no orphan")
}

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// apiCheckoutsDown is a Checkouts whose Temporal cannot be reached.
func apiCheckoutsDown(t *testing.T) *workflows.Checkouts {
	t.Helper()
	down, err := newDownClient()
	require.NoError(t, err)
	t.Cleanup(down.Close)
	return &workflows.Checkouts{Client: down}
}
