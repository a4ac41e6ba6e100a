package lms_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	const users, repeats, failures = 20, 5, 4 // failures < repeats: every user succeeds at least once
	sim.FailNext(failures)

	var wg sync.WaitGroup
	var ok, failed atomic.Int32
	for u := range users {
		for range repeats {
			wg.Go(func() {
				body := enrollBody(fmt.Sprintf("user%02d", u), course, "verified", true, orderNumber)
				req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/enrollment/v1/enrollment", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Edx-Api-Key", apiKey)
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Errorf("POST: %v", err)
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusInternalServerError:
					failed.Add(1)
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
			})
		}
		// Readers and knob changes race with the writers.
		wg.Go(func() {
			_ = sim.Enrollments()
			_ = sim.Knobs()
			_ = sim.Successes("user00", course)
			sim.RejectCourses()
			sim.SetLatency(0)
		})
	}
	wg.Wait()

	if failed.Load() != failures || ok.Load() != users*repeats-failures {
		t.Fatalf("ok = %d, failed = %d; want %d, %d", ok.Load(), failed.Load(), users*repeats-failures, failures)
	}
	if sim.Calls() != users*repeats {
		t.Fatalf("Calls = %d, want %d", sim.Calls(), users*repeats)
	}
	all := sim.Enrollments()
	if len(all) != users {
		t.Fatalf("got %d enrollments, want %d", len(all), users)
	}
	total := 0
	for _, e := range all {
		if e.Changes != 1 {
			t.Errorf("%s: Changes = %d, want 1", e.User, e.Changes)
		}
		total += sim.Successes(e.User, e.CourseID)
	}
	if total != users*repeats-failures {
		t.Fatalf("total successes = %d, want %d", total, users*repeats-failures)
	}
}
