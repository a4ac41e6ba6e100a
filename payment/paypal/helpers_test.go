package paypal

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/coursecommerce/commerce/commerce"
	sim "github.com/coursecommerce/commerce/simulators/paypal"
)

const (
	testClientID = "AYSq3RDGsmBLJE-otTkBtM-jBRd1TCQwFf9RGfwddNXWz0uFU9ztymylOhRS"
	testSecret   = "EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKYQvQSBngp4PTTVWkPZRbL"
	returnURL    = "https://shop.example/payment/paypal/execute/"
	cancelURL    = "https://shop.example/checkout/cancel-checkout/"
)

// harness is a PayPal simulator served over HTTP and a client that records its exchanges.
type harness struct {
	sim    *sim.Simulator
	srv    *httptest.Server
	client *Client

	mu        sync.Mutex
	exchanges []Exchange
	// recordFails makes the next recordings fail (the database is down).
	recordFails int
}

// newHarness starts a simulator (with cfg's token TTL, if any) and a client for it.
func newHarness(t *testing.T, cfg ...sim.Config) *harness {
	t.Helper()
	c := sim.Config{}
	if len(cfg) > 0 {
		c = cfg[0]
	}
	c.ClientID, c.ClientSecret = testClientID, testSecret
	h := &harness{sim: sim.New(c)}
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	h.client = NewClient(Config{
		BaseURL: h.srv.URL, ClientID: testClientID, ClientSecret: testSecret,
		HTTPClient: h.srv.Client(), Timeout: 10 * time.Second, Record: h.record,
	})
	return h
}

func (h *harness) record(e Exchange) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.exchanges = append(h.exchanges, e)
	if h.recordFails > 0 {
		h.recordFails--
		return errors.New("database down")
	}
	return nil
}

// recorded returns the exchanges recorded so far.
func (h *harness) recorded() []Exchange {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Exchange(nil), h.exchanges...)
}

// processor returns a processor with fast retries.
func (h *harness) processor() Processor {
	return Processor{Client: h.client, Backoff: time.Millisecond, Attempts: 4}
}

// apiCalls returns the simulator's calls to /v2 paths, as "METHOD /path" strings.
func (h *harness) apiCalls() []string {
	var out []string
	for _, c := range h.sim.Calls() {
		if strings.HasPrefix(c.Path, "/v2/") {
			out = append(out, c.Method+" "+c.Path)
		}
	}
	return out
}

// count returns how many of calls are "METHOD path".
func count(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}

// pay creates the order of c and approves it; it returns the PayPal order id.
func (h *harness) pay(t *testing.T, p Processor, c commerce.Checkout) string {
	t.Helper()
	data, err := p.CreatePayment(context.Background(), c, returnURL, cancelURL)
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	id := tokenOf(t, data.PaymentPageURL)
	back, err := h.sim.Approve(id)
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if tokenOf(t, back) != id {
		t.Fatalf("return URL %s does not carry token %s", back, id)
	}
	return id
}

// tokenOf returns the token query parameter of rawURL.
func tokenOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %q: %v", rawURL, err)
	}
	id := u.Query().Get("token")
	if id == "" {
		t.Fatalf("no token in %q", rawURL)
	}
	return id
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// testCheckout is a frozen basket of two lines with a voucher on the first:
// 49.00 - 9.80 + 2 × 25.00 = 89.20 USD.
func testCheckout() commerce.Checkout {
	return commerce.Checkout{
		OrderNumber: "EDX-100042", BasketID: 42, Username: "learner", Processor: Name, Currency: "USD",
		TotalBeforeDiscounts: dec("99.00"), Discount: dec("9.80"), Total: dec("89.20"),
		Lines: []commerce.CheckoutLine{
			{SKU: "8CF08E5", Title: "Go 101", Quantity: 1, UnitPrice: dec("49.00"),
				LinePriceBeforeDiscounts: dec("49.00"), LinePrice: dec("39.20")},
			{SKU: "A1B2C3D", Title: "Rust 201", Quantity: 2, UnitPrice: dec("25.00"),
				LinePriceBeforeDiscounts: dec("50.00"), LinePrice: dec("50.00")},
		},
	}
}

// testCheckout2 is testCheckout under another order number.
func testCheckout2() commerce.Checkout {
	c := testCheckout()
	c.OrderNumber, c.BasketID = "EDX-100043", 43
	return c
}
