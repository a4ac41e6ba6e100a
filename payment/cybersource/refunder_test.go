package cybersource_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/coursecommerce/commerce/payment"
	"github.com/coursecommerce/commerce/payment/cybersource"
	sim "github.com/coursecommerce/commerce/simulators/cybersource"
)

const (
	testMerchant = "coursecommerce_test"
	testKeyID    = "5c1d7d1e-3f0a-4c55-9b1e-7a2f0c9d4e01"
	// testSecret is the shared secret as the Business Center shows it (base64); testSecretRaw
	// is what it decodes to, the HMAC key.
	testSecret    = "c2hhcmVkLXNlY3JldC1mb3ItcmVmdW5kLXRlc3RzIQ=="
	testSecretRaw = "shared-secret-for-refund-tests!"
)

var testProfile = cybersource.Profile{ProfileID: "00000000-0000-0000-0000-000000000001", AccessKey: "access-1", SecretKey: "sa-secret-1"}

// harness is the CyberSource simulator served over HTTP and a REST client recording its
// exchanges.
type harness struct {
	sim    *sim.Simulator
	srv    *httptest.Server
	client *cybersource.RESTClient

	mu        sync.Mutex
	exchanges []cybersource.Exchange
	// recordFails makes the next recordings fail (the database is down).
	recordFails int
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{sim: sim.New(sim.Config{
		Profiles: []cybersource.Profile{testProfile},
		RESTKeys: []sim.RESTKey{{MerchantID: testMerchant, KeyID: testKeyID, SharedSecret: testSecret}},
	})}
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	h.client = h.newClient(testSecret)
	return h
}

// newClient returns a REST client for the simulator signing with secret.
func (h *harness) newClient(secret string) *cybersource.RESTClient {
	return cybersource.NewRESTClient(cybersource.RESTConfig{BaseURL: h.srv.URL, MerchantID: testMerchant, KeyID: testKeyID,
		SharedSecret: secret, HTTPClient: h.srv.Client(), Timeout: 10 * time.Second, Record: h.record})
}

func (h *harness) record(e cybersource.Exchange) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.exchanges = append(h.exchanges, e)
	if h.recordFails > 0 {
		h.recordFails--
		return errors.New("database down")
	}
	return nil
}

func (h *harness) recorded() []cybersource.Exchange {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]cybersource.Exchange(nil), h.exchanges...)
}

func (h *harness) refunder() cybersource.Refunder { return cybersource.Refunder{Client: h.client} }

