package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
)

// Names of the series (see the package documentation for their labels).
const (
	HTTPRequestDuration   = "ecommerce_http_request_duration_seconds"
	LMSCalls              = "ecommerce_lms_calls_total"
	LMSCallDuration       = "ecommerce_lms_call_duration_seconds"
	ProcessorCalls        = "ecommerce_processor_calls_total"
	ProcessorCallDuration = "ecommerce_processor_call_duration_seconds"
)

// Names the workflows pass to the Temporal SDK's metrics handler, e.g.
// workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"state": "Fulfilled"}).Counter(CheckoutOutcomes).Inc(1).
// They are exposed with _total appended.
const (
	// CheckoutOutcomes counts checkouts by the state they ended in (tag "state").
	CheckoutOutcomes = "ecommerce_checkout_outcomes"
	// RefundOutcomes counts refunds by the status they ended in (tag "status").
	RefundOutcomes = "ecommerce_refund_outcomes"
)

// UnmatchedRoute is the route label of a request that no route matched.
const UnmatchedRoute = "unmatched"

// latencyBuckets are the upper bounds, in seconds, of the latency histograms of HTTP requests
// and calls to the LMS and processors.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Registry holds the service's series and the Temporal SDK's. It is safe for concurrent use.
type Registry struct {
	reg           *prometheus.Registry
	httpDuration  *prometheus.HistogramVec
	lmsCalls      *prometheus.CounterVec
	lmsDuration   *prometheus.HistogramVec
	procCalls     *prometheus.CounterVec
	procDurations *prometheus.HistogramVec
	temporal      *temporalCollector
}

// Default is the process's registry: cmd/ecommerce serves it and wires every part to it.
var Default = New()

// New returns a registry with every series of the package documentation, the Go runtime's and
// the process's.
func New() *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: HTTPRequestDuration, Buckets: latencyBuckets,
			Help: "Latency of the API's HTTP requests by method, route template and status class.",
		}, []string{"method", "route", "status_class"}),
		lmsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: LMSCalls, Help: "Calls to the LMS enrollment API by operation and result (ok, 4xx, 5xx, network, timeout, canceled).",
		}, []string{"operation", "result"}),
		lmsDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: LMSCallDuration, Buckets: latencyBuckets,
			Help: "Latency of calls to the LMS enrollment API by operation and result.",
		}, []string{"operation", "result"}),
		procCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ProcessorCalls, Help: "Calls to payment processors' APIs by processor, kind and status class (none: no answer).",
		}, []string{"processor", "kind", "status_class"}),
		procDurations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: ProcessorCallDuration, Buckets: latencyBuckets,
			Help: "Latency of calls to payment processors' APIs by processor, kind and status class.",
		}, []string{"processor", "kind", "status_class"}),
		temporal: newTemporalCollector(),
	}
	r.reg.MustRegister(r.httpDuration, r.lmsCalls, r.lmsDuration, r.procCalls, r.procDurations, r.temporal,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler serves the registry in the Prometheus text format. A series that cannot be gathered
// is left out (and logged by promhttp's error handling) instead of failing the whole page.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Gatherer returns the registry's series, for tests and for pushing them elsewhere.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// TemporalHandler returns the Temporal SDK metrics handler that feeds this registry: give it to
// client.Options.MetricsHandler. Workflows reach it through workflow.GetMetricsHandler(ctx),
// which drops what a replay emits. Counters are exposed with _total appended, timers as
// histograms in seconds with _seconds appended, gauges as they are. Only known tag keys become
// labels (the SDK's and "state", "status", "processor"); others are dropped, and each name
// keeps at most MaxTemporalSeries label sets.
func (r *Registry) TemporalHandler() client.MetricsHandler {
	return &temporalHandler{c: r.temporal}
}

// ObserveHTTPRequest records one API request: its method, route template (UnmatchedRoute or ""
// when none matched), answered status and duration.
func (r *Registry) ObserveHTTPRequest(method, route string, status int, d time.Duration) {
	if route == "" {
		route = UnmatchedRoute
	}
	r.httpDuration.WithLabelValues(methodLabel(method), route, StatusClass(status)).Observe(d.Seconds())
}

// ObserveLMSCall records one call to the LMS enrollment API (see lms.Call): operation is enroll
// or unenroll, result one of ok, 4xx, 5xx, network, timeout and canceled.
func (r *Registry) ObserveLMSCall(operation, result string, d time.Duration) {
	r.lmsCalls.WithLabelValues(operation, result).Inc()
	r.lmsDuration.WithLabelValues(operation, result).Observe(d.Seconds())
}

// ObserveProcessorCall records one call to a payment processor's API: processor such as
// "paypal", kind such as "capture-order" (a constant of the processor's package, never an id),
// the answer's HTTP status (0 when none arrived) and how long it took.
func (r *Registry) ObserveProcessorCall(processor, kind string, status int, d time.Duration) {
	class := StatusClass(status)
	r.procCalls.WithLabelValues(processor, kind, class).Inc()
	r.procDurations.WithLabelValues(processor, kind, class).Observe(d.Seconds())
}

// ObserveProcessorCall records one call to a payment processor's API in Default; see
// Registry.ObserveProcessorCall.
func ObserveProcessorCall(processor, kind string, status int, d time.Duration) {
	Default.ObserveProcessorCall(processor, kind, status, d)
}

// StatusClass names the class of an HTTP status: "2xx" for 200 to 299 and so on, "none" for 0
// (no answer) and "other" for anything outside 100 to 599.
func StatusClass(status int) string {
	switch {
	case status == 0:
		return "none"
	case status < 100 || status > 599:
		return "other"
	default:
		return strconv.Itoa(status/100) + "xx"
	}
}

// methodLabel bounds the method label to the methods the API knows.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	default:
		return "other"
	}
}
