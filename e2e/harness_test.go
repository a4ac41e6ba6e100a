package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/internal/openapitest"
	"github.com/coursecommerce/commerce/lms"
	"github.com/coursecommerce/commerce/metrics"
	"github.com/coursecommerce/commerce/payment"
	"github.com/coursecommerce/commerce/payment/cybersource"
	"github.com/coursecommerce/commerce/payment/paypal"
	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
	lmssim "github.com/coursecommerce/commerce/simulators/lms"
	paypalsim "github.com/coursecommerce/commerce/simulators/paypal"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

const (
	jwtSecret = "e2e-secret"
	jwtIssuer = "http://lms.e2e/oauth2"
	lmsKey    = "e2e-lms-key"
)

var (
	temporalAddress   = envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233")
	temporalNamespace string // a fresh namespace per run (see TestMain): one deployment per namespace
	binary            string // the ecommerce binary, for tests that run the worker as a process
	profile           = cybersource.Profile{ProfileID: "e2e-profile", AccessKey: "e2e-access", SecretKey: "e2e-secret-key"}
	restKey           = cybersim.RESTKey{MerchantID: "e2e-merchant", KeyID: "e2e-rest-key", SharedSecret: "ZTJlLXJlc3Qtc2hhcmVkLXNlY3JldA=="}
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	dir, err := os.MkdirTemp("", "ecommerce-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ecommerce")
	if out, err := exec.Command("go", "build", "-o", binary, "../cmd/ecommerce").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build ecommerce: %v\n%s", err, out)
		os.Exit(1)
	}
	// E2E_TEMPORAL_NAMESPACE keeps a run's workflows in a known namespace (e.g. to record
	// histories for the replay tests); a namespace belongs to one deployment, so give a new one.
	temporalNamespace, err = freshNamespace(envOr("E2E_TEMPORAL_NAMESPACE", "e2e-"+randomHex(4)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "create a Temporal namespace at %s (make test starts a dev server: scripts/temporal.sh ensure --headless): %v\n", temporalAddress, err)
		os.Exit(1)
	}
	code := dbtest.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// freshNamespace registers a namespace with the checkout's search attributes. Each run of the
// package is one deployment (one database schema), and a namespace belongs to one deployment.
func freshNamespace(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: temporalAddress, Logger: quietLogger{}})
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := workflows.RegisterNamespace(ctx, c, name); err != nil {
		return "", err
	}
	return name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stackOptions tune one test's stack.
type stackOptions struct {
	paymentTimeout time.Duration
	retryLimit     time.Duration
	externalWorker bool // run the worker as an `ecommerce worker` process (see startWorkerProcess)
	// temporalDownForAPI gives the API a Temporal client that cannot connect (an outage).
	temporalDownForAPI bool
	// temporalAddress and temporalNamespace put the stack on another Temporal server or namespace
	// (default: the package's, temporalAddress and temporalNamespace).
	temporalAddress, temporalNamespace string
	// databaseURL puts the stack on another database, migrated (default: the package's schema).
	databaseURL string
}

// stack is the whole service for one test: API, worker, simulators, on the shared database and
// Temporal server, isolated by a unique partner code (so order numbers and workflow IDs are
// unique) and a unique task queue.
type stack struct {
	t         testing.TB
	opts      stackOptions
	partner   string
	taskQueue string
	// deployment is the test database's deployment identity.
	deployment string
	// checkouts reaches the real Temporal server (the API's may be down, see temporalDownForAPI).
	checkouts *workflows.Checkouts
	refunds   *workflows.Refunds
	metrics   *metrics.Registry
	refunders map[string]payment.Refunder
	store     *db.Store
	pool      *pgxpool.Pool // the store's database, for the tests' own queries
	temporal  client.Client
	apiURL    string
	lms       *lmssim.Simulator
	lmsURL    string
	cs        *cybersim.Simulator
	csURL     string
	pp        *paypalsim.Simulator
	ppURL     string
	worker    worker.Worker
	process   *exec.Cmd
}

