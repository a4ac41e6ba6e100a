package main

import (
	"context"
	"errors"
	"log/slog"
)

// runWorker runs the Temporal worker. The checkout workflow registers here.
func runWorker(ctx context.Context, cfg config, logger *slog.Logger) error {
	logger.Info("starting worker", cfg.logAttrs()...)
	return errors.New("no workflows are registered yet: the checkout workflow comes with the checkout issue")
}
