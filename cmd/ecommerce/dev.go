package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/payment/cybersource"
	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
	lmssim "github.com/coursecommerce/commerce/simulators/lms"
	paypalsim "github.com/coursecommerce/commerce/simulators/paypal"
)

// dev runs everything a newcomer needs in one process: migrations, the demo catalog, the LMS
// and CyberSource simulators, the Temporal worker and the API. Temporal itself must be running
// (make run starts a dev server).
func dev(ctx context.Context, cfg config, logger *slog.Logger, stdout io.Writer) error {
	logger.Info("starting dev", cfg.logAttrs()...)
	pool, err := openDatabase(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := applyMigrations(ctx, pool, logger); err != nil {
		return err
	}
	store := db.NewStore(pool)
	go store.ListenForChanges(ctx, logger)
	courses, err := seedCatalog(ctx, store, cfg.PartnerShortCode, logger)
	if err != nil {
		return err
	}
	stopSims, err := startSimulators(cfg, logger)
	if err != nil {
		return err
	}
	defer stopSims()
	tc, err := temporalClient(cfg, logger, false)
	if err != nil {
		return err
	}
	defer tc.Close()
	deployment, err := store.DeploymentID(ctx)
	if err != nil {
		return err
	}
	if err := claimNamespace(ctx, cfg, tc, deployment, logger); err != nil {
		return fmt.Errorf("%w\n  (a Temporal dev server keeps its namespaces in .tools/run/temporal-dev.db: stop it and remove that file to start afresh)", err)
	}
	w := newWorker(cfg, tc, store, deployment, logger, nil)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	co := checkouts(cfg, tc, deployment, nil)
	sweepOrphans(ctx, cfg, store, co, logger)
	handler, err := newAPIHandler(cfg, store, co, tc, deployment, logger)
	if err != nil {
		return err
	}
	ui, uiAnswers := temporalUI(ctx, cfg)
	uiLine := ui + "  (search Username = 'bob')"
	if !uiAnswers {
		uiLine = "NONE answers at " + ui + "\n  (the Temporal server at " + cfg.TemporalAddress + " has no Web UI there: start the service with\n" +
			"  make run, which starts one, or set TEMPORAL_UI_PORT to the port of its UI)"
		logger.Warn("no Temporal Web UI answers", "url", ui, "temporal_address", cfg.TemporalAddress)
	}
	buyAPI := "" // scripts/buy calls http://127.0.0.1:8130 unless told otherwise
	if cfg.PublicURL != "http://127.0.0.1:8130" {
		buyAPI = " --api " + cfg.PublicURL
	}
	fmt.Fprintf(stdout, `
The commerce service is running on %[1]s
Temporal UI: %[6]s

  In a browser:           %[1]s/basket/add/?sku=%[2]s
                          (log in at the LMS simulator as anyone, pay with a card or PayPal at
                          the simulator's page, and the receipt shows the enrollment)
  Mint a token (staff):   TOKEN=$(go run ./cmd/ecommerce token --username alice --admin)
  List the catalog:       curl -s %[1]s/api/v2/courses/?include_products=true
  Price a seat:           curl -s -H "Authorization: JWT $TOKEN" '%[1]s/api/v2/baskets/calculate/?sku=%[2]s'
  Buy it as bob:          BOB=$(go run ./cmd/ecommerce token --username bob)
                          go run ./scripts/buy%[9]s --token "$BOB" --sku %[2]s
                          (basket, the CyberSource simulator's payment page, order, enrollment;
                          --action decline or cancel, with a seat bob has not bought: --sku %[7]s)
  Or pay with PayPal:     curl -s -H "Authorization: JWT $BOB" -H 'Content-Type: application/json' \
                            -d '{"products":[{"sku":"%[10]s"}],"checkout":true,"payment_processor_name":"paypal"}' \
                            %[1]s/api/v2/baskets/
                          then open its payment_data.payment_page_url in a browser and press Approve
  Bob's orders:           curl -s -H "Authorization: JWT $BOB" %[1]s/api/v2/orders/
  Simulators:             LMS %[3]s (log in: %[3]s/login)  CyberSource %[4]s  PayPal %[5]s
                          (knobs: POST /__sim/knobs; LMS enrollments kept in %[8]s)

`, cfg.PublicURL, verifiedSKU(courses, 0), cfg.LMSURL, cfg.CyberSourcePaymentPageURL, cfg.PayPalAPIURL, uiLine,
		verifiedSKU(courses, 1), devLMSStateFile, buyAPI, verifiedSKU(courses, 2))
	return listenAndServe(ctx, cfg, handler, logger)
}

// verifiedSKU is the SKU of the verified seat of the i-th demo course, for the banner.
func verifiedSKU(courses []commerce.Course, i int) string {
	if i >= len(courses) {
		return "<SKU>"
	}
	for _, p := range courses[i].Products {
		if p.CertificateType == "verified" {
			return p.StockRecord.PartnerSKU
		}
	}
	return "<SKU>"
}

// temporalUI returns the URL of the Temporal Web UI for the banner, TEMPORAL_UI_PORT (else
// TEMPORAL_ADDRESS's port + 1000, the dev server's default) on TEMPORAL_ADDRESS's host, and
// whether a Temporal UI answers there.
func temporalUI(ctx context.Context, cfg config) (string, bool) {
	host, port, err := net.SplitHostPort(cfg.TemporalAddress)
	if err != nil {
		return "(TEMPORAL_ADDRESS " + cfg.TemporalAddress + " is not host:port)", false
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	uiPort := cfg.TemporalUIPort
	if uiPort == "" {
		n, err := strconv.Atoi(port)
		if err != nil {
			return "(TEMPORAL_ADDRESS " + cfg.TemporalAddress + " has no port number)", false
		}
		uiPort = strconv.Itoa(n + 1000)
	}
	ui := "http://" + net.JoinHostPort(host, uiPort)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ui+"/api/v1/settings", nil)
	if err != nil {
		return ui, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ui, false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return ui, resp.StatusCode == http.StatusOK
}

// devLMSStateFile keeps the LMS simulator's enrollments across restarts of dev (relative to the
// working directory: the repository's, under make run); remove it to start afresh.
const devLMSStateFile = ".tools/run/lms-state.json"

// startSimulators serves the LMS simulator on LMS_URL's address and the CyberSource hosted
// page on CYBERSOURCE_PAYMENT_PAGE_URL's, with the same keys the service uses.
func startSimulators(cfg config, logger *slog.Logger) (func(), error) {
	lms := lmssim.New(cfg.LMSAPIKey, lmssim.WithLogger(logger.With("simulator", "lms")),
		lmssim.WithJWT(cfg.JWTSecretKey, cfg.issuers()[0]), lmssim.WithCORSOrigins(cfg.corsOrigins()...),
		lmssim.WithStateFile(devLMSStateFile))
	cs := cybersim.New(cybersim.Config{
		Profiles:  []cybersource.Profile{{ProfileID: cfg.CyberSourceProfileID, AccessKey: cfg.CyberSourceAccessKey, SecretKey: cfg.CyberSourceSecretKey}},
		NotifyURL: cfg.PublicURL + "/payment/cybersource/notify/",
		RESTKeys:  []cybersim.RESTKey{{MerchantID: cfg.CyberSourceMerchantID, KeyID: cfg.CyberSourceRESTKeyID, SharedSecret: cfg.CyberSourceRESTSharedSecret}},
		Logger:    logger.With("simulator", "cybersource"),
	})
	pp := paypalsim.New(paypalsim.Config{ClientID: cfg.PayPalClientID, ClientSecret: cfg.PayPalClientSecret,
		PublicURL: cfg.PayPalAPIURL, Logger: logger.With("simulator", "paypal")})
	var servers []*http.Server
	stop := func() {
		for _, s := range servers {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = s.Shutdown(ctx)
			cancel()
		}
	}
	for _, sim := range []struct {
		name, rawURL string
		handler      http.Handler
	}{{"lms", cfg.LMSURL, lms}, {"cybersource", cfg.CyberSourcePaymentPageURL, cs}, {"paypal", cfg.PayPalAPIURL, pp}} {
		u, err := url.Parse(sim.rawURL)
		if err != nil || u.Host == "" {
			stop()
			return nil, fmt.Errorf("%s simulator: %q is not a URL", sim.name, sim.rawURL)
		}
		ln, err := net.Listen("tcp", u.Host)
		if err != nil {
			stop()
			return nil, fmt.Errorf("%s simulator on %s: %w", sim.name, u.Host, err)
		}
		srv := &http.Server{Handler: sim.handler, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("simulator stopped", "simulator", sim.name, "err", err)
			}
		}()
		logger.Info("simulator listening", "simulator", sim.name, "addr", ln.Addr().String())
	}
	return stop, nil
}