// sale pays orderNumber's amount through the simulator's hosted page and returns the
// transaction id of the accepted reply.
func (h *harness) sale(t *testing.T, orderNumber, amount string) string {
	t.Helper()
	cfg := cybersource.Config{Profile: testProfile, PaymentPageURL: h.srv.URL + "/pay"}
	form, err := cfg.PaymentFormData(cybersource.PaymentRequest{
		OrderNumber: orderNumber, Amount: decimal.RequireFromString(amount), Currency: "USD",
		ReceiptURL: "https://shop.example/payment/cybersource/redirect/", CancelURL: "https://shop.example/payment/cybersource/redirect/",
		TransactionUUID: "uuid-" + orderNumber, SignedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatalf("PaymentFormData: %v", err)
	}
	res, err := h.sim.Pay(context.Background(), form, sim.ActionPay)
	if err != nil {
		t.Fatalf("Pay: %v", err)
	}
	reply, err := cfg.ParseReply(res.Reply)
	if err != nil || reply.Outcome != cybersource.OutcomeAccepted {
		t.Fatalf("reply %+v, %v", reply, err)
	}
	return reply.TransactionID
}

func refundOf(txn, key, amount string) payment.RefundRequest {
	return payment.RefundRequest{OrderNumber: "EDX-100042", Reference: txn, Amount: decimal.RequireFromString(amount),
		Currency: "USD", IdempotencyKey: key}
}

func TestRefundASecureAcceptanceSale(t *testing.T) {
	h := newHarness(t)
	txn := h.sale(t, "EDX-100042", "89.20")
	res, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-42", "89.20"))
	if err != nil {
		t.Fatalf("Refund: %v", err)
	}
	refunds := h.sim.Refunds()
	if len(refunds) != 1 || res.ID != refunds[0].ID || !res.Pending || res.AlreadyRefunded {
		t.Fatalf("result %+v, refunds %+v", res, refunds)
	}
	r := refunds[0]
	if r.PaymentID != txn || r.Amount != "89.20" || r.Currency != "USD" || r.OrderNumber != "EDX-100042" ||
		r.IdempotencyKey != "refund-42" || r.MerchantID != testMerchant {
		t.Fatalf("refund %+v", r)
	}
	if tx := h.sim.Transactions(); len(tx) != 1 || tx[0].Refunded != "89.20" {
		t.Fatalf("transactions %+v", tx)
	}
}

func TestRefundRetriedAfterALostAnswer(t *testing.T) {
	for _, duplicateError := range []bool{false, true} {
		t.Run(fmt.Sprintf("duplicate error %v", duplicateError), func(t *testing.T) {
			h := newHarness(t)
			txn := h.sim.AddSale("EDX-100042", decimal.RequireFromString("49.00"), "USD")
			h.sim.SetLoseRefundAnswerNext(1)
			h.sim.SetDuplicateRefundError(duplicateError)
			_, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-1", "49.00"))
			if err == nil || errors.Is(err, payment.ErrRefundRefused) || !cybersource.IsRESTRetryable(err) {
				t.Fatalf("lost answer: err = %v, want a plain retryable error", err)
			}
			res, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-1", "49.00"))
			refunds := h.sim.Refunds()
			if err != nil || len(refunds) != 1 {
				t.Fatalf("retry: %+v, %v; refunds %+v", res, err, refunds)
			}
			if duplicateError && (!res.AlreadyRefunded || res.ID != "") {
				t.Fatalf("retry = %+v, want AlreadyRefunded", res)
			}
			if !duplicateError && (res.AlreadyRefunded || res.ID != refunds[0].ID || !res.Pending) {
				t.Fatalf("retry = %+v, want the first refund %s again", res, refunds[0].ID)
			}
		})
	}
}

func TestRefundRefusedByTheProcessor(t *testing.T) {
	h := newHarness(t)
	txn := h.sim.AddSale("EDX-100042", decimal.RequireFromString("49.00"), "USD")
	h.sim.SetRefuseRefundNext(1)
	_, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-1", "49.00"))
	var re *cybersource.RESTError
	if !errors.Is(err, payment.ErrRefundRefused) || !errors.As(err, &re) || re.Status != 400 || re.Reason != "ACCOUNT_NOT_ALLOWED_CREDIT" {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if n := len(h.sim.Refunds()); n != 0 {
		t.Fatalf("%d refunds after a refusal", n)
	}
	// A refusal stores nothing: ops may try the same refund again.
	if res, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-1", "49.00")); err != nil || res.ID == "" {
		t.Fatalf("after the refusal: %+v, %v", res, err)
	}
}

func TestRefundTransientFailuresThenSuccess(t *testing.T) {
	h := newHarness(t)
	txn := h.sim.AddSale("EDX-100042", decimal.RequireFromString("49.00"), "USD")
	h.sim.SetFailRefundNext(2)
	for i := range 2 {
		_, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-1", "49.00"))
		var re *cybersource.RESTError
		if err == nil || errors.Is(err, payment.ErrRefundRefused) || !errors.As(err, &re) || re.Status != http.StatusBadGateway {
			t.Fatalf("attempt %d: err = %v, want a plain 502 error", i+1, err)
		}
	}
	res, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-1", "49.00"))
	if err != nil || res.ID == "" || len(h.sim.Refunds()) != 1 {
		t.Fatalf("third attempt: %+v, %v; refunds %+v", res, err, h.sim.Refunds())
	}
}

func TestRefundAboveWhatIsLeftIsRefused(t *testing.T) {
	h := newHarness(t)
	txn := h.sale(t, "EDX-100042", "89.20")
	f := h.refunder()
	ctx := context.Background()
	if _, err := f.Refund(ctx, refundOf(txn, "refund-a", "50.00")); err != nil {
		t.Fatalf("first part: %v", err)
	}
	_, err := f.Refund(ctx, refundOf(txn, "refund-b", "39.21"))
	var re *cybersource.RESTError
	if !errors.Is(err, payment.ErrRefundRefused) || !errors.As(err, &re) || re.Reason != "INVALID_AMOUNT" {
		t.Fatalf("above what is left: err = %v", err)
	}
	if _, err := f.Refund(ctx, refundOf(txn, "refund-c", "39.20")); err != nil {
		t.Fatalf("the rest: %v", err)
	}
	if tx := h.sim.Transactions(); tx[0].Refunded != "89.20" || len(h.sim.Refunds()) != 2 {
		t.Fatalf("transactions %+v, refunds %+v", tx, h.sim.Refunds())
	}
	_, err = f.Refund(ctx, refundOf(txn, "refund-d", "0.01"))
	if !errors.Is(err, payment.ErrRefundRefused) {
		t.Fatalf("refund of a refunded payment: err = %v", err)
	}
}

func TestRefundOfAnUnknownPaymentIsRefused(t *testing.T) {
	h := newHarness(t)
	_, err := h.refunder().Refund(context.Background(), refundOf("6015729214586539504002", "refund-1", "1.00"))
	var re *cybersource.RESTError
	if !errors.Is(err, payment.ErrRefundRefused) || !errors.As(err, &re) || re.Status != http.StatusNotFound {
		t.Fatalf("err = %v", err)
	}
}

func TestRefundWithWrongCredentialsIsRefused(t *testing.T) {
	h := newHarness(t)
	txn := h.sim.AddSale("EDX-100042", decimal.RequireFromString("49.00"), "USD")
	wrong := base64.StdEncoding.EncodeToString([]byte("another-secret"))
	_, err := cybersource.Refunder{Client: h.newClient(wrong)}.Refund(context.Background(), refundOf(txn, "refund-1", "49.00"))
	var re *cybersource.RESTError
	if !errors.Is(err, payment.ErrRefundRefused) || !errors.As(err, &re) || re.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401 refusal", err)
	}
	if n := len(h.sim.Refunds()); n != 0 {
		t.Fatalf("%d refunds with a wrong secret", n)
	}
}

