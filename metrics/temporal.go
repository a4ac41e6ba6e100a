package metrics

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// MaxTemporalSeries bounds how many label sets one name emitted through TemporalHandler may
// have; what would make more is dropped and counted in TemporalDropped.
const MaxTemporalSeries = 500

// TemporalDropped counts emissions through TemporalHandler dropped by MaxTemporalSeries.
const TemporalDropped = "ecommerce_temporal_metrics_dropped_total"

// temporalTagKeys are the tag keys that become labels: the Temporal SDK's (bounded by the
// service's namespaces, task queues, workflow and activity types) and the workflows' own.
var temporalTagKeys = map[string]bool{
	"namespace": true, "client_name": true, "poller_type": true, "worker_type": true,
	"workflow_type": true, "activity_type": true, "nexus_service": true, "nexus_operation": true,
	"failure_reason": true, "task_queue": true, "operation": true, "cause": true, "status_code": true,
	"state": true, "status": true, "processor": true,
}

// temporalHelp is the help text of the names the workflows emit; other names get a generic one.
var temporalHelp = map[string]string{
	CheckoutOutcomes + "_total": "Checkouts by the state they ended in (emitted by CheckoutWorkflow).",
	RefundOutcomes + "_total":   "Refunds by the status they ended in (emitted by RefundWorkflow).",
}

// timerBuckets are the upper bounds, in seconds, of the histograms of Temporal timers: from
// task latencies (milliseconds) to workflows' end-to-end latency (hours).
var timerBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400}

type seriesKind int

const (
	counterKind seriesKind = iota
	gaugeKind
	timerKind
)

// temporalSeries is one name and label set; it is the SDK's Counter, Gauge or Timer.
type temporalSeries struct {
	kind   seriesKind
	name   string
	labels map[string]string

	mu      sync.Mutex
	value   float64  // counter or gauge
	buckets []uint64 // timer: observations per bucket (not cumulative), the last one above all bounds
	count   uint64
	sum     float64
}

// Inc adds d to a counter; a counter never goes down, so d <= 0 is ignored.
func (s *temporalSeries) Inc(d int64) {
	if d <= 0 {
		return
	}
	s.mu.Lock()
	s.value += float64(d)
	s.mu.Unlock()
}

// Update sets a gauge.
func (s *temporalSeries) Update(v float64) {
	s.mu.Lock()
	s.value = v
	s.mu.Unlock()
}

// Record observes a duration in a timer's histogram.
func (s *temporalSeries) Record(d time.Duration) {
	secs := d.Seconds()
	i := sort.SearchFloat64s(timerBuckets, secs)
	s.mu.Lock()
	s.buckets[i]++
	s.count++
	s.sum += secs
	s.mu.Unlock()
}

// metric returns the series' current value with the label values of keys.
func (s *temporalSeries) metric(desc *prometheus.Desc, keys []string) prometheus.Metric {
	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = s.labels[k]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.kind {
	case counterKind:
		return prometheus.MustNewConstMetric(desc, prometheus.CounterValue, s.value, values...)
	case gaugeKind:
		return prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, s.value, values...)
	default:
		cumulative := make(map[float64]uint64, len(timerBuckets))
		var n uint64
		for i, bound := range timerBuckets {
			n += s.buckets[i]
			cumulative[bound] = n
		}
		return prometheus.MustNewConstHistogram(desc, s.count, s.sum, cumulative, values...)
	}
}

// temporalCollector holds what the Temporal SDK and the workflows emit. Its names are only
// known once emitted, so it describes none (an unchecked collector); within one name, a label
// missing from some series is exposed as "".
type temporalCollector struct {
	mu      sync.Mutex
	series  map[string]*temporalSeries
	perName map[string]int
	dropped atomic.Uint64
}

func newTemporalCollector() *temporalCollector {
	return &temporalCollector{series: map[string]*temporalSeries{}, perName: map[string]int{}}
}

