package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/auth"
	"github.com/stretchr/testify/require"
)

// paymentPage is the origin of edX's payment page in development.
const paymentPage = "http://localhost:1998"

// corsHandler is the harness's API allowing the payment page's origin.
func corsHandler(h *harness) http.Handler {
	return h.withConfig(func(c *api.Config) { c.CORSOrigins = []string{paymentPage, "https://payments.example.com"} })
}

// preflight is the OPTIONS request a browser sends before a credentialed cross-origin call.
func preflight(path, origin, method string) *http.Request {
	return browserRequest("OPTIONS", path, nil, "",
		"Origin", origin, "Access-Control-Request-Method", method,
		"Access-Control-Request-Headers", "use-jwt-cookie,x-csrftoken,content-type")
}

// requireCORSAllowed checks the headers that let origin read a credentialed answer.
func requireCORSAllowed(t *testing.T, header http.Header, origin string) {
	t.Helper()
	require.Equal(t, origin, header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, header.Values("Vary"), "Origin")
}

// requireNoCORS checks that no header lets a page read the answer.
func requireNoCORS(t *testing.T, header http.Header) {
	t.Helper()
	for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
		require.Empty(t, header.Values(name), name)
	}
}

func TestCORSPreflightsAreAnsweredBeforeAuthenticationAndRouting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	handler := corsHandler(h)
	expired, err := auth.Mint(testSecret, auth.TokenOptions{Username: "old", Issuer: testIssuer, Now: time.Now().Add(-2 * time.Hour), TTL: time.Hour})
	require.NoError(t, err)
	for _, tc := range []struct{ path, method string }{
		{"/bff/payment/v0/payment/", "GET"},
		{"/bff/payment/v0/capture-context", "GET"},
		{"/bff/payment/v0/capture-context/", "GET"},
		{"/bff/payment/v0/vouchers/", "POST"},
		{"/bff/payment/v0/vouchers/5", "DELETE"},
		{"/bff/payment/v0/quantity/", "POST"},
		{"/api/v2/checkout/", "POST"},
		{"/api/v2/baskets", "POST"},
		{"/api/v2/stockrecords/ABC/", "PATCH"},
		{"/api/v2/publication/course-v1:a+b+c", "PUT"},
		{"/csrf/api/v1/token", "GET"},
		{"/payment/cybersource/authorize/", "POST"},
		{"/no/such/path", "GET"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := preflight(tc.path, paymentPage, tc.method)
			for _, c := range jwtCookies(t, expired) {
				r.AddCookie(c) // a stale login must not turn a preflight into a 401
			}
			rec := serveHandler(handler, r)
			require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			requireCORSAllowed(t, rec.Header(), paymentPage)
			methods := rec.Header().Get("Access-Control-Allow-Methods")
			for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
				require.Contains(t, methods, m)
			}
			allowed := strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers"))
			for _, name := range []string{"use-jwt-cookie", "x-csrftoken", "content-type", "authorization"} {
				require.Contains(t, allowed, name)
			}
			require.Empty(t, rec.Header().Get("Location"), "never a redirect: browsers refuse them on preflights")
		})
	}
	t.Run("TheOtherConfiguredOriginToo", func(t *testing.T) {
		rec := serveHandler(handler, preflight("/bff/payment/v0/payment/", "https://payments.example.com", "GET"))
		require.Equal(t, http.StatusNoContent, rec.Code)
		requireCORSAllowed(t, rec.Header(), "https://payments.example.com")
	})
}

func TestCORSRefusesOtherOrigins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	handler := corsHandler(h)
	for _, origin := range []string{"http://evil.test", "null", "http://localhost:1998.evil.test", "http://localhost:19980", "https://localhost:1998", "http://LOCALHOST:1998"} {
		t.Run(origin, func(t *testing.T) {
			rec := serveHandler(handler, preflight("/bff/payment/v0/payment/", origin, "GET"))
			require.Equal(t, http.StatusForbidden, rec.Code)
			requireNoCORS(t, rec.Header())
			rec = serveHandler(handler, browserRequest("GET", "/api/v2/courses/", nil, "", "Origin", origin))
			require.Equal(t, http.StatusOK, rec.Code, "served, but the browser keeps the answer from the page")
			requireNoCORS(t, rec.Header())
			require.Contains(t, rec.Header().Values("Vary"), "Origin")
		})
	}
}

func TestCORSHeadersOnAnswersToAllowedOrigins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	handler := corsHandler(h)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v2/courses/", http.StatusOK},
		{"GET", "/no/such/path", http.StatusNotFound},
		{"GET", "/api/v2/orders/", http.StatusUnauthorized},
	} {
		rec := serveHandler(handler, browserRequest(tc.method, tc.path, nil, "", "Origin", paymentPage))
		require.Equal(t, tc.status, rec.Code, tc.path)
		requireCORSAllowed(t, rec.Header(), paymentPage)
		require.Empty(t, rec.Header().Get("Access-Control-Allow-Methods"), "only preflights list methods")
	}
	t.Run("ARequestWithoutOriginGetsNoCORSHeaders", func(t *testing.T) {
		rec := serveHandler(handler, browserRequest("GET", "/api/v2/courses/", nil, ""))
		require.Equal(t, http.StatusOK, rec.Code)
		requireNoCORS(t, rec.Header())
	})
	t.Run("AnOPTIONSWithoutRequestMethodIsNoPreflight", func(t *testing.T) {
		rec := serveHandler(handler, browserRequest("OPTIONS", "/api/v2/courses/", nil, "", "Origin", paymentPage))
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code, "routed as usual")
		requireCORSAllowed(t, rec.Header(), paymentPage)
	})
}

func TestNoCORSWithoutOrigins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := serve(h, preflight("/api/v2/checkout/", paymentPage, "POST"))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code, "without CORS_ORIGINS an OPTIONS is routed like any method")
	requireNoCORS(t, rec.Header())
	rec = serve(h, browserRequest("GET", "/api/v2/courses/", nil, "", "Origin", paymentPage))
	requireNoCORS(t, rec.Header())
}

func TestValidateOrigin(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"http://localhost:1998", "https://payments.example.com", "http://127.0.0.1:1998", "http://[::1]:1998"} {
		require.NoError(t, api.ValidateOrigin(ok), ok)
	}
	for _, bad := range []string{"", "*", "null", "localhost:1998", "ftp://x.test", "http://", "http://x.test/", "http://x.test/path",
		"http://user@x.test", "http://*.x.test", "http://X.test", "http://x.test:80", "https://x.test:443", "http://x.test?", "http://x.test#f"} {
		require.Error(t, api.ValidateOrigin(bad), bad)
	}
}
