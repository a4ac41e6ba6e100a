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
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	sim "github.com/coursecommerce/commerce/simulators/paypal"
)

// capturedOrder creates, approves and captures the test checkout's order; it returns the
// order id and the capture.
func (h *harness) capturedOrder(t *testing.T) (string, Capture) {
	t.Helper()
	id := h.pay(t, h.processor(), testCheckout())
	o, err := h.client.CaptureOrder(context.Background(), id, "capture-"+id)
	if err != nil {
		t.Fatalf("CaptureOrder: %v", err)
	}
	if len(o.Captures()) != 1 {
		t.Fatalf("captures = %+v", o.Captures())
	}
	return id, o.Captures()[0]
}

func TestCaptureOrder(t *testing.T) {
	h := newHarness(t)
	id, c := h.capturedOrder(t)
	if c.Status != CaptureCompleted || !c.Amount.Value.Equal(dec("89.20")) || c.Amount.Currency != "USD" ||
		c.InvoiceID != "EDX-100042" || !c.FinalCapture || c.ID != h.sim.Captures()[0].ID {
		t.Fatalf("capture = %+v", c)
	}
	o, err := h.client.GetOrder(context.Background(), id)
	if err != nil {
		t.Fatalf("GetOrder: %v", err)
	}
	if o.Status != OrderCompleted || o.InvoiceID() != "EDX-100042" || len(o.Captures()) != 1 || o.Captures()[0].ID != c.ID ||
		o.Payer.Email != "buyer@example.com" || o.Payer.PayerID == "" || !o.PurchaseUnits[0].Amount.Value.Equal(dec("89.20")) {
		t.Fatalf("order = %+v", o)
	}
}

func TestCaptureOrderIsIdempotent(t *testing.T) {
	h := newHarness(t)
	id, first := h.capturedOrder(t)
	again, err := h.client.CaptureOrder(context.Background(), id, "capture-"+id)
	if err != nil {
		t.Fatalf("CaptureOrder again: %v", err)
	}
	if len(again.Captures()) != 1 || again.Captures()[0].ID != first.ID || len(h.sim.Captures()) != 1 {
		t.Fatalf("the same request id captured again: %+v, %d captures", again.Captures(), len(h.sim.Captures()))
	}
	_, err = h.client.CaptureOrder(context.Background(), id, "another-request")
	if !IsAlreadyCaptured(err) || IsRetryable(err) || IsInstrumentDeclined(err) {
		t.Fatalf("another request id: err = %v, want ORDER_ALREADY_CAPTURED", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 422 || apiErr.Name != "UNPROCESSABLE_ENTITY" || apiErr.DebugID == "" {
		t.Fatalf("err = %#v", err)
	}
}

func TestCreateOrderIsIdempotent(t *testing.T) {
	h := newHarness(t)
	r, err := h.processor().orderRequest(testCheckout(), returnURL, cancelURL)
	if err != nil {
		t.Fatalf("orderRequest: %v", err)
	}
	first, err := h.client.CreateOrder(context.Background(), r)
	if err != nil {
		t.Fatalf("CreateOrder: %v", err)
	}
	again, err := h.client.CreateOrder(context.Background(), r)
	if err != nil {
		t.Fatalf("CreateOrder again: %v", err)
	}
	if first.ID == "" || again.ID != first.ID || len(h.sim.Orders()) != 1 || first.ApproveURL() == "" {
		t.Fatalf("orders %s and %s, %d in the simulator", first.ID, again.ID, len(h.sim.Orders()))
	}
	r.RequestID = "another"
	third, err := h.client.CreateOrder(context.Background(), r)
	if err != nil || third.ID == first.ID {
		t.Fatalf("another request id: %v, %s", err, third.ID)
	}
}

func TestRefundCapture(t *testing.T) {
	h := newHarness(t)
	_, c := h.capturedOrder(t)
	ctx := context.Background()

	part, err := h.client.RefundCapture(ctx, c.ID, "refund-1", dec("39.20"), "USD")
	if err != nil {
		t.Fatalf("partial refund: %v", err)
	}
	if part.Status != RefundCompleted || !part.Amount.Value.Equal(dec("39.20")) || part.ID == "" {
		t.Fatalf("partial refund = %+v", part)
	}
	same, err := h.client.RefundCapture(ctx, c.ID, "refund-1", dec("39.20"), "USD")
	if err != nil || same.ID != part.ID {
		t.Fatalf("same request id: %+v, %v; want refund %s again", same, err, part.ID)
	}
	_, err = h.client.RefundCapture(ctx, c.ID, "refund-2", dec("50.01"), "USD")
	if !hasIssue(err, "REFUND_AMOUNT_EXCEEDED") || IsRetryable(err) {
		t.Fatalf("over-refund: err = %v", err)
	}
	rest, err := h.client.RefundCapture(ctx, c.ID, "refund-3", decimal.Zero, "USD")
	if err != nil || !rest.Amount.Value.Equal(dec("50.00")) {
		t.Fatalf("refund of the rest: %+v, %v", rest, err)
	}
	_, err = h.client.RefundCapture(ctx, c.ID, "refund-4", decimal.Zero, "USD")
	if !IsAlreadyRefunded(err) || IsRetryable(err) {
		t.Fatalf("double refund: err = %v, want CAPTURE_FULLY_REFUNDED", err)
	}
	if refunds := h.sim.Refunds(); len(refunds) != 2 || h.sim.Captures()[0].Status != "REFUNDED" {
		t.Fatalf("refunds = %+v, captures = %+v", refunds, h.sim.Captures())
	}
	if _, err := h.client.RefundCapture(ctx, c.ID, "refund-5", dec("-1"), "USD"); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("negative refund: %v", err)
	}
}

func TestFullRefundThenDoubleRefund(t *testing.T) {
	h := newHarness(t)
	_, c := h.capturedOrder(t)
	r, err := h.client.RefundCapture(context.Background(), c.ID, "refund-EDX-100042", dec("89.20"), "USD")
	if err != nil || r.Status != RefundCompleted {
		t.Fatalf("refund: %+v, %v", r, err)
	}
	_, err = h.client.RefundCapture(context.Background(), c.ID, "refund-EDX-100042-again", dec("89.20"), "USD")
	if !IsAlreadyRefunded(err) {
		t.Fatalf("double refund: err = %v", err)
	}
	if n := len(h.sim.Refunds()); n != 1 {
		t.Fatalf("%d refunds", n)
	}
}

func TestAccessTokenIsCached(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		if _, err := h.client.GetOrder(context.Background(), "NOSUCHORDER"); !IsNotFound(err) {
			t.Fatalf("GetOrder: %v", err)
		}
	}
	if n := len(h.sim.IssuedTokens()); n != 1 {
		t.Fatalf("%d tokens fetched for 3 calls, want 1", n)
	}
}

