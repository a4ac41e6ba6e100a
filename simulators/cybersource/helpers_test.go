package cybersource

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	payment "github.com/coursecommerce/commerce/payment/cybersource"
)

const (
	receiptURL = "https://shop.example/payment/cybersource/redirect/"
	cancelURL  = "https://shop.example/payment/cybersource/cancel/"
)

var (
	profileA = payment.Profile{ProfileID: "00000000-0000-0000-0000-000000000001", AccessKey: "access-a", SecretKey: "secret-a"}
	profileB = payment.Profile{ProfileID: "00000000-0000-0000-0000-000000000002", AccessKey: "access-b", SecretKey: "secret-b"}
)

// merchant records the notifications posted to it.
type merchant struct {
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []map[string]string
}

// newMerchant starts a notify receiver answering 200 (or m.status).
func newMerchant(t *testing.T) *merchant {
	t.Helper()
	m := &merchant{}
	m.status.Store(http.StatusOK)
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "want a form POST", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fields := map[string]string{}
		for k, v := range r.PostForm {
			fields[k] = v[0]
		}
		m.mu.Lock()
		m.got = append(m.got, fields)
		m.mu.Unlock()
		w.WriteHeader(int(m.status.Load()))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

// notifications returns what was posted so far.
func (m *merchant) notifications() []map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]map[string]string(nil), m.got...)
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a simulator served over HTTP with a merchant notify receiver.
type harness struct {
	sim      *Simulator
	srv      *httptest.Server
	merchant *merchant
	clock    *clock
	// shop verifies replies like the merchant does (profile A, extra B).
	shop payment.Config
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{merchant: newMerchant(t), clock: &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	h.sim = New(Config{
		Profiles:  []payment.Profile{profileA, profileB},
		NotifyURL: h.merchant.srv.URL + "/payment/cybersource/notify/",
		Now:       h.clock.Now,
	})
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	h.shop = payment.Config{Profile: profileA, Extra: []payment.Profile{profileB}, PaymentPageURL: h.srv.URL + "/pay"}
	return h
}

// form returns a payment form signed by the merchant package for profile.
func form(t *testing.T, profile payment.Profile, uuid string) map[string]string {
	t.Helper()
	cfg := payment.Config{Profile: profile}
	f, err := cfg.PaymentFormData(payment.PaymentRequest{
		OrderNumber: "EDX-100001",
		Amount:      decimal.RequireFromString("99.00"),
		Currency:    "USD",
		Username:    "honor",
		Lines: []payment.LineItem{{
			SKU: "8CF08E5", Name: `Démo "course" & <b>seat</b>`, Code: "seat", Quantity: 1,
			UnitPrice: decimal.RequireFromString("109"), Discount: decimal.RequireFromString("10"), Total: decimal.RequireFromString("99"),
		}},
		ReceiptURL:      receiptURL,
		CancelURL:       cancelURL,
		TransactionUUID: uuid,
		SignedAt:        time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatalf("PaymentFormData: %v", err)
	}
	return f
}

// resign signs a modified form again with profile's secret.
func resign(f map[string]string, profile payment.Profile) map[string]string {
	f = maps.Clone(f)
	f["signature"] = payment.SignFields(f, profile.SecretKey)
	return f
}

// postForm posts fields to the simulator path and returns status, header
// and body.
func (h *harness) postForm(t *testing.T, path string, fields map[string]string) (int, http.Header, []byte) {
	t.Helper()
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	resp, err := http.PostForm(h.srv.URL+path, v)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header, body
}

// pay runs the Go driver and fails the test on error.
func (h *harness) pay(t *testing.T, f map[string]string, action string) Result {
	t.Helper()
	res, err := h.sim.Pay(context.Background(), f, action)
	if err != nil {
		t.Fatalf("Pay(%s): %v", action, err)
	}
	return res
}

// parse verifies and normalises a reply like the merchant does.
func (h *harness) parse(t *testing.T, reply map[string]string) payment.Reply {
	t.Helper()
	r, err := h.shop.ParseReply(reply)
	if err != nil {
		t.Fatalf("ParseReply: %v", err)
	}
	return r
}

// assertNothingHappened checks that no reply, notification or session was
// produced.
func (h *harness) assertNothingHappened(t *testing.T) {
	t.Helper()
	if n := len(h.sim.Replies()); n != 0 {
		t.Errorf("%d replies recorded, want 0", n)
	}
	if n := len(h.merchant.notifications()); n != 0 {
		t.Errorf("%d notifications, want 0", n)
	}
	h.sim.mu.Lock()
	defer h.sim.mu.Unlock()
	if n := len(h.sim.sessions); n != 0 {
		t.Errorf("%d sessions opened, want 0", n)
	}
}

// contains fails unless body contains every string of want.
func contains(t *testing.T, body []byte, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(body), w) {
			t.Errorf("page does not contain %q", w)
		}
	}
}
