package lms_test

import (
	"net/http"
	"testing"
)

func TestGetEnrollment(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	enroll(t, sim, "alice", course, "verified")
	enroll(t, sim, "alice", "edX/DemoX/Demo_Course", "honor")
	const base = "/api/enrollment/v1/enrollment/"

	tests := []struct {
		name       string
		path       string
		header     map[string]string
		wantStatus int
		wantCourse string
		wantMode   string
	}{
		{"Raw", base + "alice," + course, nil, http.StatusOK, course, "verified"},
		{"Escaped", base + "alice,course-v1%3AedX%2BDemoX%2BDemo_Course", nil, http.StatusOK, course, "verified"},
		{"EscapedComma", base + "alice%2Ccourse-v1:edX+DemoX+Demo_Course", nil, http.StatusOK, course, "verified"},
		{"TrailingSlash", base + "alice," + course + "/", nil, http.StatusOK, course, "verified"},
		{"OldStyleCourseID", base + "alice,edX/DemoX/Demo_Course", nil, http.StatusOK, "edX/DemoX/Demo_Course", "honor"},
		{"UnknownUser", base + "bob," + course, nil, http.StatusNotFound, "", ""},
		{"UnknownCourse", base + "alice,course-v1:edX+Other+2024", nil, http.StatusNotFound, "", ""},
		{"NoComma", base + course, nil, http.StatusBadRequest, "", ""},
		{"EmptyUser", base + "," + course, nil, http.StatusBadRequest, "", ""},
		{"Empty", base, nil, http.StatusBadRequest, "", ""},
		{"NoAPIKey", base + "alice," + course, map[string]string{"X-Edx-Api-Key": ""}, http.StatusUnauthorized, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, sim, request{method: http.MethodGet, path: tt.path, header: tt.header})

			requireStatus(t, rec, tt.wantStatus)
			if tt.wantStatus != http.StatusOK {
				return
			}
			requireJSONEqual(t, rec.Body.Bytes(), `{"created":"2024-03-01T12:00:00.000000Z","mode":"`+tt.wantMode+
				`","is_active":true,"course_details":{"course_id":"`+tt.wantCourse+`"},"user":"alice"}`)
		})
	}
	t.Cleanup(func() {
		if sim.Calls() != 2 {
			t.Errorf("Calls = %d, want 2 (GETs are not counted)", sim.Calls())
		}
	})
}