func TestAccessTokenIsRefreshedBeforeItExpires(t *testing.T) {
	h := newHarness(t, sim.Config{TokenTTL: 30 * time.Second}) // expires within the refresh margin
	for range 3 {
		if _, err := h.client.GetOrder(context.Background(), "NOSUCHORDER"); !IsNotFound(err) {
			t.Fatalf("GetOrder: %v", err)
		}
	}
	if n := len(h.sim.IssuedTokens()); n != 3 {
		t.Fatalf("%d tokens fetched for 3 calls, want 3", n)
	}
}

func TestRefusedAccessTokenIsReplaced(t *testing.T) {
	h := newHarness(t)
	id := h.pay(t, h.processor(), testCheckout())
	h.sim.RevokeTokens()
	o, err := h.client.GetOrder(context.Background(), id)
	if err != nil || o.ID != id {
		t.Fatalf("GetOrder after revocation: %+v, %v", o, err)
	}
	if n := len(h.sim.IssuedTokens()); n != 2 {
		t.Fatalf("%d tokens, want 2", n)
	}
	var statuses []int
	for _, e := range h.recorded() {
		if e.Kind == KindGetOrder {
			statuses = append(statuses, e.Status)
		}
	}
	if fmt.Sprint(statuses) != "[401 200]" {
		t.Fatalf("recorded get-order statuses %v, want [401 200]", statuses)
	}
}