// get returns the series of kind, name and the known tags of tags, creating it; nil when the
// name already has MaxTemporalSeries label sets.
func (c *temporalCollector) get(kind seriesKind, name string, tags map[string]string) *temporalSeries {
	name = exposedName(kind, name)
	labels := map[string]string{}
	for k, v := range tags {
		if temporalTagKeys[k] {
			labels[k] = strings.ToValidUTF8(v, "\uFFFD")
		}
	}
	var key strings.Builder
	key.WriteString(name)
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		key.WriteString("\x00" + k + "=" + labels[k])
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.series[key.String()]; ok && s.kind == kind {
		return s
	} else if ok || c.perName[name] >= MaxTemporalSeries {
		c.dropped.Add(1)
		return nil
	}
	s := &temporalSeries{kind: kind, name: name, labels: labels}
	if kind == timerKind {
		s.buckets = make([]uint64, len(timerBuckets)+1)
	}
	c.series[key.String()] = s
	c.perName[name]++
	return s
}

// exposedName is name made a valid Prometheus name, with _total for counters and _seconds for
// timers.
func exposedName(kind seriesKind, name string) string {
	b := []byte(name)
	for i, ch := range b {
		valid := ch == '_' || ch == ':' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (i > 0 && ch >= '0' && ch <= '9')
		if !valid {
			b[i] = '_'
		}
	}
	name = string(b)
	if name == "" {
		name = "_"
	}
	switch {
	case kind == counterKind && !strings.HasSuffix(name, "_total"):
		name += "_total"
	case kind == timerKind && !strings.HasSuffix(name, "_seconds"):
		name += "_seconds"
	}
	return name
}

// Describe describes nothing: the collector is unchecked.
func (c *temporalCollector) Describe(chan<- *prometheus.Desc) {}

// Collect sends every series, and the count of dropped emissions.
func (c *temporalCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	byName := map[string][]*temporalSeries{}
	for _, s := range c.series {
		byName[s.name] = append(byName[s.name], s)
	}
	c.mu.Unlock()
	for name, list := range byName {
		keySet := map[string]bool{}
		for _, s := range list {
			for k := range s.labels {
				keySet[k] = true
			}
		}
		keys := slices.Sorted(maps.Keys(keySet))
		help, ok := temporalHelp[name]
		if !ok {
			help = "Temporal SDK metric " + name + "."
		}
		desc := prometheus.NewDesc(name, help, keys, nil)
		for _, s := range list {
			ch <- s.metric(desc, keys)
		}
	}
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(TemporalDropped,
		"Emissions through the Temporal metrics handler dropped because their name had too many label sets.", nil, nil),
		prometheus.CounterValue, float64(c.dropped.Load()))
}

// temporalHandler is the client.MetricsHandler over a temporalCollector.
type temporalHandler struct {
	c    *temporalCollector
	tags map[string]string
}

// WithTags returns a handler whose series also carry tags (overriding tags of the same key).
func (h *temporalHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &temporalHandler{c: h.c, tags: merged}
}

// Counter returns the counter name with the handler's tags.
func (h *temporalHandler) Counter(name string) client.MetricsCounter {
	if s := h.c.get(counterKind, name, h.tags); s != nil {
		return s
	}
	return client.MetricsNopHandler.Counter(name)
}

// Gauge returns the gauge name with the handler's tags.
func (h *temporalHandler) Gauge(name string) client.MetricsGauge {
	if s := h.c.get(gaugeKind, name, h.tags); s != nil {
		return s
	}
	return client.MetricsNopHandler.Gauge(name)
}

// Timer returns the timer name with the handler's tags; it is exposed as a histogram in seconds.
func (h *temporalHandler) Timer(name string) client.MetricsTimer {
	if s := h.c.get(timerKind, name, h.tags); s != nil {
		return s
	}
	return client.MetricsNopHandler.Timer(name)
}
