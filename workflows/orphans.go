package workflows

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coursecommerce/commerce/commerce"
)

// OrphanStore is what the orphan sweeper needs from the database; *db.Store implements it.
type OrphanStore interface {
	OrphanCheckouts(ctx context.Context, before time.Time, limit int) ([]commerce.Checkout, error)
	MarkWorkflowStarted(ctx context.Context, number string) error
	ReopenBasket(ctx context.Context, frozenBasketID int64) (int64, error)
	SetCheckoutStatus(ctx context.Context, number string, status commerce.CheckoutStatus) error
}

// OrphanSweeper finds checkouts whose basket was frozen but whose workflow never started (the
// API answered 503 because Temporal was down) and heals them: it starts the workflow, or, when
// that still fails after UnfreezeAfter, gives the learner an open basket again and releases the
// basket's reservations (vouchers, offer budgets). No payment form was handed out for such a
// checkout; if a payment arrives anyway, its callback starts the workflow and places the order.
type OrphanSweeper struct {
	Store     OrphanStore
	Checkouts *Checkouts
	Logger    *slog.Logger
	// Grace leaves younger checkouts to the request that froze them (default 1 minute).
	Grace time.Duration
	// UnfreezeAfter is how long a start is retried before the basket is unfrozen (default 10 minutes).
	UnfreezeAfter time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Only, when set, limits the sweeper to the checkouts it accepts (e.g. one partner's in a
	// test database shared by several stacks); nil heals every orphan.
	Only func(commerce.Checkout) bool
}

// SweepResult counts what one sweep did.
type SweepResult struct {
	Started, Unfrozen, Failed int
}

// sweepBatch bounds the checkouts one sweep looks at.
const sweepBatch = 100

// Sweep heals the orphans found now.
func (w *OrphanSweeper) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := w.now()
	orphans, err := w.Store.OrphanCheckouts(ctx, now.Add(-w.grace()), sweepBatch)
	if err != nil {
		return res, fmt.Errorf("list orphan checkouts: %w", err)
	}
	for _, c := range orphans {
		if w.Only != nil && !w.Only(c) {
			continue
		}
		err := w.heal(ctx, c)
		switch {
		case err == nil:
			res.Started++
		case now.Sub(c.FrozenAt) < w.unfreezeAfter():
			res.Failed++
			w.logger().Warn("orphan checkout not started yet; will retry", "order_number", c.OrderNumber, "err", err)
		default:
			if uerr := w.unfreeze(ctx, c); uerr != nil {
				res.Failed++
				w.logger().Error("orphan checkout cannot be unfrozen", "order_number", c.OrderNumber, "err", uerr)
				continue
			}
			res.Unfrozen++
			w.logger().Warn("orphan checkout unfrozen: its workflow could not be started", "order_number", c.OrderNumber, "start_error", err)
		}
	}
	return res, nil
}

// heal records a workflow that exists, or starts the missing one.
func (w *OrphanSweeper) heal(ctx context.Context, c commerce.Checkout) error {
	exists, err := w.Checkouts.Exists(ctx, c.OrderNumber)
	if err != nil {
		return err
	}
	if !exists {
		if err := w.Checkouts.Start(ctx, c); err != nil {
			return err
		}
		w.logger().Info("orphan checkout: workflow started", "order_number", c.OrderNumber)
	}
	return w.Store.MarkWorkflowStarted(ctx, c.OrderNumber)
}

// unfreeze gives the learner an open basket with the same lines and ends the checkout.
func (w *OrphanSweeper) unfreeze(ctx context.Context, c commerce.Checkout) error {
	if _, err := w.Store.ReopenBasket(ctx, c.BasketID); err != nil {
		return fmt.Errorf("reopen basket %d: %w", c.BasketID, err)
	}
	if err := w.Store.SetCheckoutStatus(ctx, c.OrderNumber, commerce.CheckoutPaymentExpired); err != nil {
		return fmt.Errorf("end checkout %s: %w", c.OrderNumber, err)
	}
	return nil
}

// Run sweeps every interval until ctx ends.
func (w *OrphanSweeper) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if res, err := w.Sweep(ctx); err != nil {
			w.logger().Warn("orphan sweep failed", "err", err)
		} else if res != (SweepResult{}) {
			w.logger().Info("orphan sweep", "started", res.Started, "unfrozen", res.Unfrozen, "failed", res.Failed)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (w *OrphanSweeper) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *OrphanSweeper) grace() time.Duration {
	if w.Grace > 0 {
		return w.Grace
	}
	return time.Minute
}

func (w *OrphanSweeper) unfreezeAfter() time.Duration {
	if w.UnfreezeAfter > 0 {
		return w.UnfreezeAfter
	}
	return 10 * time.Minute
}

func (w *OrphanSweeper) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}
