package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/lms"
	"github.com/coursecommerce/commerce/metrics"
	"github.com/coursecommerce/commerce/payment/cybersource"
	"github.com/coursecommerce/commerce/workflows"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

// temporalClient returns a client of TEMPORAL_ADDRESS. A lazy client lets the API and the worker
// start while Temporal is down (checkouts answer 503, and the worker waits, until it is back);
// dev dials eagerly, to say at once when make run's server is missing.
func temporalClient(cfg config, logger *slog.Logger, lazy bool) (client.Client, error) {
	opts := client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger:         temporallog.NewStructuredLogger(logger.With("component", "temporal")),
		MetricsHandler: metrics.Default.TemporalHandler(),
	}
	var (
		c   client.Client
		err error
	)
	if lazy {
		c, err = client.NewLazyClient(opts)
	} else {
		c, err = client.Dial(opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w\n"+
			"  start a dev server with: scripts/temporal.sh ensure", cfg.TemporalAddress, cfg.TemporalNamespace, err)
	}
	return c, nil
}

// registerSearchAttributes adds the checkout's search attributes to TEMPORAL_NAMESPACE when
// Temporal answers; it only warns otherwise (the database migration is what migrate must do).
func registerSearchAttributes(ctx context.Context, cfg config, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger: temporallog.NewStructuredLogger(logger.With("component", "temporal"))})
	if err != nil {
		logger.Warn("search attributes not registered: Temporal is not reachable", "address", cfg.TemporalAddress, "err", err)
		return
	}
	defer c.Close()
	added, err := workflows.EnsureSearchAttributes(ctx, c, cfg.TemporalNamespace)
	if err != nil {
		logger.Warn("search attributes not registered", "err", err)
		return
	}
	logger.Info("search attributes registered", "namespace", cfg.TemporalNamespace, "added", added)
}

func checkouts(cfg config, c client.Client, deployment string, guard *workflows.NamespaceGuard) *workflows.Checkouts {
	return &workflows.Checkouts{Client: c, TaskQueue: cfg.TemporalTaskQueue, PaymentTimeout: cfg.PaymentTimeout,
		FulfillmentRetryLimit: cfg.FulfillmentRetryLimit, Deployment: deployment, Guard: guard}
}

// claimNamespace makes sure TEMPORAL_NAMESPACE belongs to this database's deployment before a
// worker starts; it fails with what to change when another deployment owns it. While Temporal
// cannot be reached it waits and tries again (a worker started during an outage, or before the
// server, is not a refusal).
func claimNamespace(ctx context.Context, cfg config, c client.Client, deployment string, logger *slog.Logger) error {
	var guard workflows.NamespaceGuard
	err := guard.Verify(ctx, c.WorkflowService(), cfg.TemporalNamespace, deployment, 2*time.Second, func(err error) {
		logger.Warn("temporal namespace not verified yet; the worker waits", "namespace", cfg.TemporalNamespace, "err", err)
	})
	if err != nil {
		return fmt.Errorf("refusing to run: %w", err)
	}
	logger.Info("temporal namespace verified", "namespace", cfg.TemporalNamespace, "deployment", deployment)
	return nil
}

// guardNamespace verifies the namespace for the API in the background (the API may start while
// Temporal is down; checkouts answer 503 until the namespace is verified). It calls fail when
// another deployment owns the namespace.
func guardNamespace(ctx context.Context, cfg config, c client.Client, deployment string, logger *slog.Logger, fail func(error)) *workflows.NamespaceGuard {
	guard := &workflows.NamespaceGuard{}
	go func() {
		err := guard.Verify(ctx, c.WorkflowService(), cfg.TemporalNamespace, deployment, 5*time.Second, func(err error) {
			logger.Warn("temporal namespace not verified yet; checkouts wait", "namespace", cfg.TemporalNamespace, "err", err)
		})
		switch {
		case err == nil:
			logger.Info("temporal namespace verified", "namespace", cfg.TemporalNamespace, "deployment", deployment)
		case ctx.Err() == nil:
			fail(fmt.Errorf("refusing to run: %w", err))
		}
	}()
	return guard
}

// sweepOrphans starts the orphan sweeper of serve (and dev) until ctx ends.
func sweepOrphans(ctx context.Context, cfg config, store *db.Store, co *workflows.Checkouts, logger *slog.Logger) {
	sw := &workflows.OrphanSweeper{Store: store, Checkouts: co, Logger: logger.With("component", "orphan-sweeper"), UnfreezeAfter: cfg.OrphanUnfreezeAfter}
	go sw.Run(ctx, cfg.OrphanSweepInterval)
}

func cybersourceProcessor(cfg config) cybersource.Processor {
	return cybersource.Processor{
		Config: cybersource.Config{
			Profile:        cybersource.Profile{ProfileID: cfg.CyberSourceProfileID, AccessKey: cfg.CyberSourceAccessKey, SecretKey: cfg.CyberSourceSecretKey},
			PaymentPageURL: cfg.CyberSourcePaymentPageURL,
		},
		PublicURL: cfg.PublicURL,
	}
}

// newWorker builds the Temporal worker with the checkout workflow and its activities.
func newWorker(cfg config, c client.Client, store *db.Store, deployment string, logger *slog.Logger, httpClient *http.Client) worker.Worker {
	// More workflow-task pollers than the SDK's 2: new checkouts otherwise wait in the queue
	// behind running ones (measured with ecommerce load: see docs/benchmarks.md).
	w := worker.New(c, cfg.TemporalTaskQueue, worker.Options{MaxConcurrentWorkflowTaskPollers: 8, MaxConcurrentActivityTaskPollers: 4})
	opts := []lms.Option{lms.WithObserver(lmsObserver(metrics.Default))}
	if httpClient != nil {
		opts = append(opts, lms.WithHTTPClient(httpClient))
	}
	workflows.Register(w, &activities.Activities{
		Deployment: deployment, Store: store, LMS: lms.NewClient(cfg.LMSURL, cfg.LMSAPIKey, opts...), Logger: logger,
		SMTPAddr: cfg.SMTPAddr, MailFrom: cfg.SMTPFrom, Refunders: refunders(cfg, store, deployment, logger),
	})
	return w
}
