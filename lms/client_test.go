package lms_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/lms"
)

const apiKey = "secret-key"

// placed is a fixed order date, given in a non-UTC zone with sub-seconds.
var placed = time.Date(2016, 1, 1, 5, 30, 0, 123456789, time.FixedZone("IST", 5*3600+1800))

func verifiedSeat() lms.Enrollment {
	return lms.Enrollment{
		Username:    "alice",
		Mode:        "verified",
		CourseID:    "course-v1:edX+DemoX+Demo_Course",
		OrderNumber: "EDX-100001",
		DatePlaced:  placed,
	}
}

func TestEnrollSendsEdXRequest(t *testing.T) {
	t.Parallel()

	credit := verifiedSeat()
	credit.Mode = "credit"
	credit.CreditProvider = "asu"
	credit.GAClientID = "GA1.2.3"
	credit.ForwardedFor = "203.0.113.7"

	tests := []struct {
		name        string
		enrollment  lms.Enrollment
		wantBody    string
		wantHeaders map[string]string
	}{
		{
			name:       "Verified",
			enrollment: verifiedSeat(),
			wantBody: `{"user":"alice","is_active":true,"mode":"verified",
				"course_details":{"course_id":"course-v1:edX+DemoX+Demo_Course"},
				"enrollment_attributes":[
					{"namespace":"order","name":"order_number","value":"EDX-100001"},
					{"namespace":"order","name":"date_placed","value":"2016-01-01T00:00:00Z"}]}`,
			wantHeaders: map[string]string{"X-Edx-Ga-Client-Id": "", "X-Forwarded-For": ""},
		},
		{
			name:       "CreditWithTrackingHeaders",
			enrollment: credit,
			wantBody: `{"user":"alice","is_active":true,"mode":"credit",
				"course_details":{"course_id":"course-v1:edX+DemoX+Demo_Course"},
				"enrollment_attributes":[
					{"namespace":"order","name":"order_number","value":"EDX-100001"},
					{"namespace":"order","name":"date_placed","value":"2016-01-01T00:00:00Z"},
					{"namespace":"credit","name":"provider_id","value":"asu"}]}`,
			wantHeaders: map[string]string{"X-Edx-Ga-Client-Id": "GA1.2.3", "X-Forwarded-For": "203.0.113.7"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, http.StatusOK, `{"mode":"verified","is_active":true}`)

			if err := lms.NewClient(ts.URL, apiKey).Enroll(context.Background(), tt.enrollment); err != nil {
				t.Fatalf("Enroll: %v", err)
			}

			req := ts.next(t)
			if req.method != http.MethodPost || req.path != "/api/enrollment/v1/enrollment" {
				t.Fatalf("request = %s %s", req.method, req.path)
			}
			want := map[string]string{"Content-Type": "application/json", "X-Edx-Api-Key": apiKey}
			for k, v := range tt.wantHeaders {
				want[k] = v
			}
			for name, value := range want {
				if got := req.header.Get(name); got != value {
					t.Errorf("header %s = %q, want %q", name, got, value)
				}
			}
			requireJSONEqual(t, req.body, tt.wantBody)
		})
	}
}

func TestEnrollJoinsBaseURLWithPath(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, http.StatusOK, `{}`)

	if err := lms.NewClient(ts.URL+"/lms/", apiKey).Enroll(context.Background(), verifiedSeat()); err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	if got := ts.next(t).path; got != "/lms/api/enrollment/v1/enrollment" {
		t.Fatalf("path = %q", got)
	}
}

