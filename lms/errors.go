package lms

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrNotConfigured means the client has no LMS base URL or API key, or the base
// URL is not an absolute http(s) URL. No request is sent. edX marks the
// lines "Fulfillment Configuration Error" in this case.
var ErrNotConfigured = errors.New("lms: client not configured")

// ErrInvalidEnrollment means a required field of the enrollment (username,
// course ID, mode, order number or date placed) is empty. No request is sent.
var ErrInvalidEnrollment = errors.New("lms: invalid enrollment")

// Line statuses that edX ecommerce gives an order line after fulfillment.
const (
	lineStatusComplete           = "Complete"
	lineStatusServerError        = "Fulfillment Server Error"
	lineStatusNetworkError       = "Fulfillment Network Error"
	lineStatusTimeoutError       = "Fulfillment Timeout Error"
	lineStatusConfigurationError = "Fulfillment Configuration Error"
)

// Kind classifies a failed call to the LMS enrollment API.
type Kind int

const (
	// KindServer is a 5xx answer, or any other non-2xx answer that is not a 4xx.
	// It can be retried.
	KindServer Kind = iota + 1
	// KindClient is a 4xx answer: the LMS rejected the request, so repeating it
	// will not help.
	KindClient
	// KindNetwork is a failure to connect, or a dropped connection. It can be
	// retried.
	KindNetwork
	// KindTimeout means the client timeout or the caller's deadline expired
	// before an answer arrived. It can be retried.
	KindTimeout
)

// String returns a short lower-case name of the kind, such as "server".
func (k Kind) String() string {
	switch k {
	case KindServer:
		return "server"
	case KindClient:
		return "client"
	case KindNetwork:
		return "network"
	case KindTimeout:
		return "timeout"
	default:
		return fmt.Sprintf("kind(%d)", int(k))
	}
}

// LineStatus returns the edX order line status for a failure of this kind.
// edX marks every non-200 answer "Fulfillment Server Error", 4xx included,
// and also uses that status for kinds it does not know.
func (k Kind) LineStatus() string {
	switch k {
	case KindNetwork:
		return lineStatusNetworkError
	case KindTimeout:
		return lineStatusTimeoutError
	default:
		return lineStatusServerError
	}
}

// Error is a failed call to the LMS enrollment API. StatusCode and Message
// are set when the LMS answered. Err is the transport error when it did not.
type Error struct {
	// Kind classifies the failure.
	Kind Kind
	// StatusCode is the HTTP status of the answer, or 0 if there was none.
	StatusCode int
	// Message is the JSON "message" (or "detail") of the answer, or the start
	// of its body, at most 500 bytes.
	Message string
	// Err is the underlying transport error, if any.
	Err error
}

// Error describes the failure without the API key or the request body.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s error", e.Kind)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": status %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying transport error, so that errors.Is finds
// context.DeadlineExceeded or a *net.OpError.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed later: true for
// network errors, timeouts and server errors, false for 4xx answers.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindServer, KindNetwork, KindTimeout:
		return true
	default:
		return false
	}
}

// LineStatusOf returns the edX order line status for the result of Enroll:
// "Complete" for nil, "Fulfillment Configuration Error" for ErrNotConfigured
// and ErrInvalidEnrollment, the kind's status for an *Error, and
// "Fulfillment Server Error" for any other error.
func LineStatusOf(err error) string {
	if err == nil {
		return lineStatusComplete
	}
	if errors.Is(err, ErrNotConfigured) || errors.Is(err, ErrInvalidEnrollment) {
		return lineStatusConfigurationError
	}
	var lmsErr *Error
	if errors.As(err, &lmsErr) {
		return lmsErr.Kind.LineStatus()
	}
	return lineStatusServerError
}
