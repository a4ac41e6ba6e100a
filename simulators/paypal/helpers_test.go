package paypal

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	clientID     = "client-1"
	clientSecret = "secret-1"
	returnURL    = "https://shop.example/payment/paypal/execute/?lang=en"
	cancelURL    = "https://shop.example/checkout/cancel-checkout/"
)

// harness is a simulator served over HTTP and a bearer token for it.
type harness struct {
	sim   *Simulator
	srv   *httptest.Server
	token string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{sim: New(Config{ClientID: clientID, ClientSecret: clientSecret})}
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	h.token = h.getToken(t)
	return h
}

// getToken fetches an access token with the right credentials.
func (h *harness) getToken(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	status, body := h.send(t, req)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != int(h.sim.cfg.TokenTTL/time.Second) {
		t.Fatalf("token: %d %s", status, body)
	}
	return tok.AccessToken
}

// send sends req without following redirects and returns the status and body.
func (h *harness) send(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	client := *h.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); loc != "" {
		body = []byte(loc)
	}
	return resp.StatusCode, body
}

// api calls the API with the harness token; body is JSON-encoded unless it is a string.
func (h *harness) api(t *testing.T, method, path, requestID string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "return=representation")
	if requestID != "" {
		req.Header.Set("PayPal-Request-Id", requestID)
	}
	status, raw := h.send(t, req)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %s is not JSON", method, path, status, raw)
		}
	}
	return status, out
}

// orderBody is a valid order of two items with a discount: 2 × 25.00 + 49.00 - 9.80 = 89.20.
func orderBody() map[string]any {
	m := func(v string) map[string]any { return map[string]any{"currency_code": "USD", "value": v} }
	return map[string]any{
		"intent": "CAPTURE",
		"purchase_units": []any{map[string]any{
			"reference_id": "EDX-100042", "invoice_id": "EDX-100042",
			"amount": map[string]any{"currency_code": "USD", "value": "89.20",
				"breakdown": map[string]any{"item_total": m("99.00"), "discount": m("9.80")}},
			"items": []any{
				map[string]any{"name": "Go 101", "sku": "8CF08E5", "quantity": "1", "unit_amount": m("49.00"), "category": "DIGITAL_GOODS"},
				map[string]any{"name": "Rust 201", "sku": "A1B2C3D", "quantity": "2", "unit_amount": m("25.00"), "category": "DIGITAL_GOODS"},
			},
		}},
		"payment_source": map[string]any{"paypal": map[string]any{"experience_context": map[string]any{
			"return_url": returnURL, "cancel_url": cancelURL, "shipping_preference": "NO_SHIPPING"}}},
	}
}

// createOrder creates orderBody and returns the order id.
func (h *harness) createOrder(t *testing.T, requestID string) string {
	t.Helper()
	status, o := h.api(t, http.MethodPost, "/v2/checkout/orders", requestID, orderBody())
	if status != http.StatusCreated || o["id"] == "" {
		t.Fatalf("create: %d %v", status, o)
	}
	return o["id"].(string)
}

// approvedOrder creates and approves an order.
func (h *harness) approvedOrder(t *testing.T) string {
	t.Helper()
	id := h.createOrder(t, "")
	if _, err := h.sim.Approve(id); err != nil {
		t.Fatal(err)
	}
	return id
}

// issue returns the first issue of an error answer.
func issue(body map[string]any) string {
	details, _ := body["details"].([]any)
	if len(details) == 0 {
		return ""
	}
	d, _ := details[0].(map[string]any)
	s, _ := d["issue"].(string)
	return s
}

// dig walks a decoded JSON value along keys (strings for objects, ints for arrays).
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// query returns the query of a URL.
func query(t *testing.T, rawURL string) url.Values {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
