package paypal

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	sim "github.com/coursecommerce/commerce/simulators/paypal"
)

func TestCreateApproveComplete(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	c := testCheckout()
	data, err := p.CreatePayment(context.Background(), c, returnURL, cancelURL)
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	if data.Processor != "paypal" || data.FormData == nil || len(data.FormData) != 0 {
		t.Errorf("payment data = %+v, want processor paypal and an empty form", data)
	}
	if !strings.HasPrefix(data.PaymentPageURL, h.srv.URL+"/checkoutnow?token=") {
		t.Errorf("payment page %q is not the simulator's approval page", data.PaymentPageURL)
	}
	id := tokenOf(t, data.PaymentPageURL)
	o, ok := h.sim.Order(id)
	if !ok || o.InvoiceID != "EDX-100042" || o.ReferenceID != "EDX-100042" || o.Amount != "89.20" || o.Currency != "USD" ||
		o.ReturnURL != returnURL || o.CancelURL != cancelURL {
		t.Fatalf("simulator order = %+v", o)
	}
	if _, err := h.sim.Approve(id); err != nil {
		t.Fatalf("Approve: %v", err)
	}

	n, err := p.Complete(context.Background(), id, c)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	captures := h.sim.Captures()
	if len(captures) != 1 {
		t.Fatalf("captures = %+v, want one", captures)
	}
	want := commerce.PaymentNotification{Processor: "paypal", TransactionID: captures[0].ID, OrderNumber: "EDX-100042",
		Outcome: commerce.PaymentAccepted, Currency: "USD", Label: "PayPal (buyer@example.com)"}
	if n.Processor != want.Processor || n.TransactionID != want.TransactionID || n.OrderNumber != want.OrderNumber ||
		n.Outcome != want.Outcome || n.Currency != want.Currency || n.Label != want.Label || !n.Amount.Equal(dec("89.20")) {
		t.Errorf("notification = %+v, want %+v with amount 89.20", n, want)
	}
	if captures[0].Amount != "89.20" || captures[0].Status != "COMPLETED" {
		t.Errorf("capture = %+v", captures[0])
	}
}

func TestCreatePaymentSendsTheBasket(t *testing.T) {
	h := newHarness(t)
	if _, err := h.processor().CreatePayment(context.Background(), testCheckout(), returnURL, cancelURL); err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	ex := h.recorded()
	if len(ex) != 1 || ex[0].Kind != KindCreateOrder || ex[0].RequestID == "" {
		t.Fatalf("exchanges = %+v", ex)
	}
	var body struct {
		Intent        string `json:"intent"`
		PurchaseUnits []struct {
			ReferenceID string `json:"reference_id"`
			InvoiceID   string `json:"invoice_id"`
			Amount      struct {
				CurrencyCode string                     `json:"currency_code"`
				Value        json.RawMessage            `json:"value"`
				Breakdown    map[string]json.RawMessage `json:"breakdown"`
			} `json:"amount"`
			Items []map[string]json.RawMessage `json:"items"`
		} `json:"purchase_units"`
		PaymentSource struct {
			PayPal struct {
				ExperienceContext struct {
					ReturnURL string `json:"return_url"`
					CancelURL string `json:"cancel_url"`
				} `json:"experience_context"`
			} `json:"paypal"`
		} `json:"payment_source"`
	}
	if err := json.Unmarshal(ex[0].RequestBody, &body); err != nil {
		t.Fatalf("request body: %v", err)
	}
	u := body.PurchaseUnits[0]
	if body.Intent != "CAPTURE" || len(body.PurchaseUnits) != 1 || u.ReferenceID != "EDX-100042" || u.InvoiceID != "EDX-100042" {
		t.Errorf("order = %s", ex[0].RequestBody)
	}
	if string(u.Amount.Value) != `"89.20"` || u.Amount.CurrencyCode != "USD" {
		t.Errorf("amount value %s %s, want the string \"89.20\" USD", u.Amount.Value, u.Amount.CurrencyCode)
	}
	if string(u.Amount.Breakdown["item_total"]) != `{"currency_code":"USD","value":"99.00"}` ||
		string(u.Amount.Breakdown["discount"]) != `{"currency_code":"USD","value":"9.80"}` {
		t.Errorf("breakdown = %v", u.Amount.Breakdown)
	}
	if len(u.Items) != 2 || string(u.Items[1]["sku"]) != `"A1B2C3D"` || string(u.Items[1]["quantity"]) != `"2"` ||
		string(u.Items[1]["unit_amount"]) != `{"currency_code":"USD","value":"25.00"}` || string(u.Items[0]["category"]) != `"DIGITAL_GOODS"` ||
		string(u.Items[0]["name"]) != `"Go 101"` {
		t.Errorf("items = %v", u.Items)
	}
	ec := body.PaymentSource.PayPal.ExperienceContext
	if ec.ReturnURL != returnURL || ec.CancelURL != cancelURL {
		t.Errorf("experience context = %+v", ec)
	}
}

