package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/metrics"
	"github.com/coursecommerce/commerce/payment"
	"github.com/coursecommerce/commerce/payment/cybersource"
	"github.com/coursecommerce/commerce/payment/paypal"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
)

func serve(ctx context.Context, cfg config, logger *slog.Logger) error {
	logger.Info("starting api", cfg.logAttrs()...)
	pool, err := openDatabase(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	tc, err := temporalClient(cfg, logger, true)
	if err != nil {
		return err
	}
	defer tc.Close()
	store := db.NewStore(pool)
	deployment, err := store.DeploymentID(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	guard := guardNamespace(ctx, cfg, tc, deployment, logger, cancel)
	go store.ListenForChanges(ctx, logger)
	co := checkouts(cfg, tc, deployment, guard)
	sweepOrphans(ctx, cfg, store, co, logger)
	handler, err := newAPIHandler(cfg, store, co, tc, deployment, logger)
	if err != nil {
		return err
	}
	if err := listenAndServe(ctx, cfg, handler, logger); err != nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return nil
}

func newAPIHandler(cfg config, store *db.Store, co api.Checkouts, tc client.Client, deployment string, logger *slog.Logger) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	verifier, err := auth.NewVerifier(cfg.JWTSecretKey, cfg.issuers(), auth.WithJWKSet(cfg.JWTPublicSigningJWKSet))
	if err != nil {
		return nil, fmt.Errorf("JWT verifier: %w", err)
	}
	cs := cybersourceProcessor(cfg)
	var pp api.HostedProcessor
	if p := paypalProcessor(cfg, store, deployment, logger); p != nil {
		pp = *p
	}
	return api.NewHandler(api.Config{PayPal: pp,
		Store: store, Verifier: verifier, PartnerShortCode: cfg.PartnerShortCode, Logger: logger,
		PublicURL: cfg.PublicURL, Checkouts: co, Processors: []api.PaymentProcessor{cs}, CyberSource: cs,
		CallbackRate: float64(cfg.CallbackRateLimit), CallbackBurst: 2 * cfg.CallbackRateLimit, TrustedProxies: cfg.trustedProxies(),
		CORSOrigins: cfg.corsOrigins(), CSRFSecretKey: cfg.CSRFSecretKey,
		PaymentPageURL: cfg.PaymentPageURL, LMSURL: cfg.LMSURL, Refunds: refundsRunner(cfg, tc, deployment, co),
		Metrics: metrics.Default, TemporalHealth: temporalHealth(tc),
		UserRateLimit: cfg.UserRateLimit, ServiceIssuers: cfg.serviceIssuers(),
	}), nil
}

// listenAndServe serves handler on HTTP_ADDR until ctx ends, then drains requests in flight.
func listenAndServe(ctx context.Context, cfg config, handler http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("api listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down http server: %w", err)
	}
	logger.Info("api stopped")
	return nil
}

// refundsRunner starts refund workflows for the API, under the same namespace guard and
// deployment identity as the checkouts.
func refundsRunner(cfg config, tc client.Client, deployment string, co api.Checkouts) api.Refunds {
	var guard *workflows.NamespaceGuard
	if c, ok := co.(*workflows.Checkouts); ok {
		guard = c.Guard
	}
	return &workflows.Refunds{Client: tc, TaskQueue: cfg.TemporalTaskQueue, RetryLimit: cfg.FulfillmentRetryLimit,
		Deployment: deployment, Guard: guard}
}

// paypalProcessor is PayPal (Orders v2) with every API exchange recorded in
// payment_processor_responses, or nil when PAYPAL_CLIENT_ID is empty. PayPal-Request-Ids start
// with the deployment identity, so two deployments on one PayPal account never share a payment.
func paypalProcessor(cfg config, store *db.Store, deployment string, logger *slog.Logger) *paypal.Processor {
	if cfg.PayPalClientID == "" {
		return nil
	}
	// Every exchange is recorded before the client returns; one that cannot be recorded fails
	// the call, so nothing PayPal answered is acted on unrecorded.
	record := func(e paypal.Exchange) error {
		metrics.ObserveProcessorCall(paypal.Name, e.Kind, e.Status, e.Duration)
		return recordExchange(store, logger, e.ProcessorResponse())
	}
	client := paypal.NewClient(paypal.Config{BaseURL: cfg.PayPalAPIURL, ClientID: cfg.PayPalClientID,
		ClientSecret: cfg.PayPalClientSecret, Record: record})
	return &paypal.Processor{Client: client, RequestIDPrefix: deployment}
}

// cybersourceRefunder refunds CyberSource payments through its REST API (HTTP Signature auth),
// every exchange recorded, or nil when CYBERSOURCE_MERCHANT_ID is empty.
func cybersourceRefunder(cfg config, store *db.Store, logger *slog.Logger) payment.Refunder {
	if cfg.CyberSourceMerchantID == "" {
		return nil
	}
	record := func(e cybersource.Exchange) error {
		metrics.ObserveProcessorCall(cybersource.Name, e.Kind, e.Status, e.Duration)
		return recordExchange(store, logger, e.ProcessorResponse())
	}
	return cybersource.Refunder{Client: cybersource.NewRESTClient(cybersource.RESTConfig{BaseURL: cfg.CyberSourceRESTURL,
		MerchantID: cfg.CyberSourceMerchantID, KeyID: cfg.CyberSourceRESTKeyID, SharedSecret: cfg.CyberSourceRESTSharedSecret, Record: record})}
}

// refunders are the processors' refunders, by processor name.
func refunders(cfg config, store *db.Store, deployment string, logger *slog.Logger) map[string]payment.Refunder {
	out := map[string]payment.Refunder{}
	if p := paypalProcessor(cfg, store, deployment, logger); p != nil {
		out[paypal.Name] = p.Refunder()
	}
	if r := cybersourceRefunder(cfg, store, logger); r != nil {
		out[cybersource.Name] = r
	}
	return out
}

// recordExchange stores one processor exchange; an error fails the processor call.
func recordExchange(store *db.Store, logger *slog.Logger, r commerce.ProcessorResponse) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := store.RecordProcessorResponse(ctx, r); err != nil {
		logger.Error("cannot record a processor exchange", "processor", r.Processor, "kind", r.Kind, "transaction_id", r.TransactionID, "err", err)
		return err
	}
	return nil
}
