package lms

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
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

// Simulator is an in-memory LMS: the enrollment API and what edX's payment page needs from
// the LMS (see browser.go). Create it with New.
type Simulator struct {
	apiKey string
	logger *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux
	// jwtSecret and jwtIssuer sign the JWT cookies (WithJWT); no secret, no logins.
	jwtSecret, jwtIssuer string
	// corsOrigins may call the simulator with credentials (WithCORSOrigins).
	corsOrigins map[string]bool
	// stateFile keeps the enrollments across restarts (WithStateFile); empty: memory only.
	stateFile string

	mu          sync.Mutex
	knobs       Knobs
	enrollments map[enrollmentKey]*Enrollment
	successes   map[enrollmentKey]int
	calls       int
	sessions    map[string]account
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

// WithJWT makes the simulator log development users in: it signs their JWTs (HS256) with
// secret and issuer, which must be the service's JWT_SECRET_KEY and one of its JWT_ISSUERS.
// Without it the login routes answer 503.
func WithJWT(secret, issuer string) Option {
	return func(s *Simulator) {
		s.jwtSecret, s.jwtIssuer = secret, issuer
	}
}

// WithCORSOrigins lets pages on these exact origins (such as edX's payment page,
// http://localhost:1998) call the simulator with credentials, as the LMS's CORS settings do.
func WithCORSOrigins(origins ...string) Option {
	return func(s *Simulator) {
		for _, o := range origins {
			s.corsOrigins[o] = true
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
		corsOrigins: make(map[string]bool),
		sessions:    make(map[string]account),
	}
	for _, opt := range opts {
		opt(s)
	}
	s.loadState()
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST "+EnrollmentPath, s.handleEnroll)
	s.mux.HandleFunc("GET "+EnrollmentPath+"/{rest...}", s.handleGetEnrollment)
	s.mux.HandleFunc("GET "+KnobsPath, s.handleGetKnobs)
	s.mux.HandleFunc("POST "+KnobsPath, s.handleSetKnobs)
	s.mux.HandleFunc("POST "+ResetPath, s.handleReset)
	s.mux.HandleFunc("GET "+StatePath, s.handleState)
	s.handleBrowserRoutes()
	return s
}

// ServeHTTP serves the enrollment API, the payment page's LMS routes and the /__sim/
// endpoints, after answering CORS (see answerCORS).
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.answerCORS(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// writeMessage answers with status and {"message": msg}, as the LMS does for
// enrollment errors.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	simhttp.WriteJSON(w, status, map[string]string{"message": msg})
}