func TestCreatePaymentIsIdempotent(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	first, err := p.CreatePayment(context.Background(), testCheckout(), returnURL, cancelURL)
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	again, err := p.CreatePayment(context.Background(), testCheckout(), returnURL, cancelURL)
	if err != nil {
		t.Fatalf("CreatePayment again: %v", err)
	}
	if again.PaymentPageURL != first.PaymentPageURL || len(h.sim.Orders()) != 1 {
		t.Fatalf("asking again gave %s (first %s), %d orders", again.PaymentPageURL, first.PaymentPageURL, len(h.sim.Orders()))
	}
	other := testCheckout()
	other.OrderNumber = "EDX-100043"
	third, err := p.CreatePayment(context.Background(), other, returnURL, cancelURL)
	if err != nil {
		t.Fatalf("CreatePayment other: %v", err)
	}
	if third.PaymentPageURL == first.PaymentPageURL || len(h.sim.Orders()) != 2 {
		t.Fatalf("another checkout shares the order %s", third.PaymentPageURL)
	}
	prefixed := h.processor()
	prefixed.RequestIDPrefix = "staging-"
	fourth, err := prefixed.CreatePayment(context.Background(), testCheckout(), returnURL, cancelURL)
	if err != nil {
		t.Fatalf("CreatePayment with prefix: %v", err)
	}
	if fourth.PaymentPageURL == first.PaymentPageURL {
		t.Fatalf("another request id prefix shares the order")
	}
}

func TestCreatePaymentRetriesServerErrors(t *testing.T) {
	h := newHarness(t)
	h.sim.SetFailNext(2)
	if _, err := h.processor().CreatePayment(context.Background(), testCheckout(), returnURL, cancelURL); err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	if n := len(h.sim.Orders()); n != 1 {
		t.Fatalf("%d orders, want 1", n)
	}
}

func TestCreatePaymentRefusesInconsistentCheckouts(t *testing.T) {
	tests := []struct {
		name   string
		change func(*commerce.Checkout)
	}{
		{"total differs from the lines", func(c *commerce.Checkout) { c.Total = dec("90.00") }},
		{"unit price times quantity differs", func(c *commerce.Checkout) { c.Lines[1].UnitPrice = dec("24.99") }},
		{"free basket", func(c *commerce.Checkout) {
			for i := range c.Lines {
				c.Lines[i].LinePrice = c.Lines[i].LinePrice.Sub(c.Lines[i].LinePrice)
			}
			c.Total = dec("0")
		}},
		{"three decimals", func(c *commerce.Checkout) {
			c.Lines[0].UnitPrice, c.Lines[0].LinePriceBeforeDiscounts, c.Lines[0].LinePrice = dec("49.005"), dec("49.005"), dec("49.005")
			c.Total = dec("99.005")
		}},
		{"no lines", func(c *commerce.Checkout) { c.Lines, c.Total = nil, dec("0") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			c := testCheckout()
			tt.change(&c)
			_, err := h.processor().CreatePayment(context.Background(), c, returnURL, cancelURL)
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
			if calls := h.apiCalls(); len(calls) != 0 {
				t.Fatalf("calls made: %v", calls)
			}
		})
	}
	h := newHarness(t)
	if _, err := h.processor().CreatePayment(context.Background(), testCheckout(), "/relative", cancelURL); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("relative return URL: err = %v", err)
	}
}

