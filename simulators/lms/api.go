package lms

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// maxRequestBytes caps the size of an enrollment request body.
const maxRequestBytes = 1 << 20

// enrollmentRequest is the JSON body of POST /api/enrollment/v1/enrollment.
type enrollmentRequest struct {
	User          string `json:"user"`
	Mode          string `json:"mode"`
	IsActive      *bool  `json:"is_active"`
	CourseDetails struct {
		CourseID string `json:"course_id"`
	} `json:"course_details"`
	Attributes []Attribute `json:"enrollment_attributes"`
}

// enrollmentResponse is the LMS's JSON form of an enrollment.
type enrollmentResponse struct {
	Created       string `json:"created"`
	Mode          string `json:"mode"`
	IsActive      bool   `json:"is_active"`
	CourseDetails struct {
		CourseID string `json:"course_id"`
	} `json:"course_details"`
	User string `json:"user"`
}

// createdLayout is how the LMS writes timestamps: UTC with microseconds.
const createdLayout = "2006-01-02T15:04:05.000000Z"

// toResponse converts an enrollment to its wire form.
func toResponse(e Enrollment) enrollmentResponse {
	r := enrollmentResponse{
		Created:  e.Created.UTC().Format(createdLayout),
		Mode:     e.Mode,
		IsActive: e.IsActive,
		User:     e.User,
	}
	r.CourseDetails.CourseID = e.CourseID
	return r
}

// handleEnroll serves POST /api/enrollment/v1/enrollment: it reads the body,
// waits for the latency knob, checks the API key, applies FailNext, validates
// the body, applies RejectCourses, and then creates or updates the enrollment.
func (s *Simulator) handleEnroll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()

	// Reading the whole body first lets net/http notice a client that hangs
	// up during the latency wait, which cancels r.Context().
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if !s.wait(r) || !s.authorized(w, r) {
		return
	}
	if s.takeFailure() {
		s.log(r, slog.LevelWarn, "simulated failure", http.StatusInternalServerError)
		writeMessage(w, http.StatusInternalServerError, "simulated failure")
		return
	}
	c, err := decodeChange(r.Header.Get("Content-Type"), body, readErr)
	if err != nil {
		var mediaErr unsupportedMediaError
		if errors.As(err, &mediaErr) {
			simhttp.WriteJSON(w, http.StatusUnsupportedMediaType, map[string]string{"detail": mediaErr.Error()})
			return
		}
		s.log(r, slog.LevelWarn, err.Error(), http.StatusBadRequest)
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.rejects(c.courseID) {
		s.log(r, slog.LevelWarn, "rejected course", http.StatusBadRequest, "course_id", c.courseID)
		writeMessage(w, http.StatusBadRequest,
			fmt.Sprintf("course not found: no course '%s' found for enrollment", c.courseID))
		return
	}

	s.mu.Lock()
	e, err := s.apply(c)
	s.mu.Unlock()
	if err != nil {
		s.log(r, slog.LevelWarn, err.Error(), http.StatusBadRequest, "user", c.user, "course_id", c.courseID)
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	s.log(r, slog.LevelInfo, "enrollment saved", http.StatusOK,
		"user", e.User, "course_id", e.CourseID, "mode", e.Mode, "is_active", e.IsActive)
	simhttp.WriteJSON(w, http.StatusOK, toResponse(e))
}

// handleGetEnrollment serves GET /api/enrollment/v1/enrollment/{user},{course_id}.
func (s *Simulator) handleGetEnrollment(w http.ResponseWriter, r *http.Request) {
	if !s.wait(r) || !s.authorized(w, r) {
		return
	}
	// PathValue is path-unescaped: %3A and %2C decode, and '+' stays '+'.
	rest := strings.TrimSuffix(r.PathValue("rest"), "/")
	user, courseID, ok := strings.Cut(rest, ",")
	if !ok || user == "" || courseID == "" {
		writeMessage(w, http.StatusBadRequest, "expected /api/enrollment/v1/enrollment/{username},{course_id}")
		return
	}
	e, found := s.Enrollment(user, courseID)
	if !found {
		writeMessage(w, http.StatusNotFound,
			fmt.Sprintf("no enrollment of user '%s' in course '%s'", user, courseID))
		return
	}
	simhttp.WriteJSON(w, http.StatusOK, toResponse(e))
}

// wait sleeps for the latency knob and reports false, having answered
// nothing, if the request is canceled first.
func (s *Simulator) wait(r *http.Request) bool {
	s.mu.Lock()
	d := s.knobs.Latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// authorized checks the X-Edx-Api-Key header, answering 401 if it is wrong.
func (s *Simulator) authorized(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("X-Edx-Api-Key")
	var detail string
	switch {
	case key == "":
		detail = "Authentication credentials were not provided."
	case s.apiKey == "" || subtle.ConstantTimeCompare([]byte(key), []byte(s.apiKey)) != 1:
		detail = "Invalid API key."
	default:
		return true
	}
	s.log(r, slog.LevelWarn, detail, http.StatusUnauthorized)
	simhttp.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": detail})
	return false
}

// unsupportedMediaError is a request body that is not JSON.
type unsupportedMediaError struct{ contentType string }

// Error returns the detail the simulator sends with the 415 answer.
func (e unsupportedMediaError) Error() string {
	return fmt.Sprintf("Unsupported media type %q in request.", e.contentType)
}

// decodeChange validates an enrollment request, given its content type, its
// body and the error from reading it. Its errors are unsupportedMediaError or
// a message for a 400 answer.
func decodeChange(contentType string, body []byte, readErr error) (change, error) {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return change{}, unsupportedMediaError{contentType: contentType}
	}
	if readErr != nil {
		return change{}, fmt.Errorf("could not read the request body: %w", readErr)
	}
	if len(body) > maxRequestBytes {
		return change{}, errors.New("request body too large")
	}
	var req enrollmentRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return change{}, fmt.Errorf("malformed JSON: %w", err)
	}
	if req.User == "" {
		return change{}, errors.New("user must be specified")
	}
	if req.CourseDetails.CourseID == "" {
		return change{}, errors.New("course ID must be specified to create a new enrollment")
	}
	for _, a := range req.Attributes {
		if a.Namespace == "" || a.Name == "" {
			return change{}, errors.New("invalid enrollment attribute: namespace and name are required")
		}
	}
	isActive := true
	if req.IsActive != nil {
		isActive = *req.IsActive
	}
	return change{
		user:       req.User,
		courseID:   req.CourseDetails.CourseID,
		mode:       req.Mode,
		isActive:   isActive,
		attributes: req.Attributes,
	}, nil
}

// log records one answered API call.
func (s *Simulator) log(r *http.Request, level slog.Level, msg string, status int, args ...any) {
	args = append([]any{"method", r.Method, "path", r.URL.Path, "status", status}, args...)
	s.logger.Log(r.Context(), level, "lms simulator: "+msg, args...)
}
