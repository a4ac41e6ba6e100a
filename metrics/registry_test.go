package metrics_test

import (
	"testing"
	"time"

	"github.com/coursecommerce/commerce/metrics"
	"github.com/coursecommerce/commerce/metrics/metricstest"
)

// requireValue fails unless the series of name matching labels add up to want.
func requireValue(t *testing.T, f metricstest.Families, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := f.Value(name, labels)
	if !ok || got != want {
		t.Fatalf("%s%v = %v (found %v), want %v; series: %v", name, labels, got, ok, want, f.Series(name))
	}
}

func TestHTTPRequestsAreLabelledWithBoundedValues(t *testing.T) {
	t.Parallel()
	r := metrics.New()
	r.ObserveHTTPRequest("GET", "/api/v2/orders/:number/", 200, 30*time.Millisecond)
	r.ObserveHTTPRequest("GET", "/api/v2/orders/:number/", 404, time.Millisecond)
	r.ObserveHTTPRequest("GET", "/api/v2/orders/:number/", 204, time.Millisecond)
	r.ObserveHTTPRequest("BREW", "", 404, time.Millisecond)
	r.ObserveHTTPRequest("POST", "/payment/cybersource/notify/", 503, 2*time.Second)

	f := metricstest.Scrape(t, r.Handler(), "/metrics")

	name := metrics.HTTPRequestDuration
	requireValue(t, f, name, map[string]string{"method": "GET", "route": "/api/v2/orders/:number/", "status_class": "2xx"}, 2)
	requireValue(t, f, name, map[string]string{"method": "GET", "route": "/api/v2/orders/:number/", "status_class": "4xx"}, 1)
	requireValue(t, f, name, map[string]string{"method": "other", "route": metrics.UnmatchedRoute, "status_class": "4xx"}, 1)
	count, sum, ok := f.Histogram(name, map[string]string{"method": "POST", "status_class": "5xx"})
	if !ok || count != 1 || sum != 2 {
		t.Fatalf("5xx histogram = %d, %v (%v); want 1 sample of 2 s", count, sum, ok)
	}
	if got := len(f.Series(name)); got != 4 {
		t.Fatalf("%d series, want 4: %v", got, f.Series(name))
	}
}

func TestLMSAndProcessorCalls(t *testing.T) {
	t.Parallel()
	r := metrics.New()
	r.ObserveLMSCall("enroll", "ok", 10*time.Millisecond)
	r.ObserveLMSCall("enroll", "5xx", 10*time.Millisecond)
	r.ObserveLMSCall("enroll", "5xx", 10*time.Millisecond)
	r.ObserveLMSCall("unenroll", "timeout", 7*time.Second)
	r.ObserveProcessorCall("paypal", "capture-order", 201, 300*time.Millisecond)
	r.ObserveProcessorCall("paypal", "capture-order", 0, 10*time.Second)
	r.ObserveProcessorCall("cybersource", "refund", 400, 100*time.Millisecond)

	f := metricstest.Scrape(t, r.Handler(), "/metrics")

	requireValue(t, f, metrics.LMSCalls, map[string]string{"operation": "enroll", "result": "ok"}, 1)
	requireValue(t, f, metrics.LMSCalls, map[string]string{"operation": "enroll", "result": "5xx"}, 2)
	requireValue(t, f, metrics.LMSCallDuration, map[string]string{"operation": "unenroll", "result": "timeout"}, 1)
	requireValue(t, f, metrics.ProcessorCalls, map[string]string{"processor": "paypal", "kind": "capture-order", "status_class": "2xx"}, 1)
	requireValue(t, f, metrics.ProcessorCalls, map[string]string{"processor": "paypal", "kind": "capture-order", "status_class": "none"}, 1)
	requireValue(t, f, metrics.ProcessorCallDuration, map[string]string{"processor": "cybersource", "kind": "refund", "status_class": "4xx"}, 1)
	if _, sum, ok := f.Histogram(metrics.ProcessorCallDuration, map[string]string{"status_class": "none"}); !ok || sum != 10 {
		t.Fatalf("no-answer latency sum = %v (%v), want 10 s", sum, ok)
	}
}

func TestPackageObserveProcessorCallFeedsDefault(t *testing.T) {
	t.Parallel()
	labels := map[string]string{"processor": "test-processor", "kind": "test-kind", "status_class": "5xx"}
	before, _ := metricstest.Scrape(t, metrics.Default.Handler(), "/metrics").Value(metrics.ProcessorCalls, labels)

	metrics.ObserveProcessorCall("test-processor", "test-kind", 502, time.Second)

	requireValue(t, metricstest.Scrape(t, metrics.Default.Handler(), "/metrics"), metrics.ProcessorCalls, labels, before+1)
}

func TestRuntimeSeriesAreServed(t *testing.T) {
	t.Parallel()
	f := metricstest.Scrape(t, metrics.New().Handler(), "/metrics")
	for _, name := range []string{"go_goroutines", "process_start_time_seconds", metrics.TemporalDropped} {
		if _, ok := f.Value(name, nil); !ok {
			t.Errorf("%s is missing", name)
		}
	}
}

func TestStatusClass(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]string{0: "none", 101: "1xx", 200: "2xx", 302: "3xx", 404: "4xx", 499: "4xx", 500: "5xx", 599: "5xx", 600: "other", -1: "other", 42: "other"} {
		if got := metrics.StatusClass(status); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", status, got, want)
		}
	}
}
