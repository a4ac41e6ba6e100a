package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/lms"
	"github.com/coursecommerce/commerce/metrics"
	"github.com/coursecommerce/commerce/metrics/metricstest"
	lmssim "github.com/coursecommerce/commerce/simulators/lms"
	"github.com/stretchr/testify/require"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestWorkerMetricsListener(t *testing.T) {
	t.Parallel()
	reg := metrics.New()
	reg.TemporalHandler().WithTags(map[string]string{"state": "Fulfilled"}).Counter(metrics.CheckoutOutcomes).Inc(1)
	stop, addr, err := serveMetrics("127.0.0.1:0", reg, discardLogger())
	require.NoError(t, err)

	f := metricstest.ScrapeURL(t, "http://"+addr+"/metrics")
	got, ok := f.Value(metrics.CheckoutOutcomes+"_total", map[string]string{"state": "Fulfilled"})
	require.True(t, ok && got == 1, "checkout outcomes = %v (%v)", got, ok)
	_, ok = f.Value("go_goroutines", nil)
	require.True(t, ok)
	resp, err := http.Get("http://" + addr + "/other")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "only /metrics is served")

	stop()
	_, err = net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err, "the listener must be closed by stop")
}

func TestWorkerMetricsListenerOffAndBusy(t *testing.T) {
	t.Parallel()
	stop, addr, err := serveMetrics("", metrics.New(), discardLogger())
	require.NoError(t, err)
	require.Empty(t, addr)
	stop()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, _, err = serveMetrics(ln.Addr().String(), metrics.New(), discardLogger())
	require.ErrorContains(t, err, "METRICS_ADDR")
}

func TestMetricsAddrDefault(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9130", c.MetricsAddr)
	c, err = loadConfig(env(map[string]string{"METRICS_ADDR": "0.0.0.0:9999"}))
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:9999", c.MetricsAddr)
}

func TestLMSObserverFeedsTheRegistry(t *testing.T) {
	t.Parallel()
	reg := metrics.New()
	sim := lmssim.New("key")
	ts := httptest.NewServer(sim)
	defer ts.Close()
	client := lms.NewClient(ts.URL, "key", lms.WithObserver(lmsObserver(reg)))
	e := lms.Enrollment{Username: "bob", Mode: "verified", CourseID: "course-v1:Acme+M1+2026", OrderNumber: "EDX-100001", DatePlaced: time.Now()}
	require.NoError(t, client.Enroll(context.Background(), e))
	sim.FailNext(2)
	require.Error(t, client.Enroll(context.Background(), e))
	require.Error(t, client.Enroll(context.Background(), e))

	f := metricstest.Scrape(t, reg.Handler(), "/metrics")
	for result, want := range map[string]float64{"ok": 1, "5xx": 2} {
		got, ok := f.Value(metrics.LMSCalls, map[string]string{"operation": "enroll", "result": result})
		require.True(t, ok && got == want, "%s = %v (%v), want %v", result, got, ok, want)
		got, ok = f.Value(metrics.LMSCallDuration, map[string]string{"operation": "enroll", "result": result})
		require.True(t, ok && got == want, "latency samples of %s = %v (%v), want %v", result, got, ok, want)
	}
}

// TestTemporalClientFeedsSDKMetricsAndHealth dials a Temporal frontend that is not there: the
// health check of /ready/ fails, and the SDK's request metrics reach the default registry.
func TestTemporalClientFeedsSDKMetricsAndHealth(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	c, err := loadConfig(env(map[string]string{"TEMPORAL_ADDRESS": addr, "TEMPORAL_NAMESPACE": "metrics-test"}))
	require.NoError(t, err)
	tc, err := temporalClient(c, discardLogger(), true)
	require.NoError(t, err)
	defer tc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.Error(t, temporalHealth(tc)(ctx))

	f := metricstest.Scrape(t, metrics.Default.Handler(), "/metrics")
	var names []string
	for name := range f {
		if strings.HasPrefix(name, "temporal_") {
			names = append(names, name)
		}
	}
	got, ok := f.Value("temporal_request_failure_total", map[string]string{"operation": "GetSystemInfo", "client_name": "temporal_go", "status_code": "UNAVAILABLE"})
	require.True(t, ok && got >= 1, "temporal_request_failure_total = %v (%v); temporal series: %v %v", got, ok, names, f.Series("temporal_request_failure_total"))
}
