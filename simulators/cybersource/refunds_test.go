package cybersource

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	payment "github.com/coursecommerce/commerce/payment/cybersource"
)

const (
	restMerchant = "merchant-1"
	restKeyID    = "key-1"
	restSecret   = "cmVzdC1zZWNyZXQtb2YtdGhlLXNpbXVsYXRvcg==" // base64("rest-secret-of-the-simulator")
)

// restHarness is a simulator with a REST key and a clock, served over HTTP.
func restHarness(t *testing.T) *harness {
	t.Helper()
	// The merchant client signs with the real clock.
	h := &harness{merchant: newMerchant(t), clock: &clock{now: time.Now().UTC()}}
	h.sim = New(Config{
		Profiles:  []payment.Profile{profileA, profileB},
		RESTKeys:  []RESTKey{{MerchantID: restMerchant, KeyID: restKeyID, SharedSecret: restSecret}},
		NotifyURL: h.merchant.srv.URL + "/payment/cybersource/notify/",
		Now:       h.clock.Now,
	})
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	h.shop = payment.Config{Profile: profileA, Extra: []payment.Profile{profileB}, PaymentPageURL: h.srv.URL + "/pay"}
	return h
}

// afterSigning lets a test change a request after the merchant client signed it.
type afterSigning func(r *http.Request, body []byte) []byte

func (f afterSigning) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	body = f(r, body)
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return http.DefaultTransport.RoundTrip(r)
}

// restClient returns the merchant package's REST client for the simulator, with its requests
// changed by t after signing (if not nil).
func (h *harness) restClient(secret, keyID string, t afterSigning) *payment.RESTClient {
	client := h.srv.Client()
	if t != nil {
		client = &http.Client{Transport: t}
	}
	return payment.NewRESTClient(payment.RESTConfig{BaseURL: h.srv.URL, MerchantID: restMerchant, KeyID: keyID,
		SharedSecret: secret, HTTPClient: client})
}

func restRefund(txn, key, amount string) payment.RefundRequest {
	return payment.RefundRequest{TransactionID: txn, OrderNumber: "EDX-100001", IdempotencyKey: key,
		Amount: decimal.RequireFromString(amount), Currency: "USD"}
}

// status returns the HTTP status of a REST error, 201 for none.
func status(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return http.StatusCreated
	}
	var re *payment.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a REST answer", err)
	}
	return re.Status
}

func TestRefundAuthentication(t *testing.T) {
	other := "b3RoZXItc2VjcmV0" // base64("other-secret")
	tests := []struct {
		name   string
		secret string
		keyID  string
		tamper afterSigning
		want   int
	}{
		{"authentic", restSecret, restKeyID, nil, http.StatusCreated},
		{"wrong secret", other, restKeyID, nil, http.StatusUnauthorized},
		{"unknown key id", restSecret, "key-2", nil, http.StatusUnauthorized},
		{"unknown merchant", restSecret, restKeyID, func(r *http.Request, b []byte) []byte {
			r.Header.Set("v-c-merchant-id", "merchant-2")
			return b
		}, http.StatusUnauthorized},
		{"body changed after signing", restSecret, restKeyID, func(r *http.Request, b []byte) []byte {
			return bytes.Replace(b, []byte(`"49.00"`), []byte(`"99.00"`), 1)
		}, http.StatusUnauthorized},
		{"body and digest changed after signing", restSecret, restKeyID, func(r *http.Request, b []byte) []byte {
			b = bytes.Replace(b, []byte(`"49.00"`), []byte(`"48.00"`), 1)
			r.Header.Set("Digest", bodyDigestForTest(b))
			return b
		}, http.StatusUnauthorized},
		{"date changed after signing", restSecret, restKeyID, func(r *http.Request, b []byte) []byte {
			r.Header.Set("Date", time.Now().UTC().Add(time.Second).Format(http.TimeFormat))
			return b
		}, http.StatusUnauthorized},
		{"path changed after signing", restSecret, restKeyID, func(r *http.Request, b []byte) []byte {
			r.URL.Path = payment.RefundsPath("1111111111111111111111") // another payment
			return b
		}, http.StatusUnauthorized},
		{"no signature", restSecret, restKeyID, func(r *http.Request, b []byte) []byte {
			r.Header.Del("Signature")
			return b
		}, http.StatusUnauthorized},
		{"digest not signed", restSecret, restKeyID, func(r *http.Request, b []byte) []byte {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), " digest", "", 1))
			return b
		}, http.StatusUnauthorized},
		{"another algorithm", restSecret, restKeyID, func(r *http.Request, b []byte) []byte {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "HmacSHA256", "HmacSHA1", 1))
			return b
		}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := restHarness(t)
			txn := h.sim.AddSale("EDX-100001", decimal.RequireFromString("99.00"), "USD")
			_, err := h.restClient(tt.secret, tt.keyID, tt.tamper).RefundPayment(context.Background(), restRefund(txn, "refund-1", "49.00"))
			if got := status(t, err); got != tt.want {
				t.Fatalf("status %d (%v), want %d", got, err, tt.want)
			}
			if n := len(h.sim.Refunds()); (n == 1) != (tt.want == http.StatusCreated) {
				t.Fatalf("%d refunds", n)
			}
		})
	}
}

