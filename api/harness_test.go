package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/internal/openapitest"
	"github.com/coursecommerce/commerce/payment/cybersource"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

const (
	testSecret = "api-test-secret"
	testIssuer = "http://lms.test/oauth2"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(dbtest.Run(m))
}

// harness is the API on the package's real PostgreSQL schema. Checkout workflows are replaced
// by a recording fake (the e2e package runs them on a real Temporal server).
type harness struct {
	t *testing.T
	// handler is the API wrapped by openapitest.Handler: every exchange is checked against
	// docs/openapi.yaml.
	handler http.Handler
	// engine is the API's router itself.
	engine    *gin.Engine
	store     *db.Store
	checkouts *fakeCheckouts
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	verifier, err := auth.NewVerifier(testSecret, []string{testIssuer})
	require.NoError(t, err)
	store := dbtest.Store(t)
	fc := &fakeCheckouts{}
	proc := cybersource.Processor{Config: cybersource.Config{Profile: testProfile, PaymentPageURL: "http://pay.test/pay"}, PublicURL: "http://shop.test"}
	engine := api.NewHandler(api.Config{
		Store: store, Verifier: verifier, PartnerShortCode: "EDX",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		PublicURL: "http://shop.test", Checkouts: fc, Processors: []api.PaymentProcessor{proc}, CyberSource: proc,
	})
	return &harness{t: t, handler: openapitest.Handler(t, engine), engine: engine.(*gin.Engine), store: store, checkouts: fc}
}

// withStore builds the same API over another store.
func (h *harness) withStore(store api.Store) http.Handler {
	verifier, err := auth.NewVerifier(testSecret, []string{testIssuer})
	require.NoError(h.t, err)
	proc := cybersource.Processor{Config: cybersource.Config{Profile: testProfile, PaymentPageURL: "http://pay.test/pay"}, PublicURL: "http://shop.test"}
	return openapitest.Handler(h.t, api.NewHandler(api.Config{
		Store: store, Verifier: verifier, PartnerShortCode: "EDX", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PublicURL: "http://shop.test", Checkouts: h.checkouts, Processors: []api.PaymentProcessor{proc}, CyberSource: proc,
	}))
}

var testProfile = cybersource.Profile{ProfileID: "api-profile", AccessKey: "api-access", SecretKey: "api-secret"}

// fakeCheckouts records what the API asks of the checkout workflows; err makes every call fail.
type fakeCheckouts struct {
	mu       sync.Mutex
	err      error
	started  []commerce.Checkout
	notified []commerce.PaymentNotification
	retried  []string
}

func (f *fakeCheckouts) Start(_ context.Context, c commerce.Checkout) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.started = append(f.started, c)
	return nil
}

func (f *fakeCheckouts) NotifyPayment(_ context.Context, _ commerce.Checkout, n commerce.PaymentNotification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.notified = append(f.notified, n)
	return nil
}

func (f *fakeCheckouts) RetryFulfillment(_ context.Context, c commerce.Checkout, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.retried = append(f.retried, c.OrderNumber)
	return nil
}

func (f *fakeCheckouts) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeCheckouts) counts() (started, notified, retried int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.started), len(f.notified), len(f.retried)
}

// token mints a token for username (staff when admin).
func (h *harness) token(username string, admin bool) string {
	h.t.Helper()
	tok, err := auth.Mint(testSecret, auth.TokenOptions{Username: username, Email: username + "@example.com", Admin: admin, Issuer: testIssuer})
	require.NoError(h.t, err)
	return tok
}

// do sends a request; body is sent as is when it is a string, else as JSON.
func (h *harness) do(method, path, token string, body any) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.doWith(method, path, token, body, nil)
}

// doWith is do with more request headers.
func (h *harness) doWith(method, path, token string, body any, headers map[string]string) *httptest.ResponseRecorder {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "JWT "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	return rec
}

// jsonBody decodes the response as a JSON object and checks the content type.
func jsonBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Contains(t, rec.Header().Get("Content-Type"), "application/json", rec.Body.String())
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

// requireStatus checks the status and returns the JSON body.
func requireStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) map[string]any {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	return jsonBody(t, rec)
}

// seatsBody is a publication body with an audit and a verified seat.
func seatsBody(id, name, verifiedPrice string) map[string]any {
	return map[string]any{
		"id": id, "name": name,
		"products": []any{
			map[string]any{"product_class": "Seat", "price": "0.00", "attribute_values": []any{
				map[string]any{"name": "id_verification_required", "value": false}}},
			map[string]any{"product_class": "Seat", "price": verifiedPrice, "attribute_values": []any{
				map[string]any{"name": "certificate_type", "value": "verified"},
				map[string]any{"name": "id_verification_required", "value": true}}},
		},
	}
}

// publish creates a course with audit and verified seats and returns the SKUs by mode.
func (h *harness) publish(id, verifiedPrice string) map[string]string {
	h.t.Helper()
	rec := h.do("POST", "/api/v2/publication/", h.token("staff-publisher", true), seatsBody(id, "Course "+id, verifiedPrice))
	body := requireStatus(h.t, rec, http.StatusCreated)
	skus := map[string]string{}
	for _, p := range body["products"].([]any) {
		p := p.(map[string]any)
		mode := "audit"
		for _, a := range p["attribute_values"].([]any) {
			a := a.(map[string]any)
			if a["name"] == "certificate_type" {
				mode = a["value"].(string)
			}
		}
		skus[mode] = p["partner_sku"].(string)
	}
	return skus
}

// count runs a counting query on the package's schema.
func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	require.NoError(h.t, dbtest.Pool(h.t).QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

func httptestRequest(method, path, authorization string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

func serve(h *harness, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, r)
	return rec
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
