package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coursecommerce/commerce/lms"
	"github.com/coursecommerce/commerce/metrics"
	"go.temporal.io/sdk/client"
)

// serveMetrics serves reg's GET /metrics on addr (the worker's METRICS_ADDR) until stop is
// called; an empty addr serves nothing. It returns the address it listens on.
func serveMetrics(addr string, reg *metrics.Registry, logger *slog.Logger) (stop func(), bound string, err error) {
	if addr == "" {
		logger.Info("metrics not served: METRICS_ADDR is empty")
		return func() {}, "", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("metrics listener on METRICS_ADDR %s (set it to another address, or empty to turn it off): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	logger.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, ln.Addr().String(), nil
}

// lmsObserver records the LMS client's calls in reg.
func lmsObserver(reg *metrics.Registry) lms.Observer {
	return func(c lms.Call) { reg.ObserveLMSCall(c.Operation, c.Result, c.Duration) }
}

// temporalHealth is GET /ready/'s check of Temporal: the frontend's gRPC health check.
func temporalHealth(c client.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}
}