func TestRefundDateMustBeRecent(t *testing.T) {
	h := restHarness(t)
	txn := h.sim.AddSale("EDX-100001", decimal.RequireFromString("99.00"), "USD")
	c := h.restClient(restSecret, restKeyID, nil)
	h.clock.advance(MaxClockSkew + time.Minute) // the client's date is now too old
	if _, err := c.RefundPayment(context.Background(), restRefund(txn, "refund-1", "1.00")); status(t, err) != http.StatusUnauthorized {
		t.Fatalf("stale date: %v", err)
	}
	h.clock.advance(-MaxClockSkew) // within the skew again
	if _, err := c.RefundPayment(context.Background(), restRefund(txn, "refund-1", "1.00")); err != nil {
		t.Fatalf("recent date: %v", err)
	}
}

func TestRefundDeduplicatesOnTheIdempotencyKey(t *testing.T) {
	h := restHarness(t)
	txn := h.sim.AddSale("EDX-100001", decimal.RequireFromString("99.00"), "USD")
	c := h.restClient(restSecret, restKeyID, nil)
	ctx := context.Background()
	first, err := c.RefundPayment(ctx, restRefund(txn, "refund-1", "49.00"))
	if err != nil || first.Status != "PENDING" || first.Amount.StringFixed(2) != "49.00" || first.Currency != "USD" || first.CorrelationID == "" {
		t.Fatalf("first: %+v, %v", first, err)
	}
	again, err := c.RefundPayment(ctx, restRefund(txn, "refund-1", "49.00"))
	if err != nil || again.ID != first.ID {
		t.Fatalf("same key: %+v, %v; want %s again", again, err, first.ID)
	}
	// The same key for another amount is CyberSource's duplicate.
	if _, err := c.RefundPayment(ctx, restRefund(txn, "refund-1", "10.00")); !payment.IsDuplicateRequest(err) {
		t.Fatalf("same key, other amount: %v", err)
	}
	h.sim.SetDuplicateRefundError(true)
	if _, err := c.RefundPayment(ctx, restRefund(txn, "refund-1", "49.00")); !payment.IsDuplicateRequest(err) {
		t.Fatalf("same key with DuplicateRefundError: %v", err)
	}
	// Another key is another refund; a refund without a key is never deduplicated.
	second, err := c.RefundPayment(ctx, restRefund(txn, "refund-2", "49.00"))
	if err != nil || second.ID == first.ID {
		t.Fatalf("another key: %+v, %v", second, err)
	}
	if _, err := c.RefundPayment(ctx, restRefund(txn, "", "0.50")); err != nil {
		t.Fatalf("no key: %v", err)
	}
	if _, err := c.RefundPayment(ctx, restRefund(txn, "", "0.50")); err != nil {
		t.Fatalf("no key again: %v", err)
	}
	if tx := h.sim.Transactions(); len(h.sim.Refunds()) != 4 || tx[0].Refunded != "99.00" {
		t.Fatalf("refunds %+v, transactions %+v", h.sim.Refunds(), tx)
	}
	// Nothing is left to refund.
	_, err = c.RefundPayment(ctx, restRefund(txn, "refund-3", "0.01"))
	var re *payment.RESTError
	if !errors.As(err, &re) || re.Status != http.StatusBadRequest || re.Reason != "INVALID_AMOUNT" || len(h.sim.Refunds()) != 4 {
		t.Fatalf("refund of a refunded payment: %v", err)
	}
}

