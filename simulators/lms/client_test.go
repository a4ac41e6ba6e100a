package lms_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	lmsclient "github.com/coursecommerce/commerce/lms"
	"github.com/coursecommerce/commerce/simulators/lms"
)

// startSim serves a fresh simulator over HTTP.
func startSim(t *testing.T) (*lms.Simulator, *httptest.Server) {
	t.Helper()
	sim := newSim(t)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return sim, ts
}

func seat() lmsclient.Enrollment {
	return lmsclient.Enrollment{
		Username: "alice", Mode: "credit", CourseID: course, OrderNumber: "EDX-100001",
		DatePlaced: time.Date(2024, 3, 1, 11, 59, 0, 0, time.UTC), CreditProvider: "asu",
	}
}

func TestClientRetriesUntilSimulatorRecovers(t *testing.T) {
	t.Parallel()
	sim, ts := startSim(t)
	sim.FailNext(3)
	client := lmsclient.NewClient(ts.URL, apiKey)

	attempts := 0
	var err error
	for attempts < 10 {
		attempts++
		if err = client.Enroll(context.Background(), seat()); err == nil {
			break
		}
		var lmsErr *lmsclient.Error
		if !errors.As(err, &lmsErr) || !lmsErr.Retryable() || lmsErr.Kind != lmsclient.KindServer ||
			lmsErr.StatusCode != 500 || lmsErr.Message != "simulated failure" {
			t.Fatalf("attempt %d: %v, want a retryable simulated failure", attempts, err)
		}
	}

	if err != nil || attempts != 4 {
		t.Fatalf("after %d attempts: %v; want success on attempt 4", attempts, err)
	}
	if sim.Calls() != 4 || sim.Successes("alice", course) != 1 {
		t.Fatalf("Calls = %d, Successes = %d; want 4, 1", sim.Calls(), sim.Successes("alice", course))
	}
	e, _ := sim.Enrollment("alice", course)
	for _, a := range [][3]string{
		{"order", "order_number", "EDX-100001"},
		{"order", "date_placed", "2024-03-01T11:59:00Z"},
		{"credit", "provider_id", "asu"},
	} {
		if v, ok := e.Attribute(a[0], a[1]); !ok || v != a[2] {
			t.Errorf("attribute %s.%s = %q, %v; want %q", a[0], a[1], v, ok, a[2])
		}
	}
	if !e.IsActive || e.Mode != "credit" {
		t.Fatalf("Enrollment = %+v", e)
	}
}

func TestClientAgainstSimulatorFailures(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		key         string
		setup       func(*lms.Simulator)
		opts        []lmsclient.Option
		wantKind    lmsclient.Kind
		wantMessage string
	}{
		{name: "RejectedCourseIsPermanent", key: apiKey,
			setup:    func(s *lms.Simulator) { s.RejectCourses(course) },
			wantKind: lmsclient.KindClient, wantMessage: "course not found"},
		{name: "WrongKeyIsPermanent", key: "wrong", setup: func(*lms.Simulator) {},
			wantKind: lmsclient.KindClient, wantMessage: "Invalid API key."},
		{name: "SlowLMSTimesOut", key: apiKey,
			setup:    func(s *lms.Simulator) { s.SetLatency(time.Hour) },
			opts:     []lmsclient.Option{lmsclient.WithTimeout(50 * time.Millisecond)},
			wantKind: lmsclient.KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, ts := startSim(t)
			tt.setup(sim)

			err := lmsclient.NewClient(ts.URL, tt.key, tt.opts...).Enroll(context.Background(), seat())

			var lmsErr *lmsclient.Error
			if !errors.As(err, &lmsErr) || lmsErr.Kind != tt.wantKind || !strings.Contains(lmsErr.Message, tt.wantMessage) {
				t.Fatalf("error = %v, want %v containing %q", err, tt.wantKind, tt.wantMessage)
			}
			if len(sim.Enrollments()) != 0 {
				t.Fatal("a failed call created an enrollment")
			}
		})
	}
}

func TestClientUnenrollAgainstSimulator(t *testing.T) {
	t.Parallel()
	sim, ts := startSim(t)
	client := lmsclient.NewClient(ts.URL, apiKey)
	if err := client.Enroll(context.Background(), seat()); err != nil {
		t.Fatalf("Enroll: %v", err)
	}

	if err := client.Unenroll(context.Background(), "alice", course, "verified"); err != nil {
		t.Fatalf("Unenroll with another mode: %v, want nil (mode mismatch is done)", err)
	}
	if e, _ := sim.Enrollment("alice", course); !e.IsActive {
		t.Fatal("mode mismatch deactivated the enrollment")
	}

	if err := client.Unenroll(context.Background(), "alice", course, "credit"); err != nil {
		t.Fatalf("Unenroll: %v", err)
	}
	if e, _ := sim.Enrollment("alice", course); e.IsActive {
		t.Fatal("Unenroll left the enrollment active")
	}
}