func newStack(t testing.TB, opts stackOptions) *stack {
	t.Helper()
	if opts.paymentTimeout == 0 {
		opts.paymentTimeout = 10 * time.Minute
	}
	if opts.retryLimit == 0 {
		opts.retryLimit = time.Minute
	}
	if opts.temporalAddress == "" {
		opts.temporalAddress = temporalAddress
	}
	if opts.temporalNamespace == "" {
		opts.temporalNamespace = temporalNamespace
	}
	s := &stack{t: t, opts: opts, partner: "E" + strings.ToUpper(randomHex(3)), taskQueue: "e2e-" + randomHex(6), pool: dbtest.Pool(t)}
	var err error
	if opts.databaseURL != "" {
		s.pool, err = db.NewPool(context.Background(), opts.databaseURL)
		require.NoError(t, err)
		t.Cleanup(s.pool.Close)
	}
	s.store = db.NewStore(s.pool)
	s.deployment, err = s.store.DeploymentID(context.Background())
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.metrics = metrics.New()
	tc, err := client.Dial(client.Options{HostPort: opts.temporalAddress, Namespace: opts.temporalNamespace, Logger: quietLogger{},
		MetricsHandler: s.metrics.TemporalHandler()})
	require.NoError(t, err, "Temporal must run at %s (make test starts it: scripts/temporal.sh ensure --headless)", opts.temporalAddress)
	t.Cleanup(tc.Close)
	s.temporal = tc

	s.lms = lmssim.New(lmsKey)
	lmsSrv := httptest.NewServer(s.lms)
	t.Cleanup(lmsSrv.Close)
	s.lmsURL = lmsSrv.URL

	apiSrv := httptest.NewUnstartedServer(nil)
	s.apiURL = "http://" + apiSrv.Listener.Addr().String()
	s.cs = cybersim.New(cybersim.Config{Profiles: []cybersource.Profile{profile}, NotifyURL: s.apiURL + "/payment/cybersource/notify/",
		RESTKeys: []cybersim.RESTKey{restKey}})
	csSrv := httptest.NewServer(s.cs)
	t.Cleanup(csSrv.Close)
	s.csURL = csSrv.URL

	s.pp = paypalsim.New(paypalsim.Config{ClientID: "e2e-paypal-id", ClientSecret: "e2e-paypal-secret"})
	ppSrv := httptest.NewServer(s.pp)
	t.Cleanup(ppSrv.Close)
	s.ppURL = ppSrv.URL
	paypalProc := paypal.Processor{Client: paypal.NewClient(paypal.Config{BaseURL: s.ppURL, ClientID: "e2e-paypal-id",
		ClientSecret: "e2e-paypal-secret", Record: func(e paypal.Exchange) error {
			_, err := s.store.RecordProcessorResponse(context.Background(), e.ProcessorResponse())
			return err
		}}), RequestIDPrefix: s.deployment, Backoff: 50 * time.Millisecond}
	s.refunders = map[string]payment.Refunder{
		paypal.Name: paypalProc.Refunder(),
		cybersource.Name: cybersource.Refunder{Client: cybersource.NewRESTClient(cybersource.RESTConfig{BaseURL: s.csURL,
			MerchantID: restKey.MerchantID, KeyID: restKey.KeyID, SharedSecret: restKey.SharedSecret, Record: func(e cybersource.Exchange) error {
				_, err := s.store.RecordProcessorResponse(context.Background(), e.ProcessorResponse())
				return err
			}})},
	}
	s.refunds = &workflows.Refunds{Client: tc, TaskQueue: s.taskQueue, RetryLimit: opts.retryLimit, Deployment: s.deployment}

	verifier, err := auth.NewVerifier(jwtSecret, []string{jwtIssuer})
	require.NoError(t, err)
	proc := cybersource.Processor{Config: cybersource.Config{Profile: profile, PaymentPageURL: s.csURL + "/pay"}, PublicURL: s.apiURL}
	s.checkouts = &workflows.Checkouts{Client: tc, TaskQueue: s.taskQueue, PaymentTimeout: opts.paymentTimeout,
		FulfillmentRetryLimit: opts.retryLimit, Deployment: s.deployment}
	apiCheckouts := s.checkouts
	if opts.temporalDownForAPI {
		down, err := newDownClient()
		require.NoError(t, err)
		t.Cleanup(down.Close)
		c := *s.checkouts
		c.Client = down
		apiCheckouts = &c
	}
	// Every exchange with the API (the tests', the simulators', the browsers') is checked against
	// docs/openapi.yaml; benchmarks are not.
	apiSrv.Config.Handler = openapitest.Handler(t, api.NewHandler(api.Config{
		Store: s.store, Verifier: verifier, PartnerShortCode: s.partner, Logger: logger, PublicURL: s.apiURL,
		Checkouts:  apiCheckouts,
		Processors: []api.PaymentProcessor{proc}, CyberSource: proc, PayPal: paypalProc, Refunds: s.refunds, Metrics: s.metrics,
		CORSOrigins: []string{"http://127.0.0.1:1998"}, LMSURL: s.lmsURL,
	}))
	apiSrv.Start()
	t.Cleanup(apiSrv.Close)

	if opts.externalWorker {
		s.startWorkerProcess()
	} else {
		s.startWorker()
	}
	return s
}

