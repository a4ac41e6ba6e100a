package lms

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// Enrollments returns every enrollment, active or not, sorted by user and
// course ID.
func (s *Simulator) Enrollments() []Enrollment {
	s.mu.Lock()
	out := make([]Enrollment, 0, len(s.enrollments))
	for _, e := range s.enrollments {
		out = append(out, e.clone())
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Enrollment) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.CourseID, b.CourseID))
	})
	return out
}

// Enrollment returns the enrollment of user in courseID, and whether it exists.
func (s *Simulator) Enrollment(user, courseID string) (Enrollment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.enrollments[enrollmentKey{user, courseID}]
	if !ok {
		return Enrollment{}, false
	}
	return e.clone(), true
}

// Calls returns how many enrollment POSTs arrived, whatever their answer.
func (s *Simulator) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Successes returns how many enrollment POSTs for user in courseID were
// answered 200, repeats included.
func (s *Simulator) Successes(user, courseID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.successes[enrollmentKey{user, courseID}]
}

// stateJSON is the wire form of GET /__sim/enrollments.
type stateJSON struct {
	Calls       int              `json:"calls"`
	Enrollments []enrollmentJSON `json:"enrollments"`
}

// enrollmentJSON is the full wire form of an enrollment, for inspection.
type enrollmentJSON struct {
	enrollmentResponse
	Attributes []Attribute `json:"enrollment_attributes"`
	Changes    int         `json:"changes"`
	Successes  int         `json:"successes"`
}

// handleState serves GET /__sim/enrollments with one consistent snapshot.
func (s *Simulator) handleState(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	state := stateJSON{Calls: s.calls, Enrollments: make([]enrollmentJSON, 0, len(s.enrollments))}
	for key, e := range s.enrollments {
		attrs := slices.Clone(e.Attributes)
		if attrs == nil {
			attrs = []Attribute{}
		}
		state.Enrollments = append(state.Enrollments, enrollmentJSON{
			enrollmentResponse: toResponse(*e),
			Attributes:         attrs,
			Changes:            e.Changes,
			Successes:          s.successes[key],
		})
	}
	s.mu.Unlock()
	slices.SortFunc(state.Enrollments, func(a, b enrollmentJSON) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.CourseDetails.CourseID, b.CourseDetails.CourseID))
	})
	simhttp.WriteJSON(w, http.StatusOK, state)
}