func TestRefundValidation(t *testing.T) {
	h := restHarness(t)
	sale := h.sim.AddSale("EDX-100001", decimal.RequireFromString("99.00"), "USD")
	authForm := form(t, profileA, "uuid-auth")
	authForm["transaction_type"] = "authorization"
	auth := h.pay(t, resign(authForm, profileA), ActionPay)
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		reason string
	}{
		{"not JSON", payment.RefundsPath(sale), `{`, 400, "INVALID_DATA"},
		{"no amount", payment.RefundsPath(sale), `{"clientReferenceInformation":{"code":"EDX-100001"}}`, 400, "MISSING_FIELD"},
		{"no currency", payment.RefundsPath(sale), `{"orderInformation":{"amountDetails":{"totalAmount":"1.00"}}}`, 400, "MISSING_FIELD"},
		{"amount as a number", payment.RefundsPath(sale), `{"orderInformation":{"amountDetails":{"totalAmount":1,"currency":"USD"}}}`, 400, "INVALID_DATA"},
		{"bad amount", payment.RefundsPath(sale), `{"orderInformation":{"amountDetails":{"totalAmount":"1,00","currency":"USD"}}}`, 400, "INVALID_DATA"},
		{"zero amount", payment.RefundsPath(sale), `{"orderInformation":{"amountDetails":{"totalAmount":"0.00","currency":"USD"}}}`, 400, "INVALID_AMOUNT"},
		{"other currency", payment.RefundsPath(sale), `{"orderInformation":{"amountDetails":{"totalAmount":"1.00","currency":"EUR"}}}`, 400, "INVALID_DATA"},
		{"above the payment", payment.RefundsPath(sale), `{"orderInformation":{"amountDetails":{"totalAmount":"99.01","currency":"USD"}}}`, 400, "INVALID_AMOUNT"},
		{"unknown payment", payment.RefundsPath("1234567890123456789012"), `{"orderInformation":{"amountDetails":{"totalAmount":"1.00","currency":"USD"}}}`, 404, ""},
		{"authorization only", payment.RefundsPath(auth.Reply["transaction_id"]), `{"orderInformation":{"amountDetails":{"totalAmount":"1.00","currency":"USD"}}}`, 400, "INVALID_DATA"},
		{"whole payment", payment.RefundsPath(sale), `{"orderInformation":{"amountDetails":{"totalAmount":"99","currency":"USD"}}}`, 201, ""},
	}
	for _, tt := range tests {
		got, body := h.signedPost(t, tt.path, tt.body)
		if got != tt.status || body["reason"] != nilIfEmpty(tt.reason) {
			t.Errorf("%s: %d %v, want %d %s", tt.name, got, body, tt.status, tt.reason)
		}
	}
	if r := h.sim.Refunds(); len(r) != 1 || r[0].Amount != "99.00" {
		t.Fatalf("refunds %+v", r)
	}
}

// nilIfEmpty maps "" to nil, as a decoded JSON field that is absent.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// signedPost posts body to path, signed by hand (signForTest), so that bodies the merchant
// client would never build reach the simulator; it returns the status and the decoded answer.
func (h *harness) signedPost(t *testing.T, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(body))
	signForTest(req, []byte(body), restMerchant, restKeyID, restSecret, h.clock.Now())
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST %s: %d %s is not JSON", path, resp.StatusCode, raw)
	}
	if resp.Header.Get("Content-Type") != "application/hal+json" || resp.Header.Get(correlationHeader) == "" {
		t.Errorf("POST %s: headers %v", path, resp.Header)
	}
	return resp.StatusCode, out
}

