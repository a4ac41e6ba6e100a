package lms

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// datePlacedLayout is how the date_placed attribute is written, always in UTC.
const datePlacedLayout = "2006-01-02T15:04:05Z"

// Enrollment is one seat to fulfil: who to enroll, in which course run and
// mode, and the order that paid for it.
type Enrollment struct {
	// Username is the learner's LMS username.
	Username string
	// Mode is the enrollment mode for the seat, such as "verified" or "audit".
	Mode string
	// CourseID is the course run key, such as "course-v1:edX+DemoX+Demo_Course".
	CourseID string
	// OrderNumber is the order that paid for the seat, such as "EDX-100001".
	OrderNumber string
	// DatePlaced is when the order was placed. It is sent in UTC, to the second.
	DatePlaced time.Time
	// CreditProvider is the credit provider ID. Set it only for credit seats.
	CreditProvider string
	// GAClientID is the Google Analytics client ID, sent as X-Edx-Ga-Client-Id
	// when set.
	GAClientID string
	// ForwardedFor is the learner's IP address, sent as X-Forwarded-For when set.
	ForwardedFor string
}

// validate returns ErrInvalidEnrollment, naming the missing fields, if any
// required field is empty.
func (e Enrollment) validate() error {
	var missing []string
	for _, f := range []struct {
		name  string
		empty bool
	}{
		{"username", e.Username == ""},
		{"mode", e.Mode == ""},
		{"course ID", e.CourseID == ""},
		{"order number", e.OrderNumber == ""},
		{"date placed", e.DatePlaced.IsZero()},
	} {
		if f.empty {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrInvalidEnrollment, strings.Join(missing, ", "))
	}
	return nil
}

// request builds the body of the enrollment POST.
func (e Enrollment) request() enrollmentRequest {
	attrs := []attribute{
		{Namespace: "order", Name: "order_number", Value: e.OrderNumber},
		{Namespace: "order", Name: "date_placed", Value: e.DatePlaced.UTC().Format(datePlacedLayout)},
	}
	if e.CreditProvider != "" {
		attrs = append(attrs, attribute{Namespace: "credit", Name: "provider_id", Value: e.CreditProvider})
	}
	return enrollmentRequest{
		User:          e.Username,
		IsActive:      true,
		Mode:          e.Mode,
		CourseDetails: courseDetails{CourseID: e.CourseID},
		Attributes:    attrs,
	}
}

// headers returns the optional tracking headers that are set.
func (e Enrollment) headers() http.Header {
	h := http.Header{}
	if e.GAClientID != "" {
		h.Set("X-Edx-Ga-Client-Id", e.GAClientID)
	}
	if e.ForwardedFor != "" {
		h.Set("X-Forwarded-For", e.ForwardedFor)
	}
	return h
}

// enrollmentRequest is the JSON body of POST /api/enrollment/v1/enrollment.
type enrollmentRequest struct {
	User          string        `json:"user"`
	IsActive      bool          `json:"is_active"`
	Mode          string        `json:"mode"`
	CourseDetails courseDetails `json:"course_details"`
	Attributes    []attribute   `json:"enrollment_attributes,omitempty"`
}

// courseDetails names the course run of an enrollment request.
type courseDetails struct {
	CourseID string `json:"course_id"`
}

// attribute is one enrollment attribute of an enrollment request.
type attribute struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Value     string `json:"value"`
}
