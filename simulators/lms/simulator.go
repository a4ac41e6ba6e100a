package lms

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Paths served by a Simulator.
const (
	// EnrollmentPath is the LMS enrollment API. GET takes "/{user},{course_id}" after it.
	EnrollmentPath = "/api/enrollment/v1/enrollment"
	// KnobsPath reads (GET) and changes (POST) the knobs as JSON.
	KnobsPath = "/__sim/knobs"
	// ResetPath forgets all enrollments, counters and knobs (POST).
	ResetPath = "/__sim/reset"
	// StatePath lists the enrollments and the call count as JSON (GET).
	StatePath = "/__sim/enrollments"
)

// Simulator is an in-memory LMS enrollment API. Create it with New.
type Simulator struct {
	apiKey string
	logger *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux

	mu          sync.Mutex
	knobs       Knobs
	enrollments map[enrollmentKey]*Enrollment
	successes   map[enrollmentKey]int
	calls       int
}

// enrollmentKey identifies an enrollment: one per user and course run.
type enrollmentKey struct{ user, courseID string }

// Option configures a Simulator.
type Option func(*Simulator)

// WithLogger logs each enrollment API call to l. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *Simulator) {
		if l != nil {
			s.logger = l
		}
	}
}

// WithClock makes the simulator read the time from now, which stamps the
// "created" time of new enrollments. By default it uses time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Simulator) {
		if now != nil {
			s.now = now
		}
	}
}

// New returns a simulator that accepts requests whose X-Edx-Api-Key header
// equals apiKey. With an empty apiKey every API request is rejected with 401.
func New(apiKey string, opts ...Option) *Simulator {
	s := &Simulator{
		apiKey:      apiKey,
		logger:      slog.New(slog.DiscardHandler),
		now:         time.Now,
		enrollments: make(map[enrollmentKey]*Enrollment),
		successes:   make(map[enrollmentKey]int),
	}
	for _, opt := range opts {
		opt(s)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST "+EnrollmentPath, s.handleEnroll)
	s.mux.HandleFunc("GET "+EnrollmentPath+"/{rest...}", s.handleGetEnrollment)
	s.mux.HandleFunc("GET "+KnobsPath, s.handleGetKnobs)
	s.mux.HandleFunc("POST "+KnobsPath, s.handleSetKnobs)
	s.mux.HandleFunc("POST "+ResetPath, s.handleReset)
	s.mux.HandleFunc("GET "+StatePath, s.handleState)
	return s
}

// ServeHTTP serves the enrollment API and the /__sim/ endpoints.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// writeJSON answers with status and v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeMessage answers with status and {"message": msg}, as the LMS does for
// enrollment errors.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}