func TestRefundKnobs(t *testing.T) {
	h := restHarness(t)
	txn := h.sim.AddSale("EDX-100001", decimal.RequireFromString("99.00"), "USD")
	c := h.restClient(restSecret, restKeyID, nil)
	ctx := context.Background()

	h.sim.SetFailRefundNext(1)
	if _, err := c.RefundPayment(ctx, restRefund(txn, "refund-1", "10.00")); status(t, err) != http.StatusBadGateway || len(h.sim.Refunds()) != 0 {
		t.Fatalf("FailRefundNext: %v", err)
	}
	h.sim.SetRefuseRefundNext(1)
	_, err := c.RefundPayment(ctx, restRefund(txn, "refund-1", "10.00"))
	var re *payment.RESTError
	if !errors.As(err, &re) || re.Status != 400 || re.Reason != "ACCOUNT_NOT_ALLOWED_CREDIT" || len(h.sim.Refunds()) != 0 {
		t.Fatalf("RefuseRefundNext: %v", err)
	}
	h.sim.SetLoseRefundAnswerNext(1)
	if _, err := c.RefundPayment(ctx, restRefund(txn, "refund-1", "10.00")); status(t, err) != http.StatusBadGateway || len(h.sim.Refunds()) != 1 {
		t.Fatalf("LoseRefundAnswerNext: %v, refunds %+v", err, h.sim.Refunds())
	}
	h.sim.SetRefuseRefundNext(1) // a replay is not a new refund: the knob waits
	r, err := c.RefundPayment(ctx, restRefund(txn, "refund-1", "10.00"))
	if err != nil || r.ID != h.sim.Refunds()[0].ID || h.sim.Knobs().RefuseRefundNext != 1 {
		t.Fatalf("replay: %+v, %v, knobs %+v", r, err, h.sim.Knobs())
	}
	// Knobs over HTTP.
	resp, err := http.Post(h.srv.URL+"/__sim/knobs", "application/json",
		strings.NewReader(`{"fail_refund_next":2,"refuse_refund_next":0,"lose_refund_answer_next":1,"duplicate_refund_error":true}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST knobs: %v %v", resp, err)
	}
	resp.Body.Close()
	if k := h.sim.Knobs(); k != (Knobs{FailRefundNext: 2, LoseRefundAnswerNext: 1, DuplicateRefundError: true}) {
		t.Fatalf("knobs = %+v", k)
	}
	// GET /__sim/refunds shows the refunds and payments.
	resp, err = http.Get(h.srv.URL + "/__sim/refunds")
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Refunds      []Refund      `json:"refunds"`
		Transactions []Transaction `json:"transactions"`
	}
	err = json.NewDecoder(resp.Body).Decode(&state)
	resp.Body.Close()
	if err != nil || len(state.Refunds) != 1 || state.Refunds[0].PaymentID != txn || state.Refunds[0].IdempotencyKey != "refund-1" ||
		len(state.Transactions) != 1 || state.Transactions[0].Refunded != "10.00" {
		t.Fatalf("GET /__sim/refunds: %+v, %v", state, err)
	}
	h.sim.Reset()
	if len(h.sim.Refunds()) != 0 || len(h.sim.Transactions()) != 0 || h.sim.Knobs() != (Knobs{}) {
		t.Fatalf("Reset kept refunds, payments or knobs")
	}
}

func TestAcceptedPaymentsCanBeRefunded(t *testing.T) {
	h := restHarness(t)
	h.sim.SetPartialAuthNext(1)
	partial := h.pay(t, form(t, profileA, "uuid-partial"), ActionPay).Reply
	full := h.pay(t, form(t, profileA, "uuid-full"), ActionPay).Reply
	h.pay(t, form(t, profileA, "uuid-decline"), ActionDecline)
	h.sim.SetReviewNext(1)
	h.pay(t, form(t, profileA, "uuid-review"), ActionPay)
	tx := h.sim.Transactions()
	if len(tx) != 2 || tx[0].ID != partial["transaction_id"] || tx[0].Amount != "49.50" || tx[1].ID != full["transaction_id"] ||
		tx[1].Amount != "99.00" || tx[1].OrderNumber != "EDX-100001" || tx[1].Currency != "USD" || !tx[1].Captured {
		t.Fatalf("transactions %+v", tx)
	}
}

// bodyDigestForTest is the Digest header of body.
func bodyDigestForTest(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// signForTest sets HTTP Signature headers on req for body, dated at.
func signForTest(req *http.Request, body []byte, merchantID, keyID, secret string, at time.Time) {
	date := at.UTC().Format(http.TimeFormat)
	digest := bodyDigestForTest(body)
	signing := "host: " + req.URL.Host + "\ndate: " + date + "\n(request-target): post " + req.URL.RequestURI() +
		"\ndigest: " + digest + "\nv-c-merchant-id: " + merchantID
	key, _ := base64.StdEncoding.DecodeString(secret)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("v-c-merchant-id", merchantID)
	req.Header.Set("Date", date)
	req.Header.Set("Digest", digest)
	req.Header.Set("Signature", `keyid="`+keyID+`", algorithm="HmacSHA256", headers="host date (request-target) digest v-c-merchant-id", signature="`+
		base64.StdEncoding.EncodeToString(mac.Sum(nil))+`"`)
}