func TestRefunderRefusesInvalidRequests(t *testing.T) {
	h := newHarness(t)
	txn := h.sim.AddSale("EDX-100042", decimal.RequireFromString("49.00"), "USD")
	for name, r := range map[string]payment.RefundRequest{
		"no key":         refundOf(txn, "", "1.00"),
		"no reference":   refundOf("", "refund-1", "1.00"),
		"zero amount":    refundOf(txn, "refund-1", "0"),
		"three decimals": refundOf(txn, "refund-1", "1.001"),
	} {
		if _, err := h.refunder().Refund(context.Background(), r); !errors.Is(err, payment.ErrRefundRefused) || !errors.Is(err, cybersource.ErrInvalidRequest) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := (cybersource.Refunder{}).Refund(context.Background(), refundOf(txn, "refund-1", "1.00")); !errors.Is(err, payment.ErrRefundRefused) {
		t.Errorf("no client: err = %v", err)
	}
	if n := len(h.recorded()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestRefundWithNoAnswerIsTransient(t *testing.T) {
	h := newHarness(t)
	txn := h.sim.AddSale("EDX-100042", decimal.RequireFromString("49.00"), "USD")
	h.srv.Close()
	_, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-1", "49.00"))
	if !errors.Is(err, cybersource.ErrNoAnswer) || errors.Is(err, payment.ErrRefundRefused) || !cybersource.IsRESTRetryable(err) {
		t.Fatalf("err = %v", err)
	}
	ex := h.recorded()
	if len(ex) != 1 || ex[0].Status != 0 || ex[0].Err == "" || ex[0].ProcessorResponse().Authentic != nil {
		t.Fatalf("exchanges %+v", ex)
	}
}

func TestRefundWhoseAnswerIsNotRecordedIsRetried(t *testing.T) {
	h := newHarness(t)
	txn := h.sim.AddSale("EDX-100042", decimal.RequireFromString("49.00"), "USD")
	h.mu.Lock()
	h.recordFails = 1
	h.mu.Unlock()
	_, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-1", "49.00"))
	if !errors.Is(err, cybersource.ErrNotRecorded) || errors.Is(err, payment.ErrRefundRefused) {
		t.Fatalf("err = %v, want ErrNotRecorded", err)
	}
	res, err := h.refunder().Refund(context.Background(), refundOf(txn, "refund-1", "49.00"))
	refunds := h.sim.Refunds()
	if err != nil || len(refunds) != 1 || res.ID != refunds[0].ID {
		t.Fatalf("retry: %+v, %v; refunds %+v", res, err, refunds)
	}
}

func TestRecorderSeesEveryExchangeButNoSecret(t *testing.T) {
	h := newHarness(t)
	txn := h.sim.AddSale("EDX-100042", decimal.RequireFromString("49.00"), "USD")
	f := h.refunder()
	ctx := context.Background()
	h.sim.SetFailRefundNext(1)
	_, _ = f.Refund(ctx, refundOf(txn, "refund-1", "10.00")) // 502
	h.sim.SetLoseRefundAnswerNext(1)
	_, _ = f.Refund(ctx, refundOf(txn, "refund-1", "10.00")) // made, 502
	res, err := f.Refund(ctx, refundOf(txn, "refund-1", "10.00"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Refund(ctx, refundOf(txn, "refund-2", "40.00")) // 400 INVALID_AMOUNT

	ex := h.recorded()
	var got []string
	for _, e := range ex {
		got = append(got, fmt.Sprintf("%s %d %s %s %s", e.Kind, e.Status, e.Method, e.Path, e.IdempotencyKey))
	}
	path := "/pts/v2/payments/" + txn + "/refunds"
	want := []string{
		"refund 502 POST " + path + " refund-1",
		"refund 502 POST " + path + " refund-1",
		"refund 201 POST " + path + " refund-1",
		"refund 400 POST " + path + " refund-2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("exchanges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, e := range ex {
		if e.OrderNumber != "EDX-100042" || e.PaymentID != txn || e.CorrelationID == "" || len(e.ResponseBody) == 0 ||
			!strings.Contains(string(e.RequestBody), `"transactionId":"`+e.IdempotencyKey+`"`) || e.Started.IsZero() {
			t.Errorf("exchange %d = %+v", i, e)
		}
	}
	ok := ex[2]
	if ok.RefundID != res.ID || ok.TransactionID() != res.ID || ex[3].RefundID != "" || ex[3].TransactionID() != txn {
		t.Errorf("ids: %+v / %+v", ok, ex[3])
	}
	row := ok.ProcessorResponse()
	if row.Processor != "cybersource" || row.Kind != cybersource.KindRefund || row.TransactionID != res.ID || row.OrderNumber != "EDX-100042" ||
		row.Authentic == nil || !*row.Authentic || row.Body["status"] != "201" || row.Body["request"] != string(ok.RequestBody) ||
		row.Body["idempotency_key"] != "refund-1" || row.Body["payment_id"] != txn || row.Body["refund_id"] != res.ID {
		t.Errorf("processor response = %+v", row)
	}

	secrets := []string{testSecret, testSecretRaw, "signature=", "keyid="}
	for i, e := range ex {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw) + fmt.Sprintf("%+v %#v %v", e, e, e.ProcessorResponse())
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Fatalf("exchange %d holds %q: %s", i, s, text)
			}
		}
	}
}

func TestRESTConfigMasksTheSecret(t *testing.T) {
	cfg := cybersource.RESTConfig{BaseURL: "https://apitest.cybersource.com", MerchantID: testMerchant, KeyID: testKeyID, SharedSecret: testSecret}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cybersource", cfg)
	for _, text := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logged.String()} {
		if strings.Contains(text, testSecret) || !strings.Contains(text, testKeyID) || !strings.Contains(text, "[masked]") {
			t.Errorf("config shows as %s", text)
		}
	}
}