// newDownClient is a Temporal client of an address where nothing listens: an outage.
func newDownClient() (client.Client, error) {
	return client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Namespace: temporalNamespace, Logger: quietLogger{},
		ConnectionOptions: client.ConnectionOptions{GetSystemInfoTimeout: time.Second}})
}

// startWorker runs the worker in this process until the test ends (or stopWorker).
func (s *stack) startWorker() {
	s.t.Helper()
	w := worker.New(s.temporal, s.taskQueue, worker.Options{})
	workflows.Register(w, &activities.Activities{Deployment: s.deployment, Store: s.store, LMS: lms.NewClient(s.lmsURL, lmsKey),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Refunders: s.refunders})
	require.NoError(s.t, w.Start())
	s.worker = w
	s.t.Cleanup(func() {
		if s.worker != nil {
			s.worker.Stop()
		}
	})
}

// startWorkerProcess runs `ecommerce worker` as a separate process on this stack's task queue.
func (s *stack) startWorkerProcess() {
	s.t.Helper()
	databaseURL := s.opts.databaseURL
	if databaseURL == "" {
		databaseURL = dbtest.URL(s.t)
	}
	cmd := exec.Command(binary, "worker")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+databaseURL, "TEMPORAL_ADDRESS="+s.opts.temporalAddress, "TEMPORAL_NAMESPACE="+s.opts.temporalNamespace,
		"TEMPORAL_TASK_QUEUE="+s.taskQueue, "PARTNER_SHORT_CODE="+s.partner, "LMS_URL="+s.lmsURL, "LMS_API_KEY="+lmsKey,
		"CYBERSOURCE_REST_URL="+s.csURL, "CYBERSOURCE_MERCHANT_ID="+restKey.MerchantID, "CYBERSOURCE_REST_KEY_ID="+restKey.KeyID,
		"CYBERSOURCE_REST_SHARED_SECRET="+restKey.SharedSecret, "PAYPAL_API_URL="+s.ppURL, "PAYPAL_CLIENT_ID=e2e-paypal-id",
		"PAYPAL_CLIENT_SECRET=e2e-paypal-secret", "METRICS_ADDR=127.0.0.1:0",
		"LOG_LEVEL=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(s.t, cmd.Start())
	s.process = cmd
	s.t.Cleanup(func() {
		if s.process != nil {
			_ = s.process.Process.Kill()
			_ = s.process.Wait()
		}
		if s.t.Failed() {
			s.t.Logf("worker process output:\n%s", logs.String())
		}
	})
}

// killWorkerProcess kills the worker process with SIGKILL, as a crash would.
func (s *stack) killWorkerProcess() {
	s.t.Helper()
	require.NoError(s.t, s.process.Process.Kill())
	_ = s.process.Wait()
	s.process = nil
}

// token mints a JWT for username.
func (s *stack) token(username string, staff bool) string {
	s.t.Helper()
	tok, err := auth.Mint(jwtSecret, auth.TokenOptions{Username: username, Email: username + "@example.com", Admin: staff, Issuer: jwtIssuer})
	require.NoError(s.t, err)
	return tok
}

// call sends a JSON request to the API and decodes a JSON answer into out (when not nil).
func (s *stack) call(method, path, token string, body any, out any) int {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(s.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.apiURL+path, r)
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "JWT "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	if out != nil && len(raw) > 0 {
		require.NoError(s.t, json.Unmarshal(raw, out), string(raw))
	}
	return resp.StatusCode
}

