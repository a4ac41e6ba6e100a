package lms

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// Knobs are the failures the simulator injects into the enrollment API.
type Knobs struct {
	// FailNext is how many of the next enrollment POSTs answer 500
	// {"message":"simulated failure"}. Each failure decrements it.
	FailNext int
	// Latency is how long the enrollment API waits before answering. A
	// request canceled meanwhile gets no answer and changes nothing.
	Latency time.Duration
	// RejectCourses are course IDs whose enrollment POSTs answer 400
	// "course not found".
	RejectCourses []string
}

// Knobs returns the current knobs.
func (s *Simulator) Knobs() Knobs {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.knobs
	k.RejectCourses = slices.Clone(k.RejectCourses)
	return k
}

// SetKnobs replaces all knobs. Negative FailNext or Latency count as zero.
func (s *Simulator) SetKnobs(k Knobs) {
	k.FailNext = max(k.FailNext, 0)
	k.Latency = max(k.Latency, 0)
	k.RejectCourses = slices.Clone(k.RejectCourses)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs = k
}

// FailNext makes the next n enrollment POSTs answer 500.
func (s *Simulator) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.FailNext = max(n, 0)
}

// SetLatency makes the enrollment API wait d before answering.
func (s *Simulator) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.Latency = max(d, 0)
}

// RejectCourses makes enrollment POSTs for these course IDs answer 400, in
// place of any earlier list. Call it with none to accept every course.
func (s *Simulator) RejectCourses(courseIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs.RejectCourses = slices.Clone(courseIDs)
}

// Reset forgets all enrollments and counters (in the state file too) and clears the knobs.
func (s *Simulator) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs = Knobs{}
	s.enrollments = make(map[enrollmentKey]*Enrollment)
	s.successes = make(map[enrollmentKey]int)
	s.calls = 0
	s.saveReset()
}

// takeFailure consumes one FailNext and reports whether the call must fail.
func (s *Simulator) takeFailure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.knobs.FailNext <= 0 {
		return false
	}
	s.knobs.FailNext--
	return true
}

// rejects reports whether courseID is in RejectCourses.
func (s *Simulator) rejects(courseID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.knobs.RejectCourses, courseID)
}

// knobsJSON is the wire form of Knobs. On POST, absent fields keep their value.
type knobsJSON struct {
	FailNext      *int      `json:"fail_next"`
	Latency       *string   `json:"latency"` // a Go duration, such as "250ms"
	RejectCourses *[]string `json:"reject_courses"`
}

// toKnobsJSON converts knobs to their wire form.
func toKnobsJSON(k Knobs) knobsJSON {
	latency := k.Latency.String()
	courses := k.RejectCourses
	if courses == nil {
		courses = []string{}
	}
	return knobsJSON{FailNext: &k.FailNext, Latency: &latency, RejectCourses: &courses}
}

// applyTo returns k changed by the fields present in j.
func (j knobsJSON) applyTo(k Knobs) (Knobs, error) {
	if j.FailNext != nil {
		if *j.FailNext < 0 {
			return k, errors.New("fail_next must not be negative")
		}
		k.FailNext = *j.FailNext
	}
	if j.Latency != nil {
		d, err := time.ParseDuration(*j.Latency)
		if err != nil {
			return k, fmt.Errorf("latency: %w", err)
		}
		if d < 0 {
			return k, errors.New("latency must not be negative")
		}
		k.Latency = d
	}
	if j.RejectCourses != nil {
		k.RejectCourses = slices.Clone(*j.RejectCourses)
	}
	return k, nil
}

// handleGetKnobs serves GET /__sim/knobs.
func (s *Simulator) handleGetKnobs(w http.ResponseWriter, _ *http.Request) {
	simhttp.WriteJSON(w, http.StatusOK, toKnobsJSON(s.Knobs()))
}

// handleSetKnobs serves POST /__sim/knobs: it changes the knobs named in the
// body, such as {"fail_next":3}, and answers with all of them.
func (s *Simulator) handleSetKnobs(w http.ResponseWriter, r *http.Request) {
	var j knobsJSON
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes)).Decode(&j); err != nil {
		writeMessage(w, http.StatusBadRequest, fmt.Sprintf("malformed JSON: %v", err))
		return
	}
	k, err := simhttp.Update(&s.mu, &s.knobs, j.applyTo)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	simhttp.WriteJSON(w, http.StatusOK, toKnobsJSON(k))
}

// handleReset serves POST /__sim/reset.
func (s *Simulator) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}