func TestBadCredentials(t *testing.T) {
	h := newHarness(t)
	c := NewClient(Config{BaseURL: h.srv.URL, ClientID: testClientID, ClientSecret: "wrong-" + testSecret, Record: h.record})
	_, err := c.GetOrder(context.Background(), "X")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Name != "invalid_client" || IsRetryable(err) {
		t.Fatalf("err = %v, want a 401 invalid_client", err)
	}
	if strings.Contains(err.Error(), testSecret) || len(h.recorded()) != 0 || len(h.apiCalls()) != 0 {
		t.Fatalf("err %q leaks the secret, or an API call was made", err)
	}
}

func TestNotConfigured(t *testing.T) {
	for _, cfg := range []Config{
		{ClientID: "id", ClientSecret: "secret"},
		{BaseURL: "http://paypal.test", ClientSecret: "secret"},
		{BaseURL: "http://paypal.test", ClientID: "id"},
		{BaseURL: "paypal.test", ClientID: "id", ClientSecret: "secret"},
	} {
		if _, err := NewClient(cfg).GetOrder(context.Background(), "X"); !errors.Is(err, ErrNotConfigured) {
			t.Errorf("%v: err = %v", cfg, err)
		}
	}
}

func TestRecorderSeesEveryExchangeButNoSecret(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	id := h.pay(t, p, testCheckout())
	h.sim.SetLoseAnswerNext(1)
	n, err := p.Complete(context.Background(), id, testCheckout())
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if _, err := h.client.RefundCapture(context.Background(), n.TransactionID, "refund-1", dec("89.20"), "USD"); err != nil {
		t.Fatalf("RefundCapture: %v", err)
	}
	h.sim.RevokeTokens()
	if _, err := h.client.GetOrder(context.Background(), id); err != nil {
		t.Fatalf("GetOrder: %v", err)
	}

	ex := h.recorded()
	var got []string
	for _, e := range ex {
		got = append(got, fmt.Sprintf("%s %d %s %s", e.Kind, e.Status, e.Method, e.Path))
	}
	want := []string{
		"create-order 201 POST /v2/checkout/orders",
		"capture-order 500 POST /v2/checkout/orders/" + id + "/capture",
		"get-order 200 GET /v2/checkout/orders/" + id,
		"refund-capture 201 POST /v2/payments/captures/" + n.TransactionID + "/refund",
		"get-order 401 GET /v2/checkout/orders/" + id,
		"get-order 200 GET /v2/checkout/orders/" + id,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("exchanges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if calls := h.apiCalls(); len(calls) != len(ex) {
		t.Fatalf("%d API calls, %d exchanges recorded", len(calls), len(ex))
	}
	create, capture, get, refund := ex[0], ex[1], ex[2], ex[3]
	if create.OrderID != id || create.InvoiceID != "EDX-100042" || create.OrderNumber != "EDX-100042" || create.RequestID == "" ||
		len(create.RequestBody) == 0 || !bytes.Contains(create.ResponseBody, []byte(id)) {
		t.Errorf("create exchange = %+v", create)
	}
	if capture.OrderID != id || capture.RequestID != "capture-"+id || capture.DebugID == "" || capture.OrderNumber != "EDX-100042" {
		t.Errorf("capture exchange = %+v", capture)
	}
	if get.OrderID != id || get.CaptureID != "" || get.InvoiceID != "EDX-100042" || !bytes.Contains(get.ResponseBody, []byte(n.TransactionID)) {
		t.Errorf("get exchange = %+v", get)
	}
	if refund.CaptureID != n.TransactionID || refund.RefundID == "" || refund.TransactionID() != refund.RefundID || refund.RequestID != "refund-1" {
		t.Errorf("refund exchange = %+v", refund)
	}
	row := create.ProcessorResponse()
	if row.Processor != "paypal" || row.TransactionID != id || row.OrderNumber != "EDX-100042" || row.Kind != KindCreateOrder ||
		row.Authentic == nil || !*row.Authentic || row.Body["status"] != "201" || row.Body["request"] != string(create.RequestBody) {
		t.Errorf("processor response = %+v", row)
	}

	secrets := append([]string{testSecret}, h.sim.IssuedTokens()...)
	if len(secrets) != 3 {
		t.Fatalf("tokens issued: %v", secrets[1:])
	}
	for i, e := range ex {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw) + fmt.Sprintf("%+v %v", e, e.ProcessorResponse())
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Fatalf("exchange %d holds a secret or token: %s", i, text)
			}
		}
	}
}

