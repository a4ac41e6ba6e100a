package lms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/internal/httpcall"
	"github.com/coursecommerce/commerce/internal/text"
)

// DefaultTimeout bounds one call to the enrollment API, as edX's
// ENROLLMENT_FULFILLMENT_TIMEOUT does.
const DefaultTimeout = 7 * time.Second

// EnrollmentPath is the path of the LMS enrollment API, relative to the base URL.
const EnrollmentPath = "/api/enrollment/v1/enrollment"

// modeMismatch marks the 400 answer the LMS gives when asked to deactivate an
// enrollment in a mode other than the current one. Unenroll treats it as done.
const modeMismatch = "Enrollment mode mismatch"

const (
	// maxBodyBytes caps how much of an answer is read.
	maxBodyBytes = 64 << 10
	// maxMessageBytes caps Error.Message.
	maxMessageBytes = 500
)

// Client calls the LMS enrollment API. It is safe for concurrent use.
type Client struct {
	baseURL    string
	apiKey     string
	timeout    time.Duration
	httpClient *http.Client
	// observer, if set, is told of every request sent (WithObserver).
	observer Observer
}

// Option configures a Client.
type Option func(*Client)

// WithTimeout sets how long one call may take (DefaultTimeout unless set).
// A zero or negative d removes the client's own limit, leaving only the
// caller's context and the HTTP client's limits.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// WithHTTPClient makes the client send requests through hc. A nil hc is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// NewClient returns a client for the LMS at baseURL (such as
// "https://courses.example.com"), authenticating with apiKey. It does not
// validate anything: a missing base URL or key makes each call fail with
// ErrNotConfigured.
func NewClient(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{
		baseURL:    baseURL,
		apiKey:     apiKey,
		timeout:    DefaultTimeout,
		httpClient: &http.Client{},
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Enroll enrolls e.Username in e.CourseID in e.Mode and records the order as
// enrollment attributes. Any 2xx answer is success. It returns an error
// wrapping ErrNotConfigured or ErrInvalidEnrollment before sending anything,
// an *Error if the call failed, or an error wrapping ctx.Err() if ctx was
// canceled first.
func (c *Client) Enroll(ctx context.Context, e Enrollment) error {
	if _, err := c.endpoint(); err != nil {
		return fmt.Errorf("lms: enroll: %w", err)
	}
	if err := e.validate(); err != nil {
		return fmt.Errorf("lms: enroll: %w", err)
	}
	start := time.Now()
	status, err := c.post(ctx, e.request(), e.headers())
	c.observe(ctx, OperationEnroll, start, status, err)
	if err != nil {
		return fmt.Errorf("lms: enroll %q in %s: %w", e.Username, e.CourseID, err)
	}
	return nil
}

// Unenroll deactivates the enrollment of username in courseID in mode. It is
// also done when the LMS answers 400 "Enrollment mode mismatch", meaning the
// learner is now enrolled in another mode and that enrollment must be kept.
// Errors are as for Enroll.
func (c *Client) Unenroll(ctx context.Context, username, courseID, mode string) error {
	if _, err := c.endpoint(); err != nil {
		return fmt.Errorf("lms: unenroll: %w", err)
	}
	if username == "" || courseID == "" || mode == "" {
		return fmt.Errorf("lms: unenroll: %w: username, course ID and mode are required", ErrInvalidEnrollment)
	}
	body := enrollmentRequest{
		User:          username,
		IsActive:      false,
		Mode:          mode,
		CourseDetails: courseDetails{CourseID: courseID},
	}
	start := time.Now()
	status, err := c.post(ctx, body, nil)
	var lmsErr *Error
	if errors.As(err, &lmsErr) && lmsErr.StatusCode == http.StatusBadRequest &&
		strings.Contains(lmsErr.Message, modeMismatch) {
		err = nil
	}
	c.observe(ctx, OperationUnenroll, start, status, err)
	if err != nil {
		return fmt.Errorf("lms: unenroll %q from %s: %w", username, courseID, err)
	}
	return nil
}

// endpoint returns the enrollment API URL, or an error wrapping
// ErrNotConfigured.
func (c *Client) endpoint() (string, error) {
	switch {
	case c.baseURL == "":
		return "", fmt.Errorf("%w: missing LMS base URL", ErrNotConfigured)
	case c.apiKey == "":
		return "", fmt.Errorf("%w: missing LMS API key", ErrNotConfigured)
	}
	u, err := url.Parse(c.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: LMS base URL %q is not an absolute http(s) URL", ErrNotConfigured, c.baseURL)
	}
	return strings.TrimRight(c.baseURL, "/") + EnrollmentPath, nil
}

// post sends one enrollment API request and classifies the outcome; status is the HTTP status
// of the answer, 0 when none arrived.
func (c *Client) post(ctx context.Context, payload enrollmentRequest, extra http.Header) (status int, err error) {
	endpoint, err := c.endpoint()
	if err != nil {
		return 0, err
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return 0, fmt.Errorf("encode request: %w", err)
	}

	reqCtx, cancel := ctx, context.CancelFunc(func() {})
	if c.timeout > 0 {
		reqCtx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	defer cancel()

	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	for name, values := range extra {
		req.Header[name] = values
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Edx-Api-Key", c.apiKey)

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, transportError(ctx, err)
	}
	defer resp.Body.Close()
	// A failed read leaves a partial body; the status alone decides the outcome.
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	kind := KindServer
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		kind = KindClient
	}
	return resp.StatusCode, &Error{Kind: kind, StatusCode: resp.StatusCode, Message: messageOf(raw)}
}

// transportError classifies an error from sending a request. A canceled
// caller context is returned as is (wrapped), since it is not an LMS failure.
func transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("request canceled: %w", err)
	}
	if httpcall.IsTimeout(err) {
		return &Error{Kind: KindTimeout, Err: err}
	}
	return &Error{Kind: KindNetwork, Err: err}
}

// messageOf returns the "message" (or DRF's "detail") string of a JSON answer,
// or else the trimmed body, cut to maxMessageBytes.
func messageOf(body []byte) string {
	var fields struct {
		Message any `json:"message"`
		Detail  any `json:"detail"`
	}
	if json.Unmarshal(body, &fields) == nil {
		for _, v := range []any{fields.Message, fields.Detail} {
			if s, ok := v.(string); ok && s != "" {
				return text.Truncate(s, maxMessageBytes)
			}
		}
	}
	return text.Truncate(strings.TrimSpace(string(body)), maxMessageBytes)
}
