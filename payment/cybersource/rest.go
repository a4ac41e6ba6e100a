package cybersource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/internal/httpcall"
	"github.com/coursecommerce/commerce/internal/text"
)

// DefaultRESTTimeout bounds one REST request when RESTConfig.Timeout is zero.
const DefaultRESTTimeout = 20 * time.Second

// MaxRESTResponseBytes bounds how much of a REST answer is read; a longer answer is malformed.
const MaxRESTResponseBytes = 1 << 20

// maxRESTErrorMessage bounds the message taken from a non-JSON error answer.
const maxRESTErrorMessage = 500

// RESTConfig configures a RESTClient: the merchant's REST API credentials (a "shared secret"
// key of the Business Center).
type RESTConfig struct {
	// BaseURL is the REST API base URL (CYBERSOURCE_REST_URL), e.g.
	// https://apitest.cybersource.com or https://api.cybersource.com.
	BaseURL string
	// MerchantID is the merchant (organization) id sent as v-c-merchant-id.
	MerchantID string
	// KeyID is the id of the shared secret key (keyid of the Signature header).
	KeyID string
	// SharedSecret is the shared secret key, base64 encoded as the Business Center shows it.
	// It signs requests and is never sent, logged or recorded.
	SharedSecret string
	// HTTPClient sends the requests; a new http.Client when nil.
	HTTPClient *http.Client
	// Timeout bounds each request: DefaultRESTTimeout when zero, none when negative (the
	// caller's context still applies).
	Timeout time.Duration
	// Record, when set, receives every request and its answer (or the lack of one),
	// synchronously, in the order they happen. An error from Record fails the call
	// (ErrNotRecorded, worth retrying): nothing CyberSource answered is acted on unrecorded.
	Record func(Exchange) error
}

// String describes the configuration with the secret masked.
func (c RESTConfig) String() string {
	return fmt.Sprintf("cybersource.RESTConfig{BaseURL: %q, MerchantID: %q, KeyID: %q, SharedSecret: %s, Timeout: %s}",
		c.BaseURL, c.MerchantID, c.KeyID, text.MaskSecret(c.SharedSecret), c.Timeout)
}

// GoString is String, so that %#v does not print the secret either.
func (c RESTConfig) GoString() string { return c.String() }

// LogValue logs the configuration with the secret masked.
func (c RESTConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("merchant_id", c.MerchantID),
		slog.String("key_id", c.KeyID), slog.String("shared_secret", text.MaskSecret(c.SharedSecret)),
		slog.Duration("timeout", c.Timeout))
}

// Kinds of Exchange, also used as the kind of the recorded processor response.
const (
	KindRefund = "refund"
)

// RESTClient calls the CyberSource REST API with HTTP Signature authentication. It is safe
// for concurrent use.
type RESTClient struct {
	cfg  RESTConfig
	http *http.Client
	now  func() time.Time
}

// NewRESTClient returns a client for cfg. It validates nothing: an incomplete configuration
// makes each call fail with ErrNotConfigured before anything is sent.
func NewRESTClient(cfg RESTConfig) *RESTClient {
	c := &RESTClient{cfg: cfg, http: cfg.HTTPClient, now: time.Now}
	if c.http == nil {
		c.http = &http.Client{}
	}
	return c
}

// RESTError is a non-2xx answer of the REST API, e.g. 400 {"status": "INVALID_REQUEST",
// "reason": "INVALID_AMOUNT", "message": ...}, 401 (authentication failed) or 502
// {"status": "SERVER_ERROR", "reason": "SYSTEM_ERROR"}.
type RESTError struct {
	// Status is the HTTP status code.
	Status int
	// StatusName is the status field of the answer, e.g. INVALID_REQUEST or SERVER_ERROR.
	StatusName string
	// Reason is the reason field, e.g. DUPLICATE_REQUEST, INVALID_AMOUNT, MISSING_FIELD.
	Reason string
	// Message is CyberSource's message (or the start of a non-JSON answer).
	Message string
	// Fields are the fields named in the answer's details, if any.
	Fields []string
	// CorrelationID is the v-c-correlation-id header of the answer.
	CorrelationID string
}