func TestEnrollStatusHandling(t *testing.T) {
	t.Parallel()
	long := "x" + strings.Repeat("é", 400) // 801 bytes; byte 500 is inside a rune

	tests := []struct {
		name          string
		status        int
		body          string
		wantKind      lms.Kind // zero: success
		wantRetryable bool
		wantMessage   string
	}{
		{name: "OK", status: http.StatusOK, body: `{"mode":"verified"}`},
		{name: "Created", status: http.StatusCreated, body: `{}`},
		{name: "ServerErrorIsRetryable", status: http.StatusInternalServerError,
			body: `{"message":"database is down"}`, wantKind: lms.KindServer, wantRetryable: true,
			wantMessage: "database is down"},
		{name: "ServerErrorWithLongHTMLBodyIsTruncated", status: http.StatusBadGateway,
			body: long, wantKind: lms.KindServer, wantRetryable: true, wantMessage: long[:499]},
		{name: "Non2xxNon4xxIsServerError", status: http.StatusMultipleChoices,
			body: `{"message":"pick one"}`, wantKind: lms.KindServer, wantRetryable: true, wantMessage: "pick one"},
		{name: "BadRequestIsPermanent", status: http.StatusBadRequest,
			body: `{"message":"No course 'x' found for enrollment"}`, wantKind: lms.KindClient,
			wantMessage: "No course 'x' found for enrollment"},
		{name: "UnauthorizedUsesDetail", status: http.StatusUnauthorized,
			body: `{"detail":"Invalid API key."}`, wantKind: lms.KindClient, wantMessage: "Invalid API key."},
		{name: "NotFoundPlainText", status: http.StatusNotFound,
			body: "  not here\n", wantKind: lms.KindClient, wantMessage: "not here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, tt.status, tt.body)

			err := lms.NewClient(ts.URL, apiKey).Enroll(context.Background(), verifiedSeat())

			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("Enroll: %v", err)
				}
				return
			}
			var lmsErr *lms.Error
			if !errors.As(err, &lmsErr) {
				t.Fatalf("error %v is not *lms.Error", err)
			}
			if lmsErr.Kind != tt.wantKind || lmsErr.StatusCode != tt.status ||
				lmsErr.Retryable() != tt.wantRetryable || lmsErr.Message != tt.wantMessage {
				t.Fatalf("got kind=%v status=%d retryable=%v message=%q",
					lmsErr.Kind, lmsErr.StatusCode, lmsErr.Retryable(), lmsErr.Message)
			}
			if got := lms.LineStatusOf(err); got != "Fulfillment Server Error" {
				t.Fatalf("LineStatusOf = %q", got)
			}
			if !strings.Contains(err.Error(), "alice") || !strings.Contains(err.Error(), "course-v1:edX+DemoX+Demo_Course") {
				t.Fatalf("error lacks context: %v", err)
			}
		})
	}
}

func TestEnrollConnectionRefusedIsNetworkError(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()

	err := lms.NewClient(url, apiKey).Enroll(context.Background(), verifiedSeat())

	var lmsErr *lms.Error
	if !errors.As(err, &lmsErr) || lmsErr.Kind != lms.KindNetwork {
		t.Fatalf("error = %v, want network *lms.Error", err)
	}
	if !lmsErr.Retryable() || lmsErr.StatusCode != 0 || lmsErr.Err == nil {
		t.Fatalf("got retryable=%v status=%d err=%v", lmsErr.Retryable(), lmsErr.StatusCode, lmsErr.Err)
	}
	if got := lms.LineStatusOf(err); got != "Fulfillment Network Error" {
		t.Fatalf("LineStatusOf = %q", got)
	}
}

// newHangingServer starts a server that answers only when the client goes away.
func newHangingServer(t *testing.T) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets net/http notice the client hanging up
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(release) })
	return ts, arrived
}

func TestEnrollTimeouts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		opts   []lms.Option
		ctx    func() (context.Context, context.CancelFunc)
		reason string
	}{
		{
			name:   "ClientTimeout",
			opts:   []lms.Option{lms.WithTimeout(50 * time.Millisecond)},
			ctx:    func() (context.Context, context.CancelFunc) { return context.Background(), func() {} },
			reason: "client timeout",
		},
		{
			name: "CallerDeadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			reason: "caller deadline",
		},
		{
			name:   "HTTPClientTimeout",
			opts:   []lms.Option{lms.WithTimeout(0), lms.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond})},
			ctx:    func() (context.Context, context.CancelFunc) { return context.Background(), func() {} },
			reason: "http.Client timeout",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts, _ := newHangingServer(t)
			ctx, cancel := tt.ctx()
			defer cancel()

			err := lms.NewClient(ts.URL, apiKey, tt.opts...).Enroll(ctx, verifiedSeat())

			var lmsErr *lms.Error
			if !errors.As(err, &lmsErr) || lmsErr.Kind != lms.KindTimeout {
				t.Fatalf("%s: error = %v, want timeout *lms.Error", tt.reason, err)
			}
			if !lmsErr.Retryable() {
				t.Fatal("timeout must be retryable")
			}
			if got := lms.LineStatusOf(err); got != "Fulfillment Timeout Error" {
				t.Fatalf("LineStatusOf = %q", got)
			}
		})
	}
}

