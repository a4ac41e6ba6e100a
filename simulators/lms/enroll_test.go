package lms_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/simulators/lms"
)

var (
	orderNumber = lms.Attribute{Namespace: "order", Name: "order_number", Value: "EDX-100001"}
	datePlaced  = lms.Attribute{Namespace: "order", Name: "date_placed", Value: "2024-03-01T11:59:00Z"}
)

func TestEnrollCreatesEnrollment(t *testing.T) {
	t.Parallel()
	sim := newSim(t)

	rec := serve(t, sim, request{body: enrollBody("alice", course, "verified", true, orderNumber, datePlaced)})

	requireStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	requireJSONEqual(t, rec.Body.Bytes(), `{"created":"2024-03-01T12:00:00.000000Z","mode":"verified",
		"is_active":true,"course_details":{"course_id":"`+course+`"},"user":"alice"}`)

	want := lms.Enrollment{
		User: "alice", CourseID: course, Mode: "verified", IsActive: true,
		Attributes: []lms.Attribute{orderNumber, datePlaced}, Created: t0, Changes: 1,
	}
	got, ok := sim.Enrollment("alice", course)
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("Enrollment = %+v, %v; want %+v", got, ok, want)
	}
	if v, ok := got.Attribute("order", "order_number"); !ok || v != "EDX-100001" {
		t.Fatalf("order_number = %q, %v", v, ok)
	}
	if _, ok := got.Attribute("credit", "provider_id"); ok {
		t.Fatal("unexpected credit attribute")
	}
	if sim.Calls() != 1 || sim.Successes("alice", course) != 1 {
		t.Fatalf("Calls = %d, Successes = %d", sim.Calls(), sim.Successes("alice", course))
	}
}

func TestEnrollDefaultsToActiveAudit(t *testing.T) {
	t.Parallel()
	sim := newSim(t)

	rec := serve(t, sim, request{body: `{"user":"bob","course_details":{"course_id":"` + course + `"}}`})

	requireStatus(t, rec, http.StatusOK)
	got, _ := sim.Enrollment("bob", course)
	if got.Mode != "audit" || !got.IsActive {
		t.Fatalf("Enrollment = %+v, want active audit", got)
	}
}

func TestEnrollIsIdempotent(t *testing.T) {
	t.Parallel()
	now := t0
	sim := lms.New(apiKey, lms.WithClock(func() time.Time { return now }))

	enroll(t, sim, "alice", course, "verified", orderNumber, datePlaced)
	now = now.Add(time.Hour)
	enroll(t, sim, "alice", course, "verified", orderNumber, datePlaced)

	all := sim.Enrollments()
	if len(all) != 1 {
		t.Fatalf("got %d enrollments, want 1", len(all))
	}
	if e := all[0]; e.Changes != 1 || !e.Created.Equal(t0) || len(e.Attributes) != 2 {
		t.Fatalf("repeat changed the enrollment: %+v", e)
	}
	if sim.Successes("alice", course) != 2 || sim.Calls() != 2 {
		t.Fatalf("Successes = %d, Calls = %d; want 2, 2", sim.Successes("alice", course), sim.Calls())
	}
}

func TestEnrollUpdatesModeAndAttributes(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	enroll(t, sim, "alice", course, "audit", orderNumber)

	secondOrder := lms.Attribute{Namespace: "order", Name: "order_number", Value: "EDX-100002"}
	enroll(t, sim, "alice", course, "verified", secondOrder, datePlaced)

	got, _ := sim.Enrollment("alice", course)
	if got.Mode != "verified" || got.Changes != 2 {
		t.Fatalf("Enrollment = %+v, want verified with 2 changes", got)
	}
	if want := []lms.Attribute{secondOrder, datePlaced}; !reflect.DeepEqual(got.Attributes, want) {
		t.Fatalf("Attributes = %+v, want %+v", got.Attributes, want)
	}
}