func TestCompleteTwiceCapturesOnce(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	id := h.pay(t, p, testCheckout())
	first, err := p.Complete(context.Background(), id, testCheckout())
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	again, err := p.Complete(context.Background(), id, testCheckout())
	if err != nil {
		t.Fatalf("Complete again: %v", err)
	}
	if again.TransactionID != first.TransactionID || again.Outcome != commerce.PaymentAccepted || len(h.sim.Captures()) != 1 {
		t.Fatalf("second completion %+v (first %+v), %d captures", again, first, len(h.sim.Captures()))
	}
}

func TestCompleteFindsACaptureWhoseAnswerWasLost(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*harness)
	}{
		{"500 after capturing", func(h *harness) { h.sim.SetLoseAnswerNext(1) }},
		{"connection dropped after capturing", func(h *harness) { h.sim.SetDropAnswerNext(1) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.processor()
			id := h.pay(t, p, testCheckout())
			tt.set(h)
			n, err := p.Complete(context.Background(), id, testCheckout())
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			captures := h.sim.Captures()
			if len(captures) != 1 || n.TransactionID != captures[0].ID || n.Outcome != commerce.PaymentAccepted {
				t.Fatalf("notification %+v, captures %+v", n, captures)
			}
			calls := h.apiCalls()
			capturePath := "POST /v2/checkout/orders/" + id + "/capture"
			if count(calls, capturePath) != 1 || count(calls, "GET /v2/checkout/orders/"+id) != 1 {
				t.Fatalf("calls = %v, want one capture then one read of the order", calls)
			}
		})
	}
}

func TestCompleteRetriesServerErrors(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	id := h.pay(t, p, testCheckout())
	h.sim.SetFailNext(2) // the capture, then the read of the order
	n, err := p.Complete(context.Background(), id, testCheckout())
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if captures := h.sim.Captures(); len(captures) != 1 || n.TransactionID != captures[0].ID || n.Outcome != commerce.PaymentAccepted {
		t.Fatalf("notification %+v, captures %+v", n, captures)
	}
}

func TestCompleteGivesUp(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	id := h.pay(t, p, testCheckout())
	h.sim.SetFailNext(100)
	_, err := p.Complete(context.Background(), id, testCheckout())
	if err == nil || !IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Fatalf("err = %v, want the last 500", err)
	}
	if len(h.sim.Captures()) != 0 {
		t.Fatalf("captured: %+v", h.sim.Captures())
	}
	if n := count(h.apiCalls(), "POST /v2/checkout/orders/"+id+"/capture"); n != 1 {
		t.Fatalf("%d captures attempted while the order could not be read, want 1", n)
	}
}

func TestCompleteStopsWhenTheContextEnds(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	id := h.pay(t, p, testCheckout())
	h.sim.SetFailNext(100)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Complete(ctx, id, testCheckout())
	if !errors.Is(err, context.Canceled) || IsRetryable(err) {
		t.Fatalf("err = %v, want context.Canceled, not retryable", err)
	}
}

func TestCompleteOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		set        func(*sim.Simulator)
		outcome    commerce.PaymentOutcome
		byCapture  bool // the transaction id is a capture id (else the order id)
		messageHas string
	}{
		{"instrument declined", func(s *sim.Simulator) { s.SetDeclineNext(1) }, commerce.PaymentDeclined, false, "INSTRUMENT_DECLINED"},
		{"declined capture", func(s *sim.Simulator) { s.SetDeclinedCaptureNext(1) }, commerce.PaymentDeclined, true, "DECLINED"},
		{"pending capture", func(s *sim.Simulator) { s.SetPendingCaptureNext(1) }, commerce.PaymentReview, true, "PENDING_REVIEW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.processor()
			id := h.pay(t, p, testCheckout())
			tt.set(h.sim)
			n, err := p.Complete(context.Background(), id, testCheckout())
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			want := id
			if captures := h.sim.Captures(); tt.byCapture {
				if len(captures) != 1 {
					t.Fatalf("captures = %+v", captures)
				}
				want = captures[0].ID
			} else if len(captures) != 0 {
				t.Fatalf("captures = %+v, want none", captures)
			}
			if n.Outcome != tt.outcome || n.TransactionID != want || n.OrderNumber != "EDX-100042" || !strings.Contains(n.Message, tt.messageHas) {
				t.Fatalf("notification = %+v, want %s for %s mentioning %s", n, tt.outcome, want, tt.messageHas)
			}
		})
	}
}

func TestCompleteReportsADoubleCapture(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	id := h.pay(t, p, testCheckout())
	h.sim.SetDoubleCaptureNext(1)
	ns, err := p.CompleteAll(context.Background(), id, testCheckout())
	if err != nil {
		t.Fatalf("CompleteAll: %v", err)
	}
	captures := h.sim.Captures()
	if len(captures) != 2 || len(ns) != 2 {
		t.Fatalf("captures %+v, notifications %+v", captures, ns)
	}
	for i, n := range ns {
		if n.Outcome != commerce.PaymentAccepted || n.TransactionID != captures[i].ID {
			t.Errorf("notification %d = %+v, want accepted %s", i, n, captures[i].ID)
		}
	}
	first, err := p.Complete(context.Background(), id, testCheckout())
	if err != nil || first.TransactionID != captures[0].ID {
		t.Fatalf("Complete = %+v, %v; want the first capture", first, err)
	}
}

func TestCompleteSurfacesMismatches(t *testing.T) {
	tests := []struct {
		name   string
		change func(*commerce.Checkout) // the checkout completed, unlike the one the order was created for
		check  func(commerce.PaymentNotification) bool
	}{
		{"amount", func(c *commerce.Checkout) { c.Total = dec("99.00") },
			func(n commerce.PaymentNotification) bool { return n.Amount.Equal(dec("89.20")) }},
		{"currency", func(c *commerce.Checkout) { c.Currency = "EUR" },
			func(n commerce.PaymentNotification) bool { return n.Currency == "USD" }},
		{"invoice", func(c *commerce.Checkout) { c.OrderNumber = "EDX-100099" },
			func(n commerce.PaymentNotification) bool { return n.OrderNumber == "EDX-100042" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.processor()
			id := h.pay(t, p, testCheckout())
			c := testCheckout()
			tt.change(&c)
			n, err := p.Complete(context.Background(), id, c)
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if n.Outcome != commerce.PaymentAccepted || !tt.check(n) {
				t.Fatalf("notification = %+v", n)
			}
			// What the checkout workflow compares must differ from the checkout.
			if n.OrderNumber == c.OrderNumber && n.Currency == c.Currency && n.Amount.Equal(c.Total) {
				t.Fatalf("the mismatch is hidden: %+v", n)
			}
			if !strings.Contains(n.Message, "basket totals") && !strings.Contains(n.Message, "invoice id") {
				t.Errorf("message does not explain the mismatch: %q", n.Message)
			}
		})
	}
}

func TestCompleteUsesAnExistingCapture(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	id := h.pay(t, p, testCheckout())
	o, err := h.client.CaptureOrder(context.Background(), id, "someone-else")
	if err != nil {
		t.Fatalf("CaptureOrder: %v", err)
	}
	n, err := p.Complete(context.Background(), id, testCheckout())
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if len(h.sim.Captures()) != 1 || n.TransactionID != o.Captures()[0].ID || n.Outcome != commerce.PaymentAccepted {
		t.Fatalf("notification %+v, captures %+v", n, h.sim.Captures())
	}
}