// publishSeat publishes a course with a verified seat at price and returns the course id and SKU.
func (s *stack) publishSeat(price string) (string, string) {
	s.t.Helper()
	id := "course-v1:E2E+" + randomHex(4) + "+2026"
	var out struct {
		Products []struct {
			PartnerSKU string `json:"partner_sku"`
		} `json:"products"`
	}
	status := s.call("POST", "/api/v2/publication/", s.token("e2e-staff", true), map[string]any{
		"id": id, "name": "E2E " + id,
		"products": []any{map[string]any{"product_class": "Seat", "price": price, "attribute_values": []any{
			map[string]any{"name": "certificate_type", "value": "verified"},
			map[string]any{"name": "id_verification_required", "value": true}}}},
	}, &out)
	require.Equal(s.t, http.StatusCreated, status)
	return id, out.Products[0].PartnerSKU
}

// basketResponse is the API's answer to POST /api/v2/baskets/.
type basketResponse struct {
	ID          int64                    `json:"id"`
	Order       *struct{ Number string } `json:"order"`
	PaymentData *struct {
		PaymentProcessorName string            `json:"payment_processor_name"`
		PaymentFormData      map[string]string `json:"payment_form_data"`
		PaymentPageURL       string            `json:"payment_page_url"`
	} `json:"payment_data"`
}

// checkout puts the SKUs in the user's basket and starts its checkout.
func (s *stack) checkout(user string, skus ...string) basketResponse {
	s.t.Helper()
	products := []any{}
	for _, sku := range skus {
		products = append(products, map[string]any{"sku": sku})
	}
	var out basketResponse
	status := s.call("POST", "/api/v2/baskets/", s.token(user, false), map[string]any{"products": products, "checkout": true}, &out)
	require.Equal(s.t, http.StatusOK, status)
	return out
}

func (s *stack) orderNumber(b basketResponse) string {
	return commerce.OrderNumber(s.partner, b.ID)
}

// pay pays on the hosted page (the simulator notifies the API server to server) and then
// follows the browser's auto-submitted form to the redirect endpoint; it returns the redirect.
func (s *stack) pay(b basketResponse, action string) (cybersim.Result, *http.Response) {
	s.t.Helper()
	require.NotNil(s.t, b.PaymentData, "the checkout answered no payment data")
	res, err := s.cs.Pay(context.Background(), b.PaymentData.PaymentFormData, action)
	require.NoError(s.t, err)
	return res, s.postReply(res.ReplyURL, res.Reply)
}

// postReply posts a signed reply as the browser would, without following redirects.
func (s *stack) postReply(target string, reply map[string]string) *http.Response {
	s.t.Helper()
	form := url.Values{}
	for k, v := range reply {
		form.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(target, form)
	require.NoError(s.t, err)
	resp.Body.Close()
	return resp
}

// orderResponse is the part of an order the tests read.
type orderResponse struct {
	Number string `json:"number"`
	Status string `json:"status"`
	Lines  []struct {
		Status string `json:"status"`
	} `json:"lines"`
}

// waitForOrder polls the order until it has the wanted status.
func (s *stack) waitForOrder(user, number, status string) orderResponse {
	s.t.Helper()
	var o orderResponse
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		o = orderResponse{}
		code := s.call("GET", "/api/v2/orders/"+number+"/", s.token(user, false), nil, &o)
		assert.Equal(c, http.StatusOK, code)
		assert.Equal(c, status, o.Status)
	}, 45*time.Second, 100*time.Millisecond)
	return o
}

// status queries the checkout workflow.
func (s *stack) status(number string) workflows.Status {
	s.t.Helper()
	v, err := s.temporal.QueryWorkflow(context.Background(), workflows.CheckoutWorkflowID(number), "", workflows.QueryStatus)
	require.NoError(s.t, err)
	var st workflows.Status
	require.NoError(s.t, v.Get(&st))
	return st
}

// waitForState waits until the checkout's status query reports state.
func (s *stack) waitForState(number string, state commerce.CheckoutStatus) workflows.Status {
	s.t.Helper()
	var st workflows.Status
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		v, err := s.temporal.QueryWorkflow(context.Background(), workflows.CheckoutWorkflowID(number), "", workflows.QueryStatus)
		if !assert.NoError(c, err) {
			return
		}
		assert.NoError(c, v.Get(&st))
		assert.Equal(c, state, st.State)
	}, 45*time.Second, 100*time.Millisecond)
	return st
}

// count runs a counting query on the test schema.
func (s *stack) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	require.NoError(s.t, s.pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// quietLogger drops the Temporal client's logs.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
