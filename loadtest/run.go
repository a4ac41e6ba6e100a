package loadtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options are the settings of one run.
type Options struct {
	// API, LMS and CyberSource are the base URLs of the service and of the two simulators.
	API, LMS, CyberSource string
	// SKU is the seat to buy; empty publishes a new course with a verified seat for the run.
	SKU string
	// Voucher is a code applied to every basket; "auto" creates a 10 % Multi-use code for the seat.
	Voucher string
	// Users is the number of concurrent learners (and of concurrent bare workflows).
	Users int
	// Duration and Count bound each phase: it stops starting operations when either is reached
	// (0 is no bound; at least one must be set).
	Duration time.Duration
	Count    int
	// Rate paces the starts (operations per second, at most Users in flight); 0 starts the next
	// one as soon as a learner is free.
	Rate float64
	// Timeout bounds one operation, waits included; Poll is the interval of the status reads.
	Timeout, Poll time.Duration
	// Bare also runs the bare workflow, after the purchases, with the same settings.
	Bare bool
	// Token mints a JWT for username (staff when admin) that the service accepts.
	Token func(username string, admin bool) (string, error)
	// LMSAPIKey is the X-Edx-Api-Key of the LMS simulator's enrollment API.
	LMSAPIKey string
	// TemporalAddress and TemporalNamespace are where the bare workflow runs.
	TemporalAddress, TemporalNamespace string
	// Processes says whose CPU to measure.
	Processes ProcessGroups
	// Progress receives a progress line every ProgressEvery (2 s if zero); nil is silent.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Logger receives the Temporal SDK's warnings; nil discards them.
	Logger *slog.Logger
}

// outcome is what one operation reports: the durations of the steps it finished, the kind of
// its failure ("" for success) with an example message, and the status reads it made.
type outcome struct {
	steps   map[string]time.Duration
	errKind string
	errText string
	polls   int
}

// stepError is a failed step: Kind names the step and the cause, for counting.
type stepError struct {
	step, cause string
	err         error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }

// kind is the error's counting key, e.g. "checkout: HTTP 503".
func (e *stepError) kind() string { return e.step + ": " + e.cause }

// failStep wraps err from step, classifying it as a timeout, a network error or other.
func failStep(step string, err error) *stepError {
	var se *stepError
	if errors.As(err, &se) {
		return se
	}
	var he *httpError
	var ne net.Error
	cause := "other"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		cause = "timeout"
	case errors.Is(err, context.Canceled):
		cause = "canceled"
	case errors.As(err, &he):
		cause = fmt.Sprintf("HTTP %d", he.status)
	case errors.As(err, &ne):
		cause = "network"
	}
	return &stepError{step: step, cause: cause, err: err}
}

// failed turns an error into the outcome of an operation that stopped at it.
func failed(steps map[string]time.Duration, polls int, err error) outcome {
	se := failStep("other", err)
	return outcome{steps: steps, errKind: se.kind(), errText: se.Error(), polls: polls}
}

// Run runs the purchases (and, with o.Bare, the bare workflows) and returns their summary.
func Run(ctx context.Context, o Options) (Summary, error) {
	if err := o.check(); err != nil {
		return Summary{}, err
	}
	runID := strings.ToLower(rand.Text()[:8])
	s := Summary{Date: time.Now().UTC().Format(time.RFC3339), Users: o.Users, Rate: o.Rate,
		DurationSeconds: o.Duration.Seconds(), Count: o.Count, Namespace: o.TemporalNamespace}
	sh, err := newShop(ctx, o, runID)
	if err != nil {
		return s, err
	}
	s.SKU, s.Voucher = sh.sku, sh.voucher
	var bare *bareRunner
	if o.Bare { // the worker is up before any measurement starts
		if bare, err = startBare(o, runID); err != nil {
			return s, err
		}
		defer bare.stop()
	}
	s.Checkout = runPhase(ctx, o, "checkout", purchaseSteps, sh.purchase)
	if bare != nil && ctx.Err() == nil {
		p := runPhase(ctx, o, "bare", bareSteps, bare.run)
		s.Bare = &p
	}
	s.compare()
	return s, ctx.Err()
}

// check validates the options and fills the defaults.
func (o *Options) check() error {
	switch {
	case o.Users < 1:
		return errors.New("users must be at least 1")
	case o.Duration <= 0 && o.Count <= 0:
		return errors.New("set a duration or a count")
	case o.Rate < 0:
		return errors.New("rate must not be negative")
	case o.Token == nil:
		return errors.New("no token minter")
	}
	for name, u := range map[string]string{"api": o.API, "lms": o.LMS, "cybersource": o.CyberSource} {
		if p, err := url.Parse(u); err != nil || p.Host == "" {
			return fmt.Errorf("%s: %q is not a URL", name, u)
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 20 * time.Millisecond
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// runPhase runs op with o.Users workers until o.Count operations were started or o.Duration
// passed, measures CPU around it, and summarises.
func runPhase(ctx context.Context, o Options, name string, steps []string, op func(context.Context, int) outcome) Phase {
	rec := newRecorder(steps...)
	groups := o.Processes.specs()
	before := takeSnapshot(groups)
	start := time.Now()
	stopProgress := progress(o, name, rec, start)
	examples := map[string]string{}
	var mu sync.Mutex
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range o.Users {
		wg.Go(func() {
			for n := range jobs {
				rec.start()
				opCtx, cancel := context.WithTimeout(ctx, o.Timeout)
				out := op(opCtx, n)
				cancel()
				rec.finish(out.steps, out.errKind, out.polls)
				if out.errKind != "" {
					mu.Lock()
					if _, ok := examples[out.errKind]; !ok {
						examples[out.errKind] = out.errText
					}
					mu.Unlock()
				}
			}
		})
	}
	dispatch(ctx, o, jobs)
	wg.Wait()
	elapsed := time.Since(start)
	after := takeSnapshot(groups)
	stopProgress()
	p := rec.phase(name, elapsed)
	p.CPU = usage(before, after, p.OK)
	p.ErrorExamples = examples
	return p
}

// dispatch hands out operation numbers until the count or the duration is reached, paced by
// o.Rate, then closes jobs.
func dispatch(ctx context.Context, o Options, jobs chan<- int) {
	defer close(jobs)
	var deadline <-chan time.Time
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var tick <-chan time.Time
	if o.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
		defer t.Stop()
		tick = t.C
	}
	for n := 0; o.Count <= 0 || n < o.Count; n++ {
		if tick != nil && n > 0 {
			select {
			case <-tick:
			case <-deadline:
				return
			case <-ctx.Done():
				return
			}
		}
		select {
		case jobs <- n:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}

// progress prints a line to o.Progress every o.ProgressEvery until the returned stop is called.
func progress(o Options, name string, rec *recorder, start time.Time) (stop func()) {
	if o.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	line := func() {
		started, ok, failed := rec.counts()
		secs := time.Since(start).Seconds()
		fmt.Fprintf(o.Progress, "%s %5.1fs: started %d, ok %d, failed %d, in flight %d, %.1f ok/s\n",
			name, secs, started, ok, failed, started-ok-failed, float64(ok)/secs)
	}
	wg.Go(func() {
		t := time.NewTicker(o.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				line()
			case <-done:
				line()
				return
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// httpError is an answer with an unexpected status.
type httpError struct {
	method, url string
	status      int
	body        string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %.200s", e.method, e.url, e.status, e.body)
}

// newHTTPClient makes a client that keeps enough idle connections for users learners.
func newHTTPClient(users int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * users
	t.MaxIdleConnsPerHost = 2 * users
	return &http.Client{Transport: t, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
