package paypal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors returned (wrapped) by this package. Test them with errors.Is.
var (
	// ErrNotRecorded means PayPal's answer could not be recorded (Config.Record failed), so it
	// was not acted on; what the request did is looked up again.
	ErrNotRecorded = errors.New("paypal: the exchange could not be recorded")
	// ErrNotConfigured means the client has no API base URL, client id or secret, or the base
	// URL is not an absolute http(s) URL. Nothing was sent.
	ErrNotConfigured = errors.New("paypal: client not configured")
	// ErrInvalidRequest means a request is incomplete or inconsistent (amounts that do not add
	// up, a missing request id, a bad currency). Nothing was sent.
	ErrInvalidRequest = errors.New("paypal: invalid request")
	// ErrMalformedResponse means PayPal answered 2xx with a body that cannot be understood
	// (not JSON, an unparsable amount, too large, an order without the expected link).
	ErrMalformedResponse = errors.New("paypal: malformed response")
	// ErrNoCapture means an order that should have been captured has no capture.
	ErrNoCapture = errors.New("paypal: order has no capture")
)

// Issues PayPal reports in APIError.Details that the service acts on.
const (
	IssueOrderAlreadyCaptured = "ORDER_ALREADY_CAPTURED"
	IssueInstrumentDeclined   = "INSTRUMENT_DECLINED"
	IssueOrderNotApproved     = "ORDER_NOT_APPROVED"
	IssueCaptureFullyRefunded = "CAPTURE_FULLY_REFUNDED"
)

// ErrorDetail is one entry of the details of a PayPal error.
type ErrorDetail struct {
	Field       string `json:"field,omitempty"`
	Location    string `json:"location,omitempty"`
	Issue       string `json:"issue"`
	Description string `json:"description,omitempty"`
}

// APIError is a non-2xx answer of the PayPal API (or of its token endpoint).
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Name is PayPal's error name, e.g. UNPROCESSABLE_ENTITY or RESOURCE_NOT_FOUND, or the
	// OAuth error code (invalid_token, invalid_client) for authentication failures.
	Name string
	// Message is PayPal's message (or the OAuth error_description).
	Message string
	// Issue and Description are those of the first detail, e.g. ORDER_ALREADY_CAPTURED.
	Issue       string
	Description string
	// Details are all the details of the answer.
	Details []ErrorDetail
	// DebugID is PayPal's correlation id for support requests.
	DebugID string
}

// Error describes the answer; it never contains credentials.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %d", e.Status)
	if e.Name != "" {
		fmt.Fprintf(&b, " %s", e.Name)
	}
	if e.Issue != "" {
		fmt.Fprintf(&b, " (%s)", e.Issue)
	}
	if msg := firstNonEmpty(e.Description, e.Message); msg != "" {
		fmt.Fprintf(&b, ": %s", msg)
	}
	if e.DebugID != "" {
		fmt.Fprintf(&b, " [debug_id %s]", e.DebugID)
	}
	return b.String()
}

// HasIssue reports whether one of the error's details is issue.
func (e *APIError) HasIssue(issue string) bool {
	if e.Issue == issue {
		return true
	}
	for _, d := range e.Details {
		if d.Issue == issue {
			return true
		}
	}
	return false
}

// Retryable reports whether the same request may succeed later: a 5xx or 429 answer.
func (e *APIError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// TransportError is a request that got no (complete) answer: the connection failed or was
// dropped, or the deadline passed. The request may or may not have been carried out.
type TransportError struct {
	// Op names the call, e.g. "POST /v2/checkout/orders/5O1.../capture".
	Op string
	// Timeout is set when the client timeout or the caller's deadline expired.
	Timeout bool
	// Err is the underlying error.
	Err error
}

// Error describes the failure.
func (e *TransportError) Error() string {
	kind := "network error"
	if e.Timeout {
		kind = "timeout"
	}
	return fmt.Sprintf("%s: %s: %v", e.Op, kind, e.Err)
}

// Unwrap returns the underlying error, so that errors.Is finds context.DeadlineExceeded.
func (e *TransportError) Unwrap() error { return e.Err }

// IsRetryable reports whether err may go away if the same request is sent again: network
// errors, timeouts, 5xx and 429 answers. A 4xx answer, an invalid request, a malformed answer
// and a canceled context are not retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrNotRecorded) {
		return true // the answer was not recorded: it may have done something; look again
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var tErr *TransportError
	return errors.As(err, &tErr)
}

// IsAlreadyCaptured reports whether err is PayPal's 422 ORDER_ALREADY_CAPTURED.
func IsAlreadyCaptured(err error) bool { return hasIssue(err, IssueOrderAlreadyCaptured) }

// IsInstrumentDeclined reports whether err is PayPal's 422 INSTRUMENT_DECLINED: the buyer's
// funding source was declined and nothing was captured.
func IsInstrumentDeclined(err error) bool { return hasIssue(err, IssueInstrumentDeclined) }

// IsNotApproved reports whether err is PayPal's 422 ORDER_NOT_APPROVED: the buyer has not
// approved the order (yet).
func IsNotApproved(err error) bool { return hasIssue(err, IssueOrderNotApproved) }

// IsAlreadyRefunded reports whether err is PayPal's 422 CAPTURE_FULLY_REFUNDED.
func IsAlreadyRefunded(err error) bool { return hasIssue(err, IssueCaptureFullyRefunded) }

// IsNotFound reports whether err is a 404 answer (RESOURCE_NOT_FOUND).
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound
}

func hasIssue(err error, issue string) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.HasIssue(issue)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
