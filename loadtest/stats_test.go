package loadtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentileIsTheNearestRank(t *testing.T) {
	t.Parallel()
	var samples []time.Duration
	for i := 1; i <= 100; i++ {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 50*time.Millisecond, Percentile(samples, 50))
	require.Equal(t, 95*time.Millisecond, Percentile(samples, 95))
	require.Equal(t, 99*time.Millisecond, Percentile(samples, 99))
	require.Equal(t, 100*time.Millisecond, Percentile(samples, 100))
	require.Equal(t, 1*time.Millisecond, Percentile(samples, 0.1))
	require.Equal(t, time.Duration(0), Percentile(nil, 50))
	one := []time.Duration{7 * time.Millisecond}
	require.Equal(t, 7*time.Millisecond, Percentile(one, 1))
	require.Equal(t, 7*time.Millisecond, Percentile(one, 99))
	three := []time.Duration{1, 2, 3}
	require.Equal(t, time.Duration(2), Percentile(three, 50), "ceil(1.5) = rank 2")
	require.Equal(t, time.Duration(3), Percentile(three, 95))
}

func TestSummarizeSortsAndRoundsToMilliseconds(t *testing.T) {
	t.Parallel()
	s := summarize("basket", []time.Duration{3 * time.Millisecond, 1500 * time.Microsecond, 1234567 * time.Nanosecond})
	require.Equal(t, StepStats{Name: "basket", Count: 3, Mean: 1.91, P50: 1.5, P95: 3, P99: 3, Max: 3}, s)
	require.Equal(t, StepStats{Name: "voucher"}, summarize("voucher", nil))
}

// phaseOf builds a phase of n operations whose total takes total each.
func phaseOf(name string, n int, total time.Duration, elapsed time.Duration, temporalTicks uint64) Phase {
	rec := newRecorder(StepBasket, StepTotal)
	for range n {
		rec.start()
		rec.finish(map[string]time.Duration{StepBasket: time.Millisecond, StepTotal: total}, "", 2)
	}
	rec.start()
	rec.finish(map[string]time.Duration{StepBasket: time.Millisecond}, "checkout: HTTP 503", 0)
	p := rec.phase(name, elapsed)
	groups := []groupSpec{{GroupTemporal, func() ([]int, string) { return []int{1}, "test" }}}
	before := cpuSnapshot{groups: groups, pids: map[string][]int{GroupTemporal: {1}}, ticks: map[int]uint64{1: 100}}
	after := cpuSnapshot{groups: groups, pids: map[string][]int{GroupTemporal: {1}}, how: map[string]string{GroupTemporal: "test"},
		ticks: map[int]uint64{1: 100 + temporalTicks}}
	p.CPU = usage(before, after, p.OK)
	return p
}

func TestSummaryJSONCarriesPhasesAndRatios(t *testing.T) {
	t.Parallel()
	s := Summary{Date: "2026-12-01T00:00:00Z", Users: 20, Count: 200, SKU: "ABC1234",
		Checkout: phaseOf("checkout", 100, 400*time.Millisecond, 10*time.Second, 500)}
	bare := phaseOf("bare", 200, 100*time.Millisecond, 10*time.Second, 200)
	s.Bare = &bare
	s.compare()
	raw, err := json.Marshal(s)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	checkout := got["checkout"].(map[string]any)
	require.Equal(t, 10.0, checkout["throughput_per_s"])
	require.Equal(t, 100.0, checkout["ok"])
	require.Equal(t, 1.0, checkout["failed"])
	require.Equal(t, map[string]any{"checkout: HTTP 503": 1.0}, checkout["errors"])
	require.Equal(t, 200.0, checkout["polls"])
	steps := checkout["steps"].([]any)
	require.Equal(t, "basket", steps[0].(map[string]any)["name"])
	require.Equal(t, 101.0, steps[0].(map[string]any)["count"], "a failed purchase keeps the steps it finished")
	require.Equal(t, 400.0, steps[1].(map[string]any)["p99_ms"])
	cpu := checkout["cpu"].([]any)[0].(map[string]any)
	require.Equal(t, 5.0, cpu["cpu_s"])
	require.Equal(t, 50.0, cpu["cpu_ms_per_op"])
	require.Equal(t, map[string]any{"throughput": 0.5, "total_p50": 4.0, "total_p99": 4.0, "temporal_cpu_per_op": 5.0}, got["ratios"])

	var text bytes.Buffer
	s.WriteText(&text)
	require.Contains(t, text.String(), "purchases: 100 ok, 1 failed of 101 in 10.0s: 10.00/s")
	require.Contains(t, text.String(), "ratio checkout/bare: throughput 0.500")
}

func TestNoBareNoRatios(t *testing.T) {
	t.Parallel()
	s := Summary{Checkout: phaseOf("checkout", 1, time.Second, time.Second, 0)}
	s.compare()
	require.Nil(t, s.Ratios)
	raw, err := json.Marshal(s)
	require.NoError(t, err)
	require.NotContains(t, string(raw), `"bare"`)
	require.NotContains(t, string(raw), `"ratios"`)
}

func TestParseStatTicksSkipsTheCommandName(t *testing.T) {
	t.Parallel()
	stat := "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 9 0 100 0 0"
	ticks, err := parseStatTicks(stat)
	require.NoError(t, err)
	require.Equal(t, uint64(1234+567), ticks)
	_, err = parseStatTicks("4242 (x) S 1")
	require.Error(t, err)
}

func TestIsBackendOfMatchesTheDatabaseInTheTitle(t *testing.T) {
	t.Parallel()
	require.True(t, isBackendOf("postgres: 15/main: postgres ecommerce_load 127.0.0.1(5432) idle", "ecommerce_load"))
	require.False(t, isBackendOf("postgres: 15/main: postgres test 127.0.0.1(5432) idle", "ecommerce_load"))
	require.False(t, isBackendOf("postgres: 15/main: checkpointer", "checkpointer"))
	require.False(t, isBackendOf("/usr/lib/postgresql/15/bin/postgres -D x", "x"))
	require.False(t, isBackendOf("postgres: 15/main: postgres test 127.0.0.1(5432) idle", ""))
}

func TestFailStepNamesTheCause(t *testing.T) {
	t.Parallel()
	require.Equal(t, "checkout: HTTP 409", failStep(StepCheckout, &httpError{status: 409}).kind())
	se := failStep(StepBasket, &stepError{step: StepPay, cause: "decision DECLINE", err: errTest})
	require.Equal(t, "pay page + Pay (notify): decision DECLINE", se.kind(), "an inner step error is kept")
}

var errTest = errors.New("test")
