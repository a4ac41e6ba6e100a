package lms_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/simulators/lms"
)

const (
	apiKey = "sim-key"
	course = "course-v1:edX+DemoX+Demo_Course"
)

// t0 is the simulator clock used by tests that check "created".
var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// newSim returns a simulator with a fixed clock.
func newSim(t *testing.T, opts ...lms.Option) *lms.Simulator {
	t.Helper()
	return lms.New(apiKey, append([]lms.Option{lms.WithClock(func() time.Time { return t0 })}, opts...)...)
}

// request describes one request to a simulator. Unless set, headers carry
// the right API key and a JSON content type.
type request struct {
	method, path, body string
	header             map[string]string
	ctx                context.Context
}

// serve sends r to h and returns the recorded answer.
func serve(t *testing.T, h http.Handler, r request) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = lms.EnrollmentPath
	}
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.ctx != nil {
		req = req.WithContext(r.ctx)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Edx-Api-Key", apiKey)
	for k, v := range r.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// enrollBody returns an enrollment request body.
func enrollBody(user, courseID, mode string, active bool, attrs ...lms.Attribute) string {
	b, _ := json.Marshal(map[string]any{
		"user":                  user,
		"mode":                  mode,
		"is_active":             active,
		"course_details":        map[string]string{"course_id": courseID},
		"enrollment_attributes": attrs,
	})
	return string(b)
}

// enroll posts an active enrollment and requires a 200.
func enroll(t *testing.T, h http.Handler, user, courseID, mode string, attrs ...lms.Attribute) {
	t.Helper()
	if rec := serve(t, h, request{body: enrollBody(user, courseID, mode, true, attrs...)}); rec.Code != http.StatusOK {
		t.Fatalf("enroll %s in %s: status %d: %s", user, courseID, rec.Code, rec.Body)
	}
}

// requireStatus fails unless rec has status want.
func requireStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, want, rec.Body)
	}
}

// requireJSONEqual fails unless got and want hold the same JSON value.
func requireJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body mismatch\n got: %s\nwant: %s", got, want)
	}
}

// field decodes the JSON object in body and returns its string field name.
func field(t *testing.T, body []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	s, _ := m[name].(string)
	return s
}