func TestCompleteRefusesOrdersNotPaid(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	data, err := p.CreatePayment(context.Background(), testCheckout(), returnURL, cancelURL)
	if err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	_, err = p.Complete(context.Background(), tokenOf(t, data.PaymentPageURL), testCheckout())
	if !IsNotApproved(err) || IsRetryable(err) {
		t.Fatalf("not approved: err = %v", err)
	}
	_, err = p.Complete(context.Background(), "NOSUCHORDER", testCheckout())
	if !IsNotFound(err) || IsRetryable(err) {
		t.Fatalf("unknown: err = %v", err)
	}
	if len(h.sim.Captures()) != 0 {
		t.Fatalf("captured: %+v", h.sim.Captures())
	}
}

func TestOrderNumberOf(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	id := h.pay(t, p, testCheckout())
	got, err := p.OrderNumberOf(context.Background(), id)
	if err != nil || got != "EDX-100042" {
		t.Fatalf("OrderNumberOf = %q, %v", got, err)
	}
}

func TestProcessorWithoutClient(t *testing.T) {
	var p Processor
	if p.Name() != "paypal" {
		t.Errorf("Name = %q", p.Name())
	}
	if _, err := p.CreatePayment(context.Background(), testCheckout(), returnURL, cancelURL); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("CreatePayment: %v", err)
	}
	if _, err := p.Complete(context.Background(), "X", testCheckout()); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("Complete: %v", err)
	}
}

func TestRequestIDsAreBounded(t *testing.T) {
	p := Processor{RequestIDPrefix: strings.Repeat("x", 200)}
	id := p.requestID("capture", "5O190127TN364715T")
	if len(id) > maxRequestID || id != p.requestID("capture", "5O190127TN364715T") || id == p.requestID("capture", "other") {
		t.Fatalf("request id %q (%d characters) is not a short deterministic id", id, len(id))
	}
}

// A capture whose answer cannot be recorded is not acted on: the processor looks the order up
// again (recording that), and uses the one capture; the database staying down fails the call.
func TestCompleteActsOnlyOnRecordedAnswers(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	id := h.pay(t, p, testCheckout())
	h.mu.Lock()
	h.recordFails = 1
	h.mu.Unlock()
	n, err := p.Complete(context.Background(), id, testCheckout())
	if err != nil {
		t.Fatalf("Complete after one failed recording: %v", err)
	}
	if n.Outcome != commerce.PaymentAccepted || len(h.sim.Captures()) != 1 {
		t.Fatalf("notification %+v, %d captures; want accepted and one capture", n, len(h.sim.Captures()))
	}

	id2 := h.pay(t, p, testCheckout2())
	h.mu.Lock()
	h.recordFails = 100
	h.mu.Unlock()
	if _, err := p.Complete(context.Background(), id2, testCheckout2()); !errors.Is(err, ErrNotRecorded) {
		t.Fatalf("Complete with the database down: err = %v, want ErrNotRecorded", err)
	}
}

// LookUp says an order is open until the buyer approves it, and gives its order number.
func TestLookUpTellsWhetherTheOrderIsOpen(t *testing.T) {
	h := newHarness(t)
	p := h.processor()
	data, err := p.CreatePayment(context.Background(), testCheckout(), "http://shop.test/return", "http://shop.test/cancel")
	if err != nil {
		t.Fatal(err)
	}
	id := data.PaymentPageURL[strings.LastIndex(data.PaymentPageURL, "=")+1:]
	number, open, err := p.LookUp(context.Background(), id)
	if err != nil || number != "EDX-100042" || !open {
		t.Fatalf("created order: %q open=%v err=%v", number, open, err)
	}
	if _, err := h.sim.Approve(id); err != nil {
		t.Fatal(err)
	}
	if _, open, err = p.LookUp(context.Background(), id); err != nil || open {
		t.Fatalf("approved order: open=%v err=%v; want closed", open, err)
	}
}
