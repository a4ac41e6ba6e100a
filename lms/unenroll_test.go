package lms_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/coursecommerce/commerce/lms"
)

func TestUnenroll(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		status   int
		body     string
		wantKind lms.Kind // zero: success
	}{
		{name: "OK", status: http.StatusOK, body: `{"is_active":false}`},
		{name: "ModeMismatchCountsAsDone", status: http.StatusBadRequest,
			body: `{"message":"Enrollment mode mismatch: active mode=audit, requested mode=verified."}`},
		{name: "OtherBadRequestIsPermanent", status: http.StatusBadRequest,
			body: `{"message":"User not found"}`, wantKind: lms.KindClient},
		{name: "MismatchOnlyOn400", status: http.StatusForbidden,
			body: `{"message":"Enrollment mode mismatch"}`, wantKind: lms.KindClient},
		{name: "ServerError", status: http.StatusServiceUnavailable, body: `oops`, wantKind: lms.KindServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, tt.status, tt.body)

			err := lms.NewClient(ts.URL, apiKey).Unenroll(context.Background(), "alice", "course-v1:edX+DemoX+Demo_Course", "verified")

			req := ts.next(t)
			if req.method != http.MethodPost || req.path != "/api/enrollment/v1/enrollment" ||
				req.header.Get("X-Edx-Api-Key") != apiKey || req.header.Get("Content-Type") != "application/json" {
				t.Fatalf("request = %s %s %v", req.method, req.path, req.header)
			}
			requireJSONEqual(t, req.body, `{"user":"alice","is_active":false,"mode":"verified",
				"course_details":{"course_id":"course-v1:edX+DemoX+Demo_Course"}}`)

			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("Unenroll: %v", err)
				}
				return
			}
			var lmsErr *lms.Error
			if !errors.As(err, &lmsErr) || lmsErr.Kind != tt.wantKind || lmsErr.StatusCode != tt.status {
				t.Fatalf("error = %v, want %v with status %d", err, tt.wantKind, tt.status)
			}
		})
	}
}

func TestUnenrollRequiresArguments(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, http.StatusOK, `{}`)
	c := lms.NewClient(ts.URL, apiKey)

	for _, args := range [][3]string{
		{"", "course-v1:edX+DemoX+Demo_Course", "verified"},
		{"alice", "", "verified"},
		{"alice", "course-v1:edX+DemoX+Demo_Course", ""},
	} {
		if err := c.Unenroll(context.Background(), args[0], args[1], args[2]); !errors.Is(err, lms.ErrInvalidEnrollment) {
			t.Errorf("Unenroll%q = %v, want ErrInvalidEnrollment", args, err)
		}
	}
	if ts.hits.Load() != 0 {
		t.Fatal("invalid unenroll reached the server")
	}
}
