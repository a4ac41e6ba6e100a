package db

import (
	"context"
	"fmt"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
)

// StuckCheckouts returns a page of the checkouts operations staff should look at, and their
// count: those in NeedsAttention (whatever their age), and those awaiting payment, paid or
// fulfilling whose status has not changed for longer than olderThan; the longest unchanged
// first.
func (s *Store) StuckCheckouts(ctx context.Context, olderThan time.Duration, page commerce.Page) ([]commerce.StuckCheckout, int64, error) {
	before := s.now().Add(-olderThan)
	total, err := s.q.CountStuckCheckouts(ctx, s.pool, before)
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("count stuck checkouts: %w", err))
	}
	rows, err := s.q.ListStuckCheckouts(ctx, s.pool, dbgen.ListStuckCheckoutsParams{Before: before, PageLimit: int32(page.Limit), PageOffset: int32(page.Offset)})
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("list stuck checkouts: %w", err))
	}
	out := make([]commerce.StuckCheckout, len(rows))
	for i, r := range rows {
		out[i] = commerce.StuckCheckout{
			OrderNumber: r.OrderNumber, Username: r.Username, Status: commerce.CheckoutStatus(r.Status), Reason: r.AttentionReason,
			Total: r.Total, Currency: r.Currency, Processor: r.PaymentProcessor, UpdatedAt: r.UpdatedAt.UTC(),
		}
	}
	return out, total, nil
}
