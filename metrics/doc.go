// Package metrics holds the service's Prometheus series and serves them in the Prometheus text
// format (GET /metrics on the API's port, and on the worker's METRICS_ADDR).
//
// Series (every label has a bounded set of values):
//
//   - ecommerce_http_request_duration_seconds{method, route, status_class}: histogram of the
//     API's request latencies. route is the route template (Gin's FullPath, such as
//     /api/v2/orders/:number/), "unmatched" for a request no route matched; never the raw path.
//     method is GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or "other"; status_class is 1xx to
//     5xx. Its _count is the request counter.
//   - ecommerce_lms_calls_total{operation, result} and
//     ecommerce_lms_call_duration_seconds{operation, result}: calls to the LMS enrollment API
//     (operation enroll or unenroll; result ok, 4xx, 5xx, network, timeout or canceled).
//   - ecommerce_processor_calls_total{processor, kind, status_class} and
//     ecommerce_processor_call_duration_seconds{processor, kind, status_class}: calls to a
//     payment processor's API (kind such as create-order or refund-capture; status_class 2xx to
//     5xx, or "none" when no answer arrived).
//   - ecommerce_checkout_outcomes_total{state} and ecommerce_refund_outcomes_total{status}:
//     emitted by the workflows through the Temporal SDK's metrics handler (see TemporalHandler),
//     which is replay-safe.
//   - temporal_*: the Temporal SDK's own metrics, from the API's and the worker's clients
//     (counters get _total, timers become histograms in seconds named with _seconds).
//   - go_* and process_*: the Go runtime and the process.
//
// A process has one Registry, Default, so that any part of it (a processor's Record hook, the
// LMS client's observer, the Temporal clients) feeds the same /metrics page.
package metrics
