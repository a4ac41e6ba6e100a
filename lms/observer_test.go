package lms_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/lms"
	lmssim "github.com/coursecommerce/commerce/simulators/lms"
)

// recorder is an lms.Observer that keeps every call it is told of.
type recorder struct {
	mu    sync.Mutex
	calls []lms.Call
}

func (r *recorder) observe(c lms.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) all() []lms.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]lms.Call(nil), r.calls...)
}

// requireOneCall fails unless exactly one call was observed, with these operation, result and
// status, and a duration of at least minDuration.
func requireOneCall(t *testing.T, rec *recorder, operation, result string, status int, minDuration time.Duration) {
	t.Helper()
	calls := rec.all()
	if len(calls) != 1 {
		t.Fatalf("observed %d calls, want 1: %+v", len(calls), calls)
	}
	c := calls[0]
	if c.Operation != operation || c.Result != result || c.StatusCode != status {
		t.Fatalf("observed %+v, want operation %q, result %q, status %d", c, operation, result, status)
	}
	if c.Duration < minDuration || c.Duration <= 0 {
		t.Fatalf("observed duration %v, want at least %v", c.Duration, minDuration)
	}
}

func TestObserverSeesEachOutcomeAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	const course = "course-v1:edX+DemoX+Demo_Course"
	enroll := verifiedSeat()
	enroll.CourseID = course

	tests := []struct {
		name        string
		setup       func(*lmssim.Simulator)
		opts        []lms.Option
		call        func(context.Context, *lms.Client) error
		wantOp      string
		wantResult  string
		wantStatus  int
		wantErr     bool
		minDuration time.Duration
	}{
		{name: "EnrollOK", setup: func(*lmssim.Simulator) {},
			call:   func(ctx context.Context, c *lms.Client) error { return c.Enroll(ctx, enroll) },
			wantOp: lms.OperationEnroll, wantResult: lms.ResultOK, wantStatus: http.StatusOK},
		{name: "ServerError", setup: func(s *lmssim.Simulator) { s.FailNext(1) },
			call:   func(ctx context.Context, c *lms.Client) error { return c.Enroll(ctx, enroll) },
			wantOp: lms.OperationEnroll, wantResult: lms.ResultServerError, wantStatus: http.StatusInternalServerError, wantErr: true},
		{name: "ClientError", setup: func(s *lmssim.Simulator) { s.RejectCourses(course) },
			call:   func(ctx context.Context, c *lms.Client) error { return c.Enroll(ctx, enroll) },
			wantOp: lms.OperationEnroll, wantResult: lms.ResultClientError, wantStatus: http.StatusBadRequest, wantErr: true},
		{name: "Timeout", setup: func(s *lmssim.Simulator) { s.SetLatency(time.Hour) },
			opts:   []lms.Option{lms.WithTimeout(50 * time.Millisecond)},
			call:   func(ctx context.Context, c *lms.Client) error { return c.Enroll(ctx, enroll) },
			wantOp: lms.OperationEnroll, wantResult: lms.ResultTimeout, wantErr: true, minDuration: 50 * time.Millisecond},
		{name: "UnenrollModeMismatchIsOK", setup: func(*lmssim.Simulator) {},
			call: func(ctx context.Context, c *lms.Client) error {
				return c.Unenroll(ctx, enroll.Username, course, "honor") // enrolled as verified by the sim below
			},
			wantOp: lms.OperationUnenroll, wantResult: lms.ResultOK, wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := lmssim.New(apiKey)
			ts := httptest.NewServer(sim)
			t.Cleanup(ts.Close)
			if tt.wantOp == lms.OperationUnenroll {
				if err := lms.NewClient(ts.URL, apiKey).Enroll(context.Background(), enroll); err != nil {
					t.Fatalf("enroll first: %v", err)
				}
			}
			tt.setup(sim)
			rec := &recorder{}
			client := lms.NewClient(ts.URL, apiKey, append(tt.opts, lms.WithObserver(rec.observe))...)

			err := tt.call(context.Background(), client)

			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			requireOneCall(t, rec, tt.wantOp, tt.wantResult, tt.wantStatus, tt.minDuration)
		})
	}
}

func TestObserverSeesNetworkFailures(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(lmssim.New(apiKey))
	url := ts.URL
	ts.Close() // nothing listens there any more
	rec := &recorder{}

	err := lms.NewClient(url, apiKey, lms.WithObserver(rec.observe)).Enroll(context.Background(), verifiedSeat())

	if err == nil {
		t.Fatal("Enroll succeeded against a closed server")
	}
	requireOneCall(t, rec, lms.OperationEnroll, lms.ResultNetwork, 0, 0)
}

func TestObserverSeesCancellation(t *testing.T) {
	t.Parallel()
	sim := lmssim.New(apiKey)
	sim.SetLatency(time.Hour)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)

	err := lms.NewClient(ts.URL, apiKey, lms.WithObserver(rec.observe)).Enroll(ctx, verifiedSeat())

	if err == nil {
		t.Fatal("Enroll succeeded with a canceled context")
	}
	requireOneCall(t, rec, lms.OperationEnroll, lms.ResultCanceled, 0, 0)
}

func TestObserverIsNotToldOfCallsNeverSent(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	if err := lms.NewClient("", apiKey, lms.WithObserver(rec.observe)).Enroll(context.Background(), verifiedSeat()); err == nil {
		t.Fatal("Enroll succeeded without a base URL")
	}
	if err := lms.NewClient("http://lms.test", apiKey, lms.WithObserver(rec.observe)).Enroll(context.Background(), lms.Enrollment{}); err == nil {
		t.Fatal("Enroll succeeded with an empty enrollment")
	}
	if calls := rec.all(); len(calls) != 0 {
		t.Fatalf("observed %+v, want nothing", calls)
	}
}

func TestNilObserverIsIgnored(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(lmssim.New(apiKey))
	t.Cleanup(ts.Close)
	if err := lms.NewClient(ts.URL, apiKey, lms.WithObserver(nil)).Enroll(context.Background(), verifiedSeat()); err != nil {
		t.Fatalf("Enroll: %v", err)
	}
}
