package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/metrics"
	"github.com/coursecommerce/commerce/metrics/metricstest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// observedHandler is the API over store with metrics m and the Temporal check temporal.
func observedHandler(t *testing.T, store api.Store, m api.Metrics, temporal func(context.Context) error) http.Handler {
	t.Helper()
	verifier, err := auth.NewVerifier(testSecret, []string{testIssuer})
	require.NoError(t, err)
	return api.NewHandler(api.Config{
		Store: store, Verifier: verifier, PartnerShortCode: "EDX", PublicURL: "http://shop.test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m, TemporalHealth: temporal,
	})
}

func TestMetricsPageShowsRouteTemplatesNotRawPaths(t *testing.T) {
	t.Parallel()
	reg := metrics.New()
	h := &harness{t: t, handler: observedHandler(t, dbtest.Store(t), reg, nil)}
	tok := h.token("metrics-alice", false)
	requireStatus(t, h.do("GET", "/api/v2/orders/EDX-987654/", tok, nil), http.StatusNotFound)
	requireStatus(t, h.do("GET", "/api/v2/orders/EDX-987655/", tok, nil), http.StatusNotFound)
	requireStatus(t, h.do("GET", "/api/v2/products/424242/", "", nil), http.StatusNotFound)
	requireStatus(t, h.do("GET", "/api/v2/courses/", "", nil), http.StatusOK)
	requireStatus(t, h.do("GET", "/health/", "", nil), http.StatusOK)
	requireStatus(t, h.do("GET", "/no/such/page-31337", "", nil), http.StatusNotFound)
	requireStatus(t, h.do("POST", "/api/v2/orders/", tok, "{}"), http.StatusMethodNotAllowed)
	requireStatus(t, h.do("GET", "/api/v2/orders/", "bad-token", nil), http.StatusUnauthorized)

	f := metricstest.Scrape(t, h.handler, "/metrics")

	name := metrics.HTTPRequestDuration
	requireSeries := func(labels map[string]string, want float64) {
		t.Helper()
		got, ok := f.Value(name, labels)
		require.True(t, ok && got == want, "%v = %v (found %v), want %v; series: %v", labels, got, ok, want, f.Series(name))
	}
	requireSeries(map[string]string{"method": "GET", "route": "/api/v2/orders/:number/", "status_class": "4xx"}, 2)
	requireSeries(map[string]string{"method": "GET", "route": "/api/v2/products/:id/", "status_class": "4xx"}, 1)
	requireSeries(map[string]string{"method": "GET", "route": "/api/v2/courses/*course_path", "status_class": "2xx"}, 1)
	requireSeries(map[string]string{"method": "GET", "route": "/health/", "status_class": "2xx"}, 1)
	requireSeries(map[string]string{"method": "GET", "route": "/api/v2/orders/", "status_class": "4xx"}, 1)
	// No route matched: the unknown page and the wrong method on a known path.
	requireSeries(map[string]string{"route": metrics.UnmatchedRoute, "status_class": "4xx"}, 2)
	for _, labels := range f.Series(name) {
		for _, raw := range []string{"987654", "987655", "424242", "31337"} {
			require.NotContains(t, labels["route"], raw, "a raw path became a label: %v", labels)
		}
	}
	// The scrape itself is recorded too, under its template.
	f = metricstest.Scrape(t, h.handler, "/metrics")
	requireSeries = func(labels map[string]string, want float64) {
		t.Helper()
		got, ok := f.Value(name, labels)
		require.True(t, ok && got == want, "%v = %v (found %v), want %v", labels, got, ok, want)
	}
	requireSeries(map[string]string{"method": "GET", "route": "/metrics", "status_class": "2xx"}, 1)
}

func TestMetricsPageNeedsMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	requireStatus(t, h.do("GET", "/metrics", "", nil), http.StatusNotFound)
}

// goneStore is a store whose database is not there (see db/unavailable_test.go).
func goneStore(t *testing.T) *db.Store {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return db.NewStore(pool)
}

func TestReady(t *testing.T) {
	t.Parallel()
	up := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	hangs := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	live := dbtest.Store(t)
	tests := []struct {
		name      string
		store     api.Store
		temporal  func(context.Context) error
		want      int
		overall   string
		database  string
		temporalS string
	}{
		{"AllUp", live, up, http.StatusOK, "OK", "OK", "OK"},
		{"TemporalDown", live, down, http.StatusServiceUnavailable, "UNAVAILABLE", "OK", "UNAVAILABLE"},
		{"TemporalHangs", live, hangs, http.StatusServiceUnavailable, "UNAVAILABLE", "OK", "UNAVAILABLE"},
		{"DatabaseDown", goneStore(t), up, http.StatusServiceUnavailable, "UNAVAILABLE", "UNAVAILABLE", "OK"},
		{"BothDown", goneStore(t), down, http.StatusServiceUnavailable, "UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE"},
		{"TemporalNotConfigured", live, nil, http.StatusOK, "OK", "OK", "NOT_CONFIGURED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &harness{t: t, handler: observedHandler(t, tt.store, nil, tt.temporal)}
			start := time.Now()
			body := requireStatus(t, h.do("GET", "/ready/", "", nil), tt.want)
			require.Less(t, time.Since(start), api.ReadyTimeout+5*time.Second, "the checks must be bounded")
			require.Equal(t, map[string]any{"overall_status": tt.overall, "detailed_status": map[string]any{
				"database_status": tt.database, "temporal_status": tt.temporalS}}, body)
			require.False(t, strings.Contains(h.do("GET", "/ready/", "", nil).Body.String(), "refused"), "causes are not answered")
		})
	}
}

func TestHealthStaysLiveness(t *testing.T) {
	t.Parallel()
	// /health/ does not ask Temporal: a Temporal outage leaves the API alive.
	h := &harness{t: t, handler: observedHandler(t, dbtest.Store(t), nil, func(context.Context) error { return errors.New("down") })}
	body := requireStatus(t, h.do("GET", "/health/", "", nil), http.StatusOK)
	require.Equal(t, "OK", body["overall_status"])
}