func TestRecorderSeesAnswersThatNeverCame(t *testing.T) {
	h := newHarness(t)
	id := h.pay(t, h.processor(), testCheckout())
	h.sim.SetDropAnswerNext(1)
	_, err := h.client.CaptureOrder(context.Background(), id, "capture-"+id)
	var tErr *TransportError
	if !errors.As(err, &tErr) || !IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable transport error", err)
	}
	ex := h.recorded()
	last := ex[len(ex)-1]
	if last.Kind != KindCaptureOrder || last.Status != 0 || last.Err == "" || last.ProcessorResponse().Authentic != nil {
		t.Fatalf("exchange = %+v", last)
	}
	text := fmt.Sprintf("%+v %v %v", last, last.ProcessorResponse(), err)
	for _, s := range append(h.sim.IssuedTokens(), testSecret) {
		if strings.Contains(text, s) {
			t.Fatalf("a secret or token leaks: %s", text)
		}
	}
}

func TestDeadlineIsRespected(t *testing.T) {
	h := newHarness(t)
	r, err := h.processor().orderRequest(testCheckout(), returnURL, cancelURL)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(Config{BaseURL: h.srv.URL, ClientID: testClientID, ClientSecret: testSecret, Timeout: -1})
	if _, err := c.GetOrder(context.Background(), "WARMUP"); !IsNotFound(err) { // fetch the token first
		t.Fatal(err)
	}
	h.sim.SetLatency(2 * time.Second) // a client that ignored the deadline would succeed after it
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.CreateOrder(ctx, r)
	var tErr *TransportError
	if !errors.As(err, &tErr) || !tErr.Timeout || !errors.Is(err, context.DeadlineExceeded) || !IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable timeout", err)
	}

	// The client's own timeout applies too.
	c = NewClient(Config{BaseURL: h.srv.URL, ClientID: testClientID, ClientSecret: testSecret, Timeout: 50 * time.Millisecond})
	h.sim.SetLatency(0)
	if _, err := c.GetOrder(context.Background(), "WARMUP"); !IsNotFound(err) {
		t.Fatal(err)
	}
	h.sim.SetLatency(2 * time.Second)
	_, err = c.GetOrder(context.Background(), "X")
	if !errors.As(err, &tErr) || !tErr.Timeout {
		t.Fatalf("client timeout: err = %v", err)
	}
	h.sim.SetLatency(0)
	if n := len(h.sim.Orders()); n != 0 {
		t.Fatalf("%d orders created by a request the client gave up on", n)
	}
}

// fakePayPal serves a token and answers every other request with handler.
func fakePayPal(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == TokenPath {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"Bearer","expires_in":32400}`))
			return
		}
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestResponseBodiesAreBounded(t *testing.T) {
	srv := fakePayPal(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"`))
		chunk := []byte(strings.Repeat("A", 64<<10))
		for r.Context().Err() == nil { // an endless answer
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	var ex []Exchange
	c := NewClient(Config{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret", Timeout: 5 * time.Second,
		Record: func(e Exchange) error { ex = append(ex, e); return nil }})
	_, err := c.GetOrder(context.Background(), "X")
	if !errors.Is(err, ErrMalformedResponse) || IsRetryable(err) {
		t.Fatalf("err = %v, want ErrMalformedResponse", err)
	}
	if len(ex) != 1 || len(ex[0].ResponseBody) != MaxResponseBytes {
		t.Fatalf("recorded %d bytes", len(ex[0].ResponseBody))
	}
}