func TestEnrollClientTimeoutWrapsDeadlineExceeded(t *testing.T) {
	t.Parallel()
	ts, _ := newHangingServer(t)

	err := lms.NewClient(ts.URL, apiKey, lms.WithTimeout(20*time.Millisecond)).Enroll(context.Background(), verifiedSeat())

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want it to wrap context.DeadlineExceeded", err)
	}
}

func TestEnrollCanceledByCaller(t *testing.T) {
	t.Parallel()
	ts, arrived := newHangingServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()

	err := lms.NewClient(ts.URL, apiKey).Enroll(ctx, verifiedSeat())

	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	var lmsErr *lms.Error
	if errors.As(err, &lmsErr) {
		t.Fatalf("cancellation must not be an LMS failure, got kind %v", lmsErr.Kind)
	}
}

func TestEnrollNotConfigured(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, http.StatusOK, `{}`)

	tests := []struct{ name, baseURL, apiKey string }{
		{"MissingBaseURL", "", apiKey},
		{"MissingAPIKey", ts.URL, ""},
		{"RelativeBaseURL", "/lms", apiKey},
		{"WrongScheme", "ftp://lms.example.com", apiKey},
		{"Unparsable", "http://[::1", apiKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := lms.NewClient(tt.baseURL, tt.apiKey)

			for _, err := range []error{
				c.Enroll(context.Background(), verifiedSeat()),
				c.Unenroll(context.Background(), "alice", "course-v1:edX+DemoX+Demo_Course", "verified"),
			} {
				if !errors.Is(err, lms.ErrNotConfigured) {
					t.Fatalf("error = %v, want ErrNotConfigured", err)
				}
				if got := lms.LineStatusOf(err); got != "Fulfillment Configuration Error" {
					t.Fatalf("LineStatusOf = %q", got)
				}
				if strings.Contains(err.Error(), apiKey) {
					t.Fatalf("error leaks the API key: %v", err)
				}
			}
		})
	}
	if n := ts.hits.Load(); n != 0 {
		t.Fatalf("server got %d requests, want 0", n)
	}
}

func TestEnrollInvalidEnrollment(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, http.StatusOK, `{}`)

	err := lms.NewClient(ts.URL, apiKey).Enroll(context.Background(), lms.Enrollment{Username: "alice"})

	if !errors.Is(err, lms.ErrInvalidEnrollment) {
		t.Fatalf("error = %v, want ErrInvalidEnrollment", err)
	}
	for _, field := range []string{"mode", "course ID", "order number", "date placed"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %q", err, field)
		}
	}
	if ts.hits.Load() != 0 {
		t.Fatal("invalid enrollment reached the server")
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWithHTTPClientSendsThroughIt(t *testing.T) {
	t.Parallel()
	var seen *http.Request
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = r
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}}, nil
	})}

	err := lms.NewClient("https://lms.example.com", apiKey, lms.WithHTTPClient(hc), lms.WithHTTPClient(nil)).
		Enroll(context.Background(), verifiedSeat())

	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	if seen == nil || seen.URL.String() != "https://lms.example.com/api/enrollment/v1/enrollment" {
		t.Fatalf("custom client not used, saw %v", seen)
	}
	if _, ok := seen.Context().Deadline(); !ok {
		t.Fatal("default timeout was not applied to the request")
	}
}
