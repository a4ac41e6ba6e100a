package lms

import (
	"fmt"
	"slices"
	"time"
)

// defaultMode is the mode given to a new enrollment whose request names none.
const defaultMode = "audit"

// Enrollment is the simulator's record of one user's enrollment in one
// course run.
type Enrollment struct {
	// User is the username.
	User string
	// CourseID is the course run key.
	CourseID string
	// Mode is the enrollment mode, such as "verified".
	Mode string
	// IsActive is false once the user was unenrolled.
	IsActive bool
	// Attributes are the enrollment attributes, one per namespace and name,
	// in the order first seen.
	Attributes []Attribute
	// Created is when the enrollment was first created.
	Created time.Time
	// Changes counts the requests that created or changed the enrollment;
	// a repeated identical request does not count.
	Changes int
}

// Attribute is one enrollment attribute, such as the order number.
type Attribute struct {
	// Namespace groups attributes, such as "order" or "credit".
	Namespace string `json:"namespace"`
	// Name is the attribute name, such as "order_number".
	Name string `json:"name"`
	// Value is the attribute value.
	Value string `json:"value"`
}

// Attribute returns the value of the attribute namespace/name, and whether it
// is set.
func (e Enrollment) Attribute(namespace, name string) (string, bool) {
	for _, a := range e.Attributes {
		if a.Namespace == namespace && a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// clone returns a copy of e that shares no memory with it.
func (e Enrollment) clone() Enrollment {
	e.Attributes = slices.Clone(e.Attributes)
	return e
}

// change is a validated enrollment request.
type change struct {
	user, courseID, mode string
	isActive             bool
	attributes           []Attribute
}

// modeMismatchError is the LMS's refusal to deactivate an enrollment in a mode
// other than its current one.
type modeMismatchError struct{ active, requested string }

// Error returns the message the simulator sends with the 400 answer.
func (e modeMismatchError) Error() string {
	return fmt.Sprintf("Enrollment mode mismatch: active mode=%s, requested mode=%s. Won't deactivate.",
		e.active, e.requested)
}

// apply creates or updates the enrollment named by c and counts a success.
// It returns a copy of the result, or modeMismatchError, and appends it to the state file
// (WithStateFile). Callers hold s.mu.
func (s *Simulator) apply(c change) (Enrollment, error) {
	key := enrollmentKey{c.user, c.courseID}
	cur, ok := s.enrollments[key]
	if !ok {
		mode := c.mode
		if mode == "" {
			mode = defaultMode
		}
		cur = &Enrollment{User: c.user, CourseID: c.courseID, Mode: mode, IsActive: c.isActive, Created: s.now().UTC()}
		mergeAttributes(cur, c.attributes)
		cur.Changes = 1
		s.enrollments[key] = cur
		s.successes[key]++
		s.saveEnrollment(key)
		return cur.clone(), nil
	}

	if !c.isActive && c.mode != "" && c.mode != cur.Mode {
		return Enrollment{}, modeMismatchError{active: cur.Mode, requested: c.mode}
	}
	changed := mergeAttributes(cur, c.attributes)
	if c.mode != "" && c.mode != cur.Mode {
		cur.Mode = c.mode
		changed = true
	}
	if c.isActive != cur.IsActive {
		cur.IsActive = c.isActive
		changed = true
	}
	if changed {
		cur.Changes++
	}
	s.successes[key]++
	s.saveEnrollment(key)
	return cur.clone(), nil
}

// mergeAttributes sets each attribute on e, replacing the value of one with
// the same namespace and name, and reports whether anything changed.
func mergeAttributes(e *Enrollment, attrs []Attribute) bool {
	changed := false
	for _, a := range attrs {
		i := slices.IndexFunc(e.Attributes, func(b Attribute) bool {
			return b.Namespace == a.Namespace && b.Name == a.Name
		})
		switch {
		case i < 0:
			e.Attributes = append(e.Attributes, a)
			changed = true
		case e.Attributes[i].Value != a.Value:
			e.Attributes[i].Value = a.Value
			changed = true
		}
	}
	return changed
}