func TestTokenRequestRespectsTheCallersDeadline(t *testing.T) {
	sawCancel := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server sees a client leave only once the body is read
		select {
		case <-r.Context().Done():
			sawCancel <- true
		case <-time.After(2 * time.Second):
			sawCancel <- false
		}
	}))
	t.Cleanup(srv.Close)
	c := NewClient(Config{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret", Timeout: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetOrder(ctx, "X")
	if !errors.Is(err, context.DeadlineExceeded) || !<-sawCancel {
		t.Fatalf("err = %v; the token request outlived the caller's deadline", err)
	}
}

func TestMalformedAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":              `<html>hello</html>`,
		"amount as a number":    `{"id":"O1","status":"COMPLETED","purchase_units":[{"amount":{"currency_code":"USD","value":89.2}}]}`,
		"amount with exponent":  `{"id":"O1","status":"COMPLETED","purchase_units":[{"amount":{"currency_code":"USD","value":"8.92e1"}}]}`,
		"capture without an id": `{"id":"O1","status":"COMPLETED","purchase_units":[{"payments":{"captures":[{"status":"COMPLETED"}]}}]}`,
		"order without an id":   `{"status":"COMPLETED"}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := fakePayPal(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) })
			c := NewClient(Config{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret"})
			if _, err := c.GetOrder(context.Background(), "O1"); !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("err = %v, want ErrMalformedResponse", err)
			}
		})
	}
}

func TestErrorAnswers(t *testing.T) {
	tests := []struct {
		status    int
		body      string
		name      string
		issue     string
		retryable bool
	}{
		{422, `{"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"INSTRUMENT_DECLINED","description":"declined"}],"debug_id":"d1"}`, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED", false},
		{404, `{"name":"RESOURCE_NOT_FOUND","details":[{"issue":"INVALID_RESOURCE_ID"}],"debug_id":"d2"}`, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", false},
		{400, `{"name":"INVALID_REQUEST","message":"bad"}`, "INVALID_REQUEST", "", false},
		{429, `{"name":"RATE_LIMIT_REACHED","message":"slow down"}`, "RATE_LIMIT_REACHED", "", true},
		{500, `{"name":"INTERNAL_SERVER_ERROR"}`, "INTERNAL_SERVER_ERROR", "", true},
		{503, `<html>Service Unavailable</html>`, "", "", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv := fakePayPal(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Paypal-Debug-Id", "hdr-debug")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			c := NewClient(Config{BaseURL: srv.URL, ClientID: "id", ClientSecret: "secret"})
			_, err := c.CaptureOrder(context.Background(), "O1", "r1")
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Status != tt.status || apiErr.Name != tt.name || apiErr.Issue != tt.issue || apiErr.DebugID == "" || IsRetryable(err) != tt.retryable {
				t.Fatalf("APIError = %+v retryable %v", apiErr, IsRetryable(err))
			}
			if tt.issue == IssueInstrumentDeclined && !IsInstrumentDeclined(err) {
				t.Fatalf("IsInstrumentDeclined is false for %v", err)
			}
		})
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&TransportError{Op: "GET /x", Err: errors.New("connection reset")}, true},
		{fmt.Errorf("wrapped: %w", &TransportError{Op: "GET /x", Timeout: true, Err: context.DeadlineExceeded}), true},
		{&TransportError{Op: "GET /x", Err: fmt.Errorf("x: %w", context.Canceled)}, false},
		{&APIError{Status: 500}, true},
		{&APIError{Status: 502}, true},
		{&APIError{Status: 429}, true},
		{&APIError{Status: 401}, false},
		{&APIError{Status: 422, Issue: IssueOrderAlreadyCaptured}, false},
		{ErrMalformedResponse, false},
		{ErrInvalidRequest, false},
	}
	for _, tt := range tests {
		if got := IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	_, err := NewClient(Config{BaseURL: base, ClientID: "id", ClientSecret: "secret"}).GetOrder(context.Background(), "X")
	if !IsRetryable(err) {
		t.Fatalf("err = %v, want retryable", err)
	}
}

func TestAmountsOnTheWire(t *testing.T) {
	tests := []struct {
		value, currency, want string
		ok                    bool
	}{
		{"49", "USD", "49.00", true},
		{"49.5", "USD", "49.50", true},
		{"0.1", "EUR", "0.10", true},
		{"4900", "JPY", "4900", true},
		{"49.005", "USD", "", false},
		{"1.5", "JPY", "", false},
		{"49", "usd", "", false},
	}
	for _, tt := range tests {
		got, err := formatAmount(dec(tt.value), tt.currency)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("formatAmount(%s, %s) = %q, %v; want %q", tt.value, tt.currency, got, err, tt.want)
		}
	}
}

func TestConfigMasksTheSecret(t *testing.T) {
	cfg := Config{BaseURL: "https://api-m.sandbox.paypal.com", ClientID: testClientID, ClientSecret: testSecret}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "paypal", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), buf.String()} {
		if strings.Contains(s, testSecret) || !strings.Contains(s, testClientID) {
			t.Errorf("%q leaks the secret or hides the client id", s)
		}
	}
}
