package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/metrics"
)

// runWorker runs the Temporal worker (checkout workflow and activities) until ctx ends.
func runWorker(ctx context.Context, cfg config, logger *slog.Logger) error {
	logger.Info("starting worker", cfg.logAttrs()...)
	pool, err := openDatabase(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	// Lazy: a worker started while Temporal is down waits for it (claimNamespace retries).
	c, err := temporalClient(cfg, logger, true)
	if err != nil {
		return err
	}
	defer c.Close()
	store := db.NewStore(pool)
	deployment, err := store.DeploymentID(ctx)
	if err != nil {
		return err
	}
	if err := claimNamespace(ctx, cfg, c, deployment, logger); err != nil {
		return err
	}
	stopMetrics, _, err := serveMetrics(cfg.MetricsAddr, metrics.Default, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	w := newWorker(cfg, c, store, deployment, logger, nil)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	logger.Info("worker polling", "task_queue", cfg.TemporalTaskQueue, "namespace", cfg.TemporalNamespace)
	<-ctx.Done()
	w.Stop()
	logger.Info("worker stopped")
	return nil
}
