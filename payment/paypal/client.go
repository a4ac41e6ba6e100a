package paypal

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

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/coursecommerce/commerce/internal/httpcall"
	"github.com/coursecommerce/commerce/internal/text"
)

// DefaultTimeout bounds one HTTP request to PayPal (the token request included) when
// Config.Timeout is zero.
const DefaultTimeout = 20 * time.Second

// MaxResponseBytes bounds how much of an answer is read; a longer 2xx answer is malformed.
const MaxResponseBytes = 1 << 20

// TokenPath is the OAuth2 token endpoint, relative to the API base URL.
const TokenPath = "/v1/oauth2/token"

// tokenRefreshMargin is how long before its expiry a cached access token is replaced.
const tokenRefreshMargin = time.Minute

// maxErrorMessage bounds the message taken from a non-JSON error answer.
const maxErrorMessage = 500

// Config configures a Client.
type Config struct {
	// BaseURL is the REST API base URL (PAYPAL_API_URL), e.g. https://api-m.sandbox.paypal.com.
	BaseURL string
	// ClientID and ClientSecret are the REST app's credentials.
	ClientID     string
	ClientSecret string
	// HTTPClient sends the requests; a new http.Client when nil.
	HTTPClient *http.Client
	// Timeout bounds each HTTP request: DefaultTimeout when zero, none when negative (the
	// caller's context still applies).
	Timeout time.Duration
	// Record, when set, receives every API request and its answer, synchronously, in the
	// order they happen. It must not block for long.
	// An error from Record fails the call (ErrNotRecorded, retryable): nothing PayPal answered is
	// acted on before it is recorded.
	Record func(Exchange) error
}

// String describes the configuration with the secret masked.
func (c Config) String() string {
	return fmt.Sprintf("paypal.Config{BaseURL: %q, ClientID: %q, ClientSecret: %s, Timeout: %s}",
		c.BaseURL, c.ClientID, text.MaskSecret(c.ClientSecret), c.Timeout)
}

// GoString is String, so that %#v does not print the secret either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration with the secret masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("client_id", c.ClientID),
		slog.String("client_secret", text.MaskSecret(c.ClientSecret)), slog.Duration("timeout", c.Timeout))
}

// Client calls the PayPal REST API. It is safe for concurrent use.
type Client struct {
	cfg    Config
	http   *http.Client
	oauth  *clientcredentials.Config
	tokens chan struct{} // a one-slot semaphore guarding token
	token  *oauth2.Token
	now    func() time.Time
}

// NewClient returns a client for cfg. It validates nothing: a missing base URL, client id or
// secret makes each call fail with ErrNotConfigured.
func NewClient(cfg Config) *Client {
	c := &Client{cfg: cfg, http: cfg.HTTPClient, tokens: make(chan struct{}, 1), now: time.Now}
	if c.http == nil {
		c.http = &http.Client{}
	}
	c.oauth = &clientcredentials.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		TokenURL: strings.TrimRight(cfg.BaseURL, "/") + TokenPath, AuthStyle: oauth2.AuthStyleInHeader,
	}
	return c
}

// call is one API request to make.
type call struct {
	kind, method, path, requestID string
	body                          any // nil: no body
	orderID, captureID            string
}

// op names the call in errors.
func (k call) op() string { return k.method + " " + k.path }

// do sends k with an access token and decodes a 2xx answer into out. A 401 answer makes it
// fetch a new token and send the request once more.
func (c *Client) do(ctx context.Context, k call, out any) error {
	endpoint, err := c.endpoint(k.path)
	if err != nil {
		return err
	}
	var body []byte
	if k.body != nil {
		if body, err = json.Marshal(k.body); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	token, err := c.accessToken(ctx, "")
	if err != nil {
		return err
	}
	status, raw, header, err := c.send(ctx, k, endpoint, body, token)
	if err == nil && status == http.StatusUnauthorized {
		// The token was revoked or expired early: get another one and try once more.
		if token, err = c.accessToken(ctx, token); err != nil {
			return err
		}
		status, raw, header, err = c.send(ctx, k, endpoint, body, token)
	}
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		return parseAPIError(status, raw, header)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrMalformedResponse, k.op(), err)
		}
	}
	return nil
}