func TestUnenroll(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	enroll(t, sim, "alice", course, "verified")

	t.Run("ModeMismatchIsRejected", func(t *testing.T) {
		rec := serve(t, sim, request{body: enrollBody("alice", course, "audit", false)})

		requireStatus(t, rec, http.StatusBadRequest)
		if msg := field(t, rec.Body.Bytes(), "message"); !strings.Contains(msg, "Enrollment mode mismatch") {
			t.Fatalf("message = %q", msg)
		}
		if got, _ := sim.Enrollment("alice", course); !got.IsActive || got.Mode != "verified" || got.Changes != 1 {
			t.Fatalf("mismatch changed the enrollment: %+v", got)
		}
		if sim.Successes("alice", course) != 1 {
			t.Fatal("a rejected unenroll counted as a success")
		}
	})
	t.Run("SameModeDeactivates", func(t *testing.T) {
		rec := serve(t, sim, request{body: enrollBody("alice", course, "verified", false)})

		requireStatus(t, rec, http.StatusOK)
		requireJSONEqual(t, rec.Body.Bytes(), `{"created":"2024-03-01T12:00:00.000000Z","mode":"verified",
			"is_active":false,"course_details":{"course_id":"`+course+`"},"user":"alice"}`)
		if got, _ := sim.Enrollment("alice", course); got.IsActive || got.Changes != 2 {
			t.Fatalf("Enrollment = %+v, want inactive with 2 changes", got)
		}
	})
	t.Run("RepeatIsIdempotent", func(t *testing.T) {
		requireStatus(t, serve(t, sim, request{body: enrollBody("alice", course, "verified", false)}), http.StatusOK)
		if got, _ := sim.Enrollment("alice", course); got.IsActive || got.Changes != 2 {
			t.Fatalf("Enrollment = %+v, want inactive with 2 changes", got)
		}
	})
	t.Run("ReenrollReactivates", func(t *testing.T) {
		enroll(t, sim, "alice", course, "verified")
		if got, _ := sim.Enrollment("alice", course); !got.IsActive || got.Changes != 3 {
			t.Fatalf("Enrollment = %+v, want active with 3 changes", got)
		}
	})
	t.Run("UnknownEnrollmentIsRecordedInactive", func(t *testing.T) {
		requireStatus(t, serve(t, sim, request{body: enrollBody("carol", course, "verified", false)}), http.StatusOK)
		if got, ok := sim.Enrollment("carol", course); !ok || got.IsActive {
			t.Fatalf("Enrollment = %+v, %v; want inactive", got, ok)
		}
	})
}

func TestEnrollRejectsBadRequests(t *testing.T) {
	t.Parallel()
	valid := enrollBody("alice", course, "verified", true)

	tests := []struct {
		name       string
		body       string
		header     map[string]string
		wantStatus int
		wantField  string // "detail" or "message"
		wantText   string
	}{
		{"MissingAPIKey", valid, map[string]string{"X-Edx-Api-Key": ""}, http.StatusUnauthorized,
			"detail", "Authentication credentials were not provided."},
		{"WrongAPIKey", valid, map[string]string{"X-Edx-Api-Key": "nope"}, http.StatusUnauthorized,
			"detail", "Invalid API key."},
		{"NotJSON", valid, map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType,
			"detail", "Unsupported media type"},
		{"MalformedJSON", `{"user":`, nil, http.StatusBadRequest, "message", "malformed JSON"},
		{"TrailingGarbage", valid + "x", nil, http.StatusBadRequest, "message", "malformed JSON"},
		{"WrongType", `{"user":1,"course_details":{"course_id":"c"}}`, nil, http.StatusBadRequest,
			"message", "malformed JSON"},
		{"MissingUser", `{"course_details":{"course_id":"` + course + `"}}`, nil, http.StatusBadRequest,
			"message", "user must be specified"},
		{"MissingCourseDetails", `{"user":"alice"}`, nil, http.StatusBadRequest,
			"message", "course ID must be specified"},
		{"EmptyCourseID", `{"user":"alice","course_details":{"course_id":""}}`, nil, http.StatusBadRequest,
			"message", "course ID must be specified"},
		{"AttributeWithoutName", enrollBody("alice", course, "verified", true, lms.Attribute{Namespace: "order"}),
			nil, http.StatusBadRequest, "message", "invalid enrollment attribute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := newSim(t)

			rec := serve(t, sim, request{body: tt.body, header: tt.header})

			requireStatus(t, rec, tt.wantStatus)
			if got := field(t, rec.Body.Bytes(), tt.wantField); !strings.Contains(got, tt.wantText) {
				t.Fatalf("%s = %q, want it to contain %q", tt.wantField, got, tt.wantText)
			}
			if len(sim.Enrollments()) != 0 || sim.Calls() != 1 {
				t.Fatalf("enrollments = %d, calls = %d; want 0, 1", len(sim.Enrollments()), sim.Calls())
			}
		})
	}
}

func TestEmptyAPIKeyRejectsEverything(t *testing.T) {
	t.Parallel()
	sim := lms.New("")

	for _, key := range []string{"", "anything"} {
		rec := serve(t, sim, request{body: enrollBody("alice", course, "verified", true),
			header: map[string]string{"X-Edx-Api-Key": key}})
		requireStatus(t, rec, http.StatusUnauthorized)
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	sim := newSim(t)

	requireStatus(t, serve(t, sim, request{method: http.MethodPut}), http.StatusMethodNotAllowed)
	requireStatus(t, serve(t, sim, request{method: http.MethodGet, path: "/api/other"}), http.StatusNotFound)
	if sim.Calls() != 0 {
		t.Fatalf("Calls = %d, want 0", sim.Calls())
	}
}