// Error describes the answer; it never contains credentials.
func (e *RESTError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %d", e.Status)
	if e.StatusName != "" {
		fmt.Fprintf(&b, " %s", e.StatusName)
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if len(e.Fields) > 0 {
		fmt.Fprintf(&b, " [fields %s]", strings.Join(e.Fields, ", "))
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " [correlation id %s]", e.CorrelationID)
	}
	return b.String()
}

// Retryable reports whether the same request may succeed later: a 5xx, 429 or 408 answer.
func (e *RESTError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
}

// IsDuplicateRequest reports whether err is a 400 DUPLICATE_REQUEST answer: CyberSource's
// duplicate check found an earlier request like this one, which it carried out.
func IsDuplicateRequest(err error) bool {
	var e *RESTError
	return errors.As(err, &e) && e.Reason == ReasonDuplicate
}

// IsRESTRetryable reports whether err may go away if the same request is sent again: no
// answer (network error, timeout), a 5xx, 429 or 408 answer, an answer that could not be
// recorded, or a 2xx answer that could not be understood. A canceled context, a 4xx answer,
// an invalid request and a missing configuration are not retryable.
func IsRESTRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrNotRecorded) || errors.Is(err, ErrNoAnswer) || errors.Is(err, ErrMalformedResponse) {
		return true
	}
	var e *RESTError
	return errors.As(err, &e) && e.Retryable()
}

// ReasonDuplicate is the reason of a 400 answer to a request CyberSource's duplicate check
// caught.
const ReasonDuplicate = "DUPLICATE_REQUEST"

// restCall is one REST request to make.
type restCall struct {
	kind, method, path string
	body               any
	// For the Exchange.
	orderNumber, idempotencyKey, paymentID string
}

// op names the call in errors.
func (k restCall) op() string { return k.method + " " + k.path }

// do sends k, records it, and decodes a 2xx answer into out; a non-2xx answer is a *RESTError.
func (c *RESTClient) do(ctx context.Context, k restCall, out any) (http.Header, error) {
	endpoint, secret, err := c.endpoint(k.path)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(k.body)
	if err != nil {
		return nil, fmt.Errorf("%w: encode %s: %w", ErrInvalidRequest, k.op(), err)
	}
	status, raw, header, err := c.send(ctx, k, endpoint, secret, body)
	if err != nil {
		return nil, err
	}
	if status < 200 || status > 299 {
		return header, parseRESTError(status, raw, header)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return header, fmt.Errorf("%w: %s: %w", ErrMalformedResponse, k.op(), err)
	}
	return header, nil
}

