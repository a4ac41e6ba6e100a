package loadtest

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of sorted samples by the nearest-rank
// method: the smallest sample with at least p % of the samples at or below it. It is 0 for no
// samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// StepStats summarises the durations of one step of the operations of a phase, in milliseconds.
type StepStats struct {
	Name  string  `json:"name"`
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// summarize computes the statistics of samples (which it sorts).
func summarize(name string, samples []time.Duration) StepStats {
	slices.Sort(samples)
	s := StepStats{Name: name, Count: len(samples)}
	if len(samples) == 0 {
		return s
	}
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	s.Mean = ms(sum / time.Duration(len(samples)))
	s.P50, s.P95, s.P99 = ms(Percentile(samples, 50)), ms(Percentile(samples, 95)), ms(Percentile(samples, 99))
	s.Max = ms(samples[len(samples)-1])
	return s
}

// ms is d in milliseconds, rounded to a hundredth.
func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

// recorder collects the outcomes of the operations of one phase; it is safe for concurrent use.
type recorder struct {
	mu      sync.Mutex
	steps   []string // in the order they are reported
	samples map[string][]time.Duration
	errors  map[string]int
	ok      int
	started int
	polls   int
}

// newRecorder makes a recorder that reports steps in this order.
func newRecorder(steps ...string) *recorder {
	return &recorder{steps: steps, samples: map[string][]time.Duration{}, errors: map[string]int{}}
}

// start counts an operation begun.
func (r *recorder) start() {
	r.mu.Lock()
	r.started++
	r.mu.Unlock()
}

// finish records an operation's step durations and its error kind ("" for success); the
// durations of a failed operation are kept for the steps it finished.
func (r *recorder) finish(steps map[string]time.Duration, errKind string, polls int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, d := range steps {
		r.samples[name] = append(r.samples[name], d)
	}
	if errKind == "" {
		r.ok++
	} else {
		r.errors[errKind]++
	}
	r.polls += polls
}

// counts returns how many operations were started, succeeded and failed so far.
func (r *recorder) counts() (started, ok, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.errors {
		failed += n
	}
	return r.started, r.ok, failed
}

// Phase is the result of one phase of a run: the purchases, or the bare workflows.
type Phase struct {
	// Name is "checkout" or "bare".
	Name string `json:"name"`
	// Started, OK and Failed count operations; Errors counts the failures by kind
	// ("<step>: <cause>").
	Started int            `json:"started"`
	OK      int            `json:"ok"`
	Failed  int            `json:"failed"`
	Errors  map[string]int `json:"errors"`
	// ErrorExamples holds the first message of each kind of error.
	ErrorExamples map[string]string `json:"error_examples,omitempty"`
	// ElapsedSeconds runs from the first start to the last finish.
	ElapsedSeconds float64 `json:"elapsed_s"`
	// Throughput is successful operations per second of ElapsedSeconds.
	Throughput float64 `json:"throughput_per_s"`
	// Steps are the per-step latencies, in the order of the journey.
	Steps []StepStats `json:"steps"`
	// Polls is how many status reads (order, enrollment) the waits made.
	Polls int `json:"polls"`
	// CPU is the processor time each process group used during the phase.
	CPU []ProcessCPU `json:"cpu"`
}

// phase turns what r collected over elapsed into a Phase.
func (r *recorder) phase(name string, elapsed time.Duration) Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Phase{Name: name, Started: r.started, OK: r.ok, Errors: maps.Clone(r.errors),
		ElapsedSeconds: round(elapsed.Seconds(), 3), Polls: r.polls}
	for _, n := range r.errors {
		p.Failed += n
	}
	if elapsed > 0 {
		p.Throughput = round(float64(r.ok)/elapsed.Seconds(), 3)
	}
	for _, step := range r.steps {
		p.Steps = append(p.Steps, summarize(step, slices.Clone(r.samples[step])))
	}
	return p
}

// step returns the statistics of the named step, and whether there are any.
func (p Phase) step(name string) (StepStats, bool) {
	for _, s := range p.Steps {
		if s.Name == name && s.Count > 0 {
			return s, true
		}
	}
	return StepStats{}, false
}

// cpu returns the CPU use of the named process group, and whether it was measured.
func (p Phase) cpu(name string) (ProcessCPU, bool) {
	for _, c := range p.CPU {
		if c.Name == name && len(c.PIDs) > 0 {
			return c, true
		}
	}
	return ProcessCPU{}, false
}

// Ratio is a measure of the purchases divided by the same measure of the bare workflows: a
// dimensionless number (of rates, durations or CPU time; no amount of money is ever one).
type Ratio float64

// Ratios compare the purchases with the bare workflows: each is checkout ÷ bare, so a
// throughput ratio of 0.5 means a purchase costs Temporal-and-all twice what the bare
// workflow does.
type Ratios struct {
	// Throughput is purchases/s ÷ bare workflows/s.
	Throughput Ratio `json:"throughput"`
	// LatencyP50 and LatencyP99 compare the end-to-end latencies of step "total" (a purchase's
	// milliseconds ÷ a bare workflow's).
	LatencyP50 Ratio `json:"total_p50"`
	LatencyP99 Ratio `json:"total_p99"`
	// TemporalCPU compares the Temporal server's CPU per operation.
	TemporalCPU Ratio `json:"temporal_cpu_per_op,omitempty"`
}

