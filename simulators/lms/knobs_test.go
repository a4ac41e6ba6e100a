package lms_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/simulators/lms"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	sim.FailNext(2)
	body := enrollBody("alice", course, "verified", true)

	// A request that fails authentication does not use up a failure.
	requireStatus(t, serve(t, sim, request{body: body, header: map[string]string{"X-Edx-Api-Key": "nope"}}),
		http.StatusUnauthorized)
	for i := range 2 {
		rec := serve(t, sim, request{body: body})
		requireStatus(t, rec, http.StatusInternalServerError)
		requireJSONEqual(t, rec.Body.Bytes(), `{"message":"simulated failure"}`)
		if _, ok := sim.Enrollment("alice", course); ok {
			t.Fatalf("failure %d created an enrollment", i+1)
		}
	}
	requireStatus(t, serve(t, sim, request{body: body}), http.StatusOK)

	if sim.Calls() != 4 || sim.Successes("alice", course) != 1 || sim.Knobs().FailNext != 0 {
		t.Fatalf("Calls = %d, Successes = %d, FailNext = %d; want 4, 1, 0",
			sim.Calls(), sim.Successes("alice", course), sim.Knobs().FailNext)
	}
}

func TestRejectCourses(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	const other = "course-v1:edX+Other+2024"
	sim.RejectCourses(course)

	rec := serve(t, sim, request{body: enrollBody("alice", course, "verified", true)})
	requireStatus(t, rec, http.StatusBadRequest)
	if msg := field(t, rec.Body.Bytes(), "message"); !strings.Contains(msg, "course not found") ||
		!strings.Contains(msg, course) {
		t.Fatalf("message = %q", msg)
	}
	enroll(t, sim, "alice", other, "verified")

	sim.RejectCourses()
	enroll(t, sim, "alice", course, "verified")
	if len(sim.Enrollments()) != 2 || sim.Calls() != 3 {
		t.Fatalf("enrollments = %d, calls = %d; want 2, 3", len(sim.Enrollments()), sim.Calls())
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()

	t.Run("Short", func(t *testing.T) {
		t.Parallel()
		sim := newSim(t)
		sim.SetLatency(5 * time.Millisecond)
		enroll(t, sim, "alice", course, "verified")
	})
	t.Run("CanceledRequestIsAbandoned", func(t *testing.T) {
		t.Parallel()
		sim := newSim(t)
		sim.SetLatency(time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			serve(t, sim, request{ctx: ctx, body: enrollBody("alice", course, "verified", true)})
		}()

		select {
		case <-done:
			t.Fatal("the simulator answered before the latency elapsed")
		case <-time.After(50 * time.Millisecond):
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the simulator kept sleeping after the request was canceled")
		}
		if _, ok := sim.Enrollment("alice", course); ok {
			t.Fatal("a canceled request created an enrollment")
		}
		if sim.Calls() != 1 {
			t.Fatalf("Calls = %d, want 1", sim.Calls())
		}
	})
}

func TestKnobsGoAPI(t *testing.T) {
	t.Parallel()
	sim := newSim(t)

	sim.SetKnobs(lms.Knobs{FailNext: -1, Latency: -time.Second, RejectCourses: []string{course}})
	got := sim.Knobs()
	if want := (lms.Knobs{RejectCourses: []string{course}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Knobs = %+v, want %+v", got, want)
	}
	got.RejectCourses[0] = "changed"
	if sim.Knobs().RejectCourses[0] != course {
		t.Fatal("Knobs returned shared memory")
	}
	sim.FailNext(-3)
	sim.SetLatency(-time.Second)
	if k := sim.Knobs(); k.FailNext != 0 || k.Latency != 0 {
		t.Fatalf("negative knobs not clamped: %+v", k)
	}
}

func TestKnobsHTTP(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	get := func() []byte {
		rec := serve(t, sim, request{method: http.MethodGet, path: lms.KnobsPath})
		requireStatus(t, rec, http.StatusOK)
		return rec.Body.Bytes()
	}
	post := func(body string, want int) []byte {
		rec := serve(t, sim, request{path: lms.KnobsPath, body: body})
		requireStatus(t, rec, want)
		return rec.Body.Bytes()
	}

	requireJSONEqual(t, get(), `{"fail_next":0,"latency":"0s","reject_courses":[]}`)
	requireJSONEqual(t, post(`{"fail_next":3}`, http.StatusOK), `{"fail_next":3,"latency":"0s","reject_courses":[]}`)
	requireJSONEqual(t, post(`{"latency":"250ms","reject_courses":["`+course+`"]}`, http.StatusOK),
		`{"fail_next":3,"latency":"250ms","reject_courses":["`+course+`"]}`)

	for _, bad := range []string{`{"fail_next":`, `{"fail_next":-1}`, `{"latency":"soon"}`, `{"latency":"-1s"}`} {
		if msg := field(t, post(bad, http.StatusBadRequest), "message"); msg == "" {
			t.Errorf("POST %s: no message", bad)
		}
	}
	want := lms.Knobs{FailNext: 3, Latency: 250 * time.Millisecond, RejectCourses: []string{course}}
	if got := sim.Knobs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Knobs = %+v, want %+v (bad requests must change nothing)", got, want)
	}
	requireJSONEqual(t, get(), `{"fail_next":3,"latency":"250ms","reject_courses":["`+course+`"]}`)
}

func TestReset(t *testing.T) {
	t.Parallel()

	for name, reset := range map[string]func(*lms.Simulator){
		"Go": (*lms.Simulator).Reset,
		"HTTP": func(sim *lms.Simulator) {
			requireStatus(t, serve(t, sim, request{path: lms.ResetPath}), http.StatusNoContent)
		},
	} {
		t.Run(name, func(t *testing.T) {
			sim := newSim(t)
			enroll(t, sim, "alice", course, "verified")
			sim.SetKnobs(lms.Knobs{FailNext: 1, Latency: time.Second, RejectCourses: []string{"x"}})

			reset(sim)

			if len(sim.Enrollments()) != 0 || sim.Calls() != 0 || sim.Successes("alice", course) != 0 {
				t.Fatal("Reset kept enrollments or counters")
			}
			if k := sim.Knobs(); !reflect.DeepEqual(k, lms.Knobs{}) {
				t.Fatalf("Knobs after Reset = %+v", k)
			}
		})
	}
}

func TestStateEndpoint(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	enroll(t, sim, "bob", course, "audit")
	enroll(t, sim, "alice", course, "verified", orderNumber)
	enroll(t, sim, "alice", course, "verified", orderNumber)

	rec := serve(t, sim, request{method: http.MethodGet, path: lms.StatePath})

	requireStatus(t, rec, http.StatusOK)
	requireJSONEqual(t, rec.Body.Bytes(), `{"calls":3,"enrollments":[
		{"created":"2024-03-01T12:00:00.000000Z","mode":"verified","is_active":true,
		 "course_details":{"course_id":"`+course+`"},"user":"alice",
		 "enrollment_attributes":[{"namespace":"order","name":"order_number","value":"EDX-100001"}],
		 "changes":1,"successes":2},
		{"created":"2024-03-01T12:00:00.000000Z","mode":"audit","is_active":true,
		 "course_details":{"course_id":"`+course+`"},"user":"bob",
		 "enrollment_attributes":[],"changes":1,"successes":1}]}`)
}

func TestInspectionReturnsCopies(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	enroll(t, sim, "alice", course, "verified", orderNumber)

	e, _ := sim.Enrollment("alice", course)
	e.Attributes[0].Value = "changed"
	sim.Enrollments()[0].Attributes[0].Value = "changed"

	if v, _ := sim.Enrollments()[0].Attribute("order", "order_number"); v != "EDX-100001" {
		t.Fatalf("stored attribute changed to %q", v)
	}
}

func TestWithLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	sim := newSim(t, lms.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))

	enroll(t, sim, "alice", course, "verified")

	if out := buf.String(); !strings.Contains(out, "enrollment saved") || !strings.Contains(out, "user=alice") {
		t.Fatalf("log = %q", out)
	}
}
