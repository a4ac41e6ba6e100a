package metrics_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/metrics"
	"github.com/coursecommerce/commerce/metrics/metricstest"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// outcomeWorkflow emits what the checkout and refund workflows are to emit when they end, plus
// a tag that must not become a label.
func outcomeWorkflow(ctx workflow.Context, state string) error {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"state": state, "order_number": "EDX-100001"}).
		Counter(metrics.CheckoutOutcomes).Inc(1)
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"status": "Payment Refund Error"}).
		Counter(metrics.RefundOutcomes).Inc(1)
	return nil
}

func TestTemporalHandlerCountsWhatAWorkflowEmits(t *testing.T) {
	t.Parallel()
	r := metrics.New()
	var suite testsuite.WorkflowTestSuite
	suite.SetMetricsHandler(r.TemporalHandler())
	for _, state := range []string{"Fulfilled", "Fulfilled", "PaymentExpired"} {
		env := suite.NewTestWorkflowEnvironment()
		env.RegisterWorkflow(outcomeWorkflow)
		env.ExecuteWorkflow(outcomeWorkflow, state)
		if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
			t.Fatalf("workflow: completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
		}
	}

	f := metricstest.Scrape(t, r.Handler(), "/metrics")

	checkouts := metrics.CheckoutOutcomes + "_total"
	requireValue(t, f, checkouts, map[string]string{"state": "Fulfilled"}, 2)
	requireValue(t, f, checkouts, map[string]string{"state": "PaymentExpired"}, 1)
	requireValue(t, f, metrics.RefundOutcomes+"_total", map[string]string{"status": "Payment Refund Error"}, 3)
	for _, labels := range f.Series(checkouts) {
		if _, ok := labels["order_number"]; ok {
			t.Fatalf("unbounded tag became a label: %v", labels)
		}
	}
	if fam := f[checkouts]; fam.GetHelp() == "" || fam.GetType().String() != "COUNTER" {
		t.Fatalf("%s: help %q, type %v", checkouts, fam.GetHelp(), fam.GetType())
	}
}

func TestTemporalHandlerKinds(t *testing.T) {
	t.Parallel()
	r := metrics.New()
	h := r.TemporalHandler().WithTags(map[string]string{"namespace": "ecommerce"})
	h.Counter("temporal_request").Inc(2)
	h.Counter("temporal_request").Inc(-5) // a counter never goes down
	h.WithTags(map[string]string{"operation": "StartWorkflowExecution"}).Counter("temporal_request").Inc(1)
	h.Gauge("temporal_num_pollers").Update(3)
	h.Gauge("temporal_num_pollers").Update(5)
	h.Timer("temporal_request_latency").Record(1500 * time.Millisecond)
	h.Timer("temporal_request_latency").Record(500 * time.Millisecond)
	h.Counter("odd-name.with dots").Inc(1)

	f := metricstest.Scrape(t, r.Handler(), "/metrics")

	requireValue(t, f, "temporal_request_total", map[string]string{"namespace": "ecommerce", "operation": ""}, 2)
	requireValue(t, f, "temporal_request_total", map[string]string{"operation": "StartWorkflowExecution"}, 1)
	requireValue(t, f, "temporal_num_pollers", map[string]string{"namespace": "ecommerce"}, 5)
	count, sum, ok := f.Histogram("temporal_request_latency_seconds", map[string]string{"namespace": "ecommerce"})
	if !ok || count != 2 || sum != 2 {
		t.Fatalf("timer: count %d, sum %v (%v); want 2 samples of 2 s in all", count, sum, ok)
	}
	requireValue(t, f, "odd_name_with_dots_total", nil, 1)
	if f["temporal_request_latency_seconds"].GetType().String() != "HISTOGRAM" || f["temporal_num_pollers"].GetType().String() != "GAUGE" {
		t.Fatal("timers must be histograms and gauges gauges")
	}
}

func TestTemporalHandlerBoundsSeriesPerName(t *testing.T) {
	t.Parallel()
	r := metrics.New()
	h := r.TemporalHandler()
	for i := range metrics.MaxTemporalSeries + 10 {
		h.WithTags(map[string]string{"task_queue": fmt.Sprintf("queue-%d", i)}).Counter("temporal_poller_start").Inc(1)
	}
	h.WithTags(map[string]string{"task_queue": "queue-0"}).Counter("temporal_poller_start").Inc(1) // an existing series still counts

	f := metricstest.Scrape(t, r.Handler(), "/metrics")

	if got := len(f.Series("temporal_poller_start_total")); got != metrics.MaxTemporalSeries {
		t.Fatalf("%d series, want %d", got, metrics.MaxTemporalSeries)
	}
	requireValue(t, f, "temporal_poller_start_total", map[string]string{"task_queue": "queue-0"}, 2)
	requireValue(t, f, metrics.TemporalDropped, nil, 10)
}