// send makes one HTTP request and records it. It returns the status and body of the answer,
// or a *TransportError when no complete answer arrived.
func (c *Client) send(ctx context.Context, k call, endpoint string, body []byte, token string) (status int, raw []byte, header http.Header, err error) {
	ex := Exchange{Kind: k.kind, Method: k.method, Path: k.path, RequestID: k.requestID, RequestBody: body,
		OrderID: k.orderID, CaptureID: k.captureID, OrderNumber: orderNumberFrom(ctx), Started: c.now()}
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
	if body != nil {
		ex.InvoiceID = probeIDs(body).invoiceID
	}
	rctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, k.method, endpoint, reader)
	if err != nil {
		ex.Err = err.Error()
		return 0, nil, nil, fmt.Errorf("%w: build %s: %w", ErrInvalidRequest, k.op(), err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "return=representation")
	if k.requestID != "" {
		req.Header.Set("PayPal-Request-Id", k.requestID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		ex.Err = err.Error()
		return 0, nil, nil, transportError(ctx, k.op(), err)
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	ex.Status, ex.ResponseBody = resp.StatusCode, raw[:min(len(raw), MaxResponseBytes)]
	ex.DebugID = resp.Header.Get("Paypal-Debug-Id")
	if err != nil {
		ex.Err = "read answer: " + err.Error()
		return 0, nil, nil, transportError(ctx, k.op(), err)
	}
	ids := probeIDs(raw)
	ex.DebugID = firstNonEmpty(ids.debugID, ex.DebugID)
	ex.InvoiceID = firstNonEmpty(ex.InvoiceID, ids.invoiceID)
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		switch k.kind {
		case KindCreateOrder:
			ex.OrderID = ids.id
		case KindCaptureOrder:
			ex.CaptureID = ids.captureID
		case KindRefundCapture:
			ex.RefundID = ids.id
		}
	}
	if len(raw) > MaxResponseBytes {
		ex.Err = fmt.Sprintf("answer longer than %d bytes", MaxResponseBytes)
		return 0, nil, nil, fmt.Errorf("%w: %s: %s", ErrMalformedResponse, k.op(), ex.Err)
	}
	return resp.StatusCode, raw, resp.Header, nil
}

// accessToken returns a cached access token that is not about to expire, or fetches a new
// one. refused is a token PayPal just refused: it is never returned again.
func (c *Client) accessToken(ctx context.Context, refused string) (string, error) {
	select {
	case c.tokens <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("paypal: wait for access token: %w", ctx.Err())
	}
	defer func() { <-c.tokens }()
	if t := c.token; t != nil && t.AccessToken != refused &&
		(t.Expiry.IsZero() || c.now().Add(tokenRefreshMargin).Before(t.Expiry)) {
		return t.AccessToken, nil
	}
	c.token = nil
	tctx, cancel := c.withTimeout(context.WithValue(ctx, oauth2.HTTPClient, c.http))
	defer cancel()
	t, err := c.oauth.Token(tctx)
	if err != nil {
		return "", tokenError(ctx, err)
	}
	c.token = t
	return t.AccessToken, nil
}

// endpoint returns the URL of path, or an error wrapping ErrNotConfigured.
func (c *Client) endpoint(path string) (string, error) {
	switch {
	case c.cfg.BaseURL == "":
		return "", fmt.Errorf("%w: missing API base URL", ErrNotConfigured)
	case c.cfg.ClientID == "" || c.cfg.ClientSecret == "":
		return "", fmt.Errorf("%w: missing client id or secret", ErrNotConfigured)
	case !isHTTPURL(c.cfg.BaseURL):
		return "", fmt.Errorf("%w: API base URL %q is not an absolute http(s) URL", ErrNotConfigured, c.cfg.BaseURL)
	}
	return strings.TrimRight(c.cfg.BaseURL, "/") + path, nil
}

// withTimeout bounds ctx by the configured timeout.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return httpcall.WithTimeout(ctx, c.cfg.Timeout, DefaultTimeout)
}

// transportError classifies a failure to get an answer. A canceled caller context is kept in
// the chain (so that IsRetryable says no).
func transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return &TransportError{Op: op, Timeout: httpcall.IsTimeout(err), Err: err}
}

// tokenError classifies a failure to get an access token.
func tokenError(ctx context.Context, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e := parseAPIError(re.Response.StatusCode, re.Body, re.Response.Header)
		return fmt.Errorf("paypal: get access token: %w", e)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) || ctx.Err() != nil {
		return fmt.Errorf("paypal: get access token: %w", transportError(ctx, "POST "+TokenPath, err))
	}
	return fmt.Errorf("%w: get access token: %v", ErrMalformedResponse, err)
}

// parseAPIError builds the *APIError of a non-2xx answer, in PayPal's error shape
// {name, message, debug_id, details[]} or the OAuth shape {error, error_description}.
func parseAPIError(status int, body []byte, header http.Header) *APIError {
	var w struct {
		Name             string        `json:"name"`
		Message          string        `json:"message"`
		DebugID          string        `json:"debug_id"`
		Details          []ErrorDetail `json:"details"`
		Error            string        `json:"error"`
		ErrorDescription string        `json:"error_description"`
	}
	e := &APIError{Status: status}
	if json.Unmarshal(body, &w) != nil {
		e.Message = text.Truncate(strings.TrimSpace(string(body)), maxErrorMessage)
	}
	e.Name = firstNonEmpty(w.Name, w.Error)
	e.Message = firstNonEmpty(w.Message, w.ErrorDescription, e.Message)
	e.DebugID = firstNonEmpty(w.DebugID, header.Get("Paypal-Debug-Id"))
	e.Details = w.Details
	if len(w.Details) > 0 {
		e.Issue, e.Description = w.Details[0].Issue, w.Details[0].Description
	}
	return e
}

// ids are the identifiers found in a request or answer body, for Exchange.
type ids struct {
	id, invoiceID, captureID, debugID string
}

// probeIDs reads the ids of a JSON body; what is absent or unparsable stays empty.
func probeIDs(body []byte) ids {
	var w struct {
		ID            string `json:"id"`
		InvoiceID     string `json:"invoice_id"`
		DebugID       string `json:"debug_id"`
		PurchaseUnits []struct {
			InvoiceID string `json:"invoice_id"`
			Payments  struct {
				Captures []struct {
					ID        string `json:"id"`
					InvoiceID string `json:"invoice_id"`
				} `json:"captures"`
			} `json:"payments"`
		} `json:"purchase_units"`
	}
	if json.Unmarshal(body, &w) != nil {
		return ids{}
	}
	out := ids{id: w.ID, invoiceID: w.InvoiceID, debugID: w.DebugID}
	for _, u := range w.PurchaseUnits {
		out.invoiceID = firstNonEmpty(out.invoiceID, u.InvoiceID)
		for _, c := range u.Payments.Captures {
			out.captureID = firstNonEmpty(out.captureID, c.ID)
			out.invoiceID = firstNonEmpty(out.invoiceID, c.InvoiceID)
		}
	}
	return out
}