// send signs and makes one HTTP request and records it with its answer. It returns the
// status, body and header of the answer, or an error wrapping ErrNoAnswer when no complete
// answer arrived (or ErrNotRecorded when the exchange could not be recorded).
func (c *RESTClient) send(ctx context.Context, k restCall, endpoint string, secret, body []byte) (status int, raw []byte, header http.Header, err error) {
	ex := Exchange{Kind: k.kind, Method: k.method, Path: k.path, RequestBody: body, OrderNumber: k.orderNumber,
		IdempotencyKey: k.idempotencyKey, PaymentID: k.paymentID, Started: c.now()}
	defer func() {
		ex.Duration = c.now().Sub(ex.Started)
		if c.cfg.Record == nil {
			return
		}
		if rerr := c.cfg.Record(ex); rerr != nil && err == nil {
			status, raw, header = 0, nil, nil
			err = fmt.Errorf("%w: %s: %w", ErrNotRecorded, k.op(), rerr)
		}
	}()
	rctx, cancel := c.withTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, k.method, endpoint, bytes.NewReader(body))
	if err != nil {
		ex.Err = err.Error()
		return 0, nil, nil, fmt.Errorf("%w: build %s: %w", ErrInvalidRequest, k.op(), err)
	}
	c.sign(req, secret, body)
	resp, err := c.http.Do(req)
	if err != nil {
		ex.Err = err.Error()
		return 0, nil, nil, noAnswer(ctx, k.op(), err)
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(io.LimitReader(resp.Body, MaxRESTResponseBytes+1))
	ex.Status, ex.ResponseBody = resp.StatusCode, raw[:min(len(raw), MaxRESTResponseBytes)]
	ex.CorrelationID = resp.Header.Get(HeaderCorrelationID)
	if err != nil {
		ex.Err = "read answer: " + err.Error()
		return 0, nil, nil, noAnswer(ctx, k.op(), err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		ex.RefundID = probeID(raw)
	}
	if len(raw) > MaxRESTResponseBytes {
		ex.Err = fmt.Sprintf("answer longer than %d bytes", MaxRESTResponseBytes)
		return 0, nil, nil, fmt.Errorf("%w: %s: %s", ErrMalformedResponse, k.op(), ex.Err)
	}
	return resp.StatusCode, raw, resp.Header, nil
}

// sign sets the headers of HTTP Signature authentication on req.
func (c *RESTClient) sign(req *http.Request, secret, body []byte) {
	s := restSignature{
		host: req.URL.Host, date: c.now().UTC().Format(http.TimeFormat), method: req.Method,
		target: req.URL.RequestURI(), digest: bodyDigest(body), merchantID: c.cfg.MerchantID,
	}
	req.Host = s.host
	req.Header.Set("Accept", "application/hal+json;charset=utf-8")
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set(HeaderMerchantID, s.merchantID)
	req.Header.Set("Date", s.date)
	req.Header.Set("Digest", s.digest)
	req.Header.Set("Signature", s.header(c.cfg.KeyID, secret))
}

// endpoint returns the URL of path and the decoded shared secret, or an error wrapping
// ErrNotConfigured.
func (c *RESTClient) endpoint(path string) (string, []byte, error) {
	switch {
	case c.cfg.BaseURL == "":
		return "", nil, fmt.Errorf("%w: missing REST API base URL", ErrNotConfigured)
	case c.cfg.MerchantID == "" || c.cfg.KeyID == "" || c.cfg.SharedSecret == "":
		return "", nil, fmt.Errorf("%w: missing merchant id, key id or shared secret", ErrNotConfigured)
	}
	u, err := url.Parse(c.cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, fmt.Errorf("%w: REST API base URL %q is not an absolute http(s) URL", ErrNotConfigured, c.cfg.BaseURL)
	}
	secret, err := decodeSharedSecret(c.cfg.SharedSecret)
	if err != nil {
		return "", nil, err
	}
	return strings.TrimRight(c.cfg.BaseURL, "/") + path, secret, nil
}

// withTimeout bounds ctx by the configured timeout.
func (c *RESTClient) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return httpcall.WithTimeout(ctx, c.cfg.Timeout, DefaultRESTTimeout)
}

// noAnswer classifies a failure to get an answer. A canceled caller context stays in the chain
// (so that IsRESTRetryable says no).
func noAnswer(ctx context.Context, op string, err error) error {
	kind := "network error"
	if httpcall.IsTimeout(err) {
		kind = "timeout"
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w: %s: %s: %w (%w)", ErrNoAnswer, op, kind, err, ctx.Err())
	}
	return fmt.Errorf("%w: %s: %s: %w", ErrNoAnswer, op, kind, err)
}

// parseRESTError builds the *RESTError of a non-2xx answer.
func parseRESTError(status int, body []byte, header http.Header) *RESTError {
	var w struct {
		Status  string `json:"status"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
		Details []struct {
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"details"`
		Response *struct {
			RMsg string `json:"rmsg"`
		} `json:"response"`
	}
	e := &RESTError{Status: status, CorrelationID: header.Get(HeaderCorrelationID)}
	if json.Unmarshal(body, &w) != nil {
		e.Message = text.Truncate(strings.TrimSpace(string(body)), maxRESTErrorMessage)
		return e
	}
	e.StatusName, e.Reason, e.Message = w.Status, w.Reason, w.Message
	if e.Message == "" && w.Response != nil {
		e.Message = w.Response.RMsg // 401 {"response": {"rmsg": "Authentication Failed"}}
	}
	for _, d := range w.Details {
		e.Fields = append(e.Fields, d.Field)
	}
	return e
}

// probeID reads the id of a JSON answer; "" when absent or unparsable.
func probeID(body []byte) string {
	var w struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &w)
	return w.ID
}

// truncateText cuts s to at most n bytes without splitting a UTF-8 sequence.