// ratio is a ÷ b rounded to places decimals.
func ratio(a, b float64, places int) Ratio { return Ratio(round(a/b, places)) }

// Summary is the outcome of `ecommerce load`, printed as text or (--json) as this JSON.
type Summary struct {
	// Date is when the run started (UTC, RFC 3339).
	Date string `json:"date"`
	// Settings are the flags that shape the load.
	Users           int     `json:"users"`
	Rate            float64 `json:"rate_per_s"`
	DurationSeconds float64 `json:"duration_s"`
	Count           int     `json:"count"`
	SKU             string  `json:"sku"`
	Voucher         string  `json:"voucher,omitempty"`
	Namespace       string  `json:"temporal_namespace,omitempty"`
	// Checkout is the purchases; Bare the bare workflows (with --bare); Ratios compare them.
	Checkout Phase   `json:"checkout"`
	Bare     *Phase  `json:"bare,omitempty"`
	Ratios   *Ratios `json:"ratios,omitempty"`
}

// compare fills s.Ratios from the two phases.
func (s *Summary) compare() {
	if s.Bare == nil || s.Bare.Throughput == 0 {
		return
	}
	r := &Ratios{Throughput: ratio(s.Checkout.Throughput, s.Bare.Throughput, 3)}
	if c, ok := s.Checkout.step(StepTotal); ok {
		if b, ok := s.Bare.step(StepTotal); ok && b.P50 > 0 && b.P99 > 0 {
			r.LatencyP50, r.LatencyP99 = ratio(c.P50, b.P50, 2), ratio(c.P99, b.P99, 2)
		}
	}
	if c, ok := s.Checkout.cpu(GroupTemporal); ok {
		if b, ok := s.Bare.cpu(GroupTemporal); ok && b.PerOpMillis > 0 {
			r.TemporalCPU = ratio(c.PerOpMillis, b.PerOpMillis, 2)
		}
	}
	s.Ratios = r
}

// round rounds x to the given number of decimals.
func round(x float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(x*p) / p
}

// WriteText prints the summary for people.
func (s Summary) WriteText(w io.Writer) {
	limit := fmt.Sprintf("%d purchases", s.Count)
	if s.Count == 0 {
		limit = fmt.Sprintf("%gs", s.DurationSeconds)
	} else if s.DurationSeconds > 0 {
		limit += fmt.Sprintf(" or %gs", s.DurationSeconds)
	}
	rate := "unpaced"
	if s.Rate > 0 {
		rate = fmt.Sprintf("%g/s", s.Rate)
	}
	fmt.Fprintf(w, "load %s: %d users, %s, %s, sku %s", s.Date, s.Users, limit, rate, s.SKU)
	if s.Voucher != "" {
		fmt.Fprintf(w, ", voucher %s", s.Voucher)
	}
	fmt.Fprintln(w)
	writePhase(w, s.Checkout, "purchases")
	if s.Bare != nil {
		writePhase(w, *s.Bare, "bare workflows")
	}
	if r := s.Ratios; r != nil {
		fmt.Fprintf(w, "ratio checkout/bare: throughput %.3f, total p50 %.2fx, total p99 %.2fx", r.Throughput, r.LatencyP50, r.LatencyP99)
		if r.TemporalCPU > 0 {
			fmt.Fprintf(w, ", Temporal CPU per op %.2fx", r.TemporalCPU)
		}
		fmt.Fprintln(w)
	}
}

// writePhase prints one phase.
func writePhase(w io.Writer, p Phase, what string) {
	fmt.Fprintf(w, "\n%s: %d ok, %d failed of %d in %.1fs: %.2f/s (%d status polls)\n",
		what, p.OK, p.Failed, p.Started, p.ElapsedSeconds, p.Throughput, p.Polls)
	fmt.Fprintf(w, "  %-26s %6s %9s %9s %9s %9s %9s\n", "step (ms)", "n", "mean", "p50", "p95", "p99", "max")
	for _, st := range p.Steps {
		fmt.Fprintf(w, "  %-26s %6d %9.1f %9.1f %9.1f %9.1f %9.1f\n", st.Name, st.Count, st.Mean, st.P50, st.P95, st.P99, st.Max)
	}
	if len(p.Errors) > 0 {
		fmt.Fprintln(w, "  errors:")
		for _, kind := range slices.Sorted(maps.Keys(p.Errors)) {
			fmt.Fprintf(w, "    %5d  %s  (e.g. %.160s)\n", p.Errors[kind], kind, p.ErrorExamples[kind])
		}
	}
	if len(p.CPU) > 0 {
		fmt.Fprintln(w, "  CPU (utime+stime from /proc; shared processes include other work on the machine):")
		for _, c := range p.CPU {
			if len(c.PIDs) == 0 {
				fmt.Fprintf(w, "    %-32s not found\n", c.Name)
				continue
			}
			fmt.Fprintf(w, "    %-32s %7.2f s  %7.1f ms/op  pids %s\n", c.Name, c.Seconds, c.PerOpMillis, joinPIDs(c.PIDs))
		}
	}
}

// joinPIDs lists pids, at most eight of them.
func joinPIDs(pids []int) string {
	var b strings.Builder
	for i, pid := range pids {
		if i == 8 {
			fmt.Fprintf(&b, " (+%d)", len(pids)-8)
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, pid)
	}
	return b.String()
}
