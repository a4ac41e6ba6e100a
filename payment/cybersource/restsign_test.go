package cybersource

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// The REST signature vector, computed outside Go with coreutils and OpenSSL:
//
//	BODY='{"clientReferenceInformation":{"code":"EDX-100042","transactionId":"refund-42"},"orderInformation":{"amountDetails":{"totalAmount":"49.00","currency":"USD"}}}'
//	printf '%s' "$BODY" > body.json
//	DIGEST="SHA-256=$(openssl dgst -sha256 -binary body.json | base64)"
//	# SHA-256=7qJjfgqg+C8uJDI+1cLD2aSGjPfre8fcSRBoICSKzpo=
//	printf 'host: apitest.cybersource.com\ndate: Thu, 05 Mar 2026 12:00:00 GMT\n(request-target): post /pts/v2/payments/6015729214586539504002/refunds\ndigest: %s\nv-c-merchant-id: coursecommerce_test' "$DIGEST" > sigstr.txt
//	KEY=$(printf '%s' "$SECRET" | base64 -d | xxd -p -c 256)   # the secret is base64-decoded first
//	openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY -binary sigstr.txt | base64
//	# Sp8CsOa/JHGkwu6XQjMZpthDiKytj4CyGhrzI9H/ebs=
//
// (Python's hmac.new(b"0123456789abcdef0123456789abcdef", sigstr, sha256) gives the same.)
const (
	vectorRESTSecret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // base64("0123456789abcdef0123456789abcdef")
	vectorKeyID      = "0f3a9c3e-8d1b-4c5e-9a70-2b6f1d4e8c11"
	vectorMerchant   = "coursecommerce_test"
	vectorBody       = `{"clientReferenceInformation":{"code":"EDX-100042","transactionId":"refund-42"},"orderInformation":{"amountDetails":{"totalAmount":"49.00","currency":"USD"}}}`
	vectorDigest     = "SHA-256=7qJjfgqg+C8uJDI+1cLD2aSGjPfre8fcSRBoICSKzpo="
	vectorSignature  = `keyid="0f3a9c3e-8d1b-4c5e-9a70-2b6f1d4e8c11", algorithm="HmacSHA256", headers="host date (request-target) digest v-c-merchant-id", signature="Sp8CsOa/JHGkwu6XQjMZpthDiKytj4CyGhrzI9H/ebs="`
)

// captureTransport answers every request with a fixed answer and keeps the last request and
// its body.
type captureTransport struct {
	status int
	answer string
	req    *http.Request
	body   []byte
}

func (c *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.req = r
	if r.Body != nil {
		c.body, _ = io.ReadAll(r.Body)
	}
	h := http.Header{}
	h.Set(HeaderCorrelationID, "corr-1")
	return &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(strings.NewReader(c.answer)), Request: r}, nil
}

func vectorClient(tr http.RoundTripper) *RESTClient {
	c := NewRESTClient(RESTConfig{BaseURL: "https://apitest.cybersource.com", MerchantID: vectorMerchant, KeyID: vectorKeyID,
		SharedSecret: vectorRESTSecret, HTTPClient: &http.Client{Transport: tr}})
	c.now = func() time.Time { return time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC) }
	return c
}

func vectorRefund() RefundRequest {
	return RefundRequest{TransactionID: "6015729214586539504002", OrderNumber: "EDX-100042", IdempotencyKey: "refund-42",
		Amount: decimal.RequireFromString("49"), Currency: "usd"}
}

func TestRESTSignatureVector(t *testing.T) {
	tr := &captureTransport{status: http.StatusCreated, answer: `{"id":"6015729999999999999999","status":"PENDING","refundAmountDetails":{"refundAmount":"49.00","currency":"USD"}}`}
	r, err := vectorClient(tr).RefundPayment(context.Background(), vectorRefund())
	if err != nil {
		t.Fatalf("RefundPayment: %v", err)
	}
	if r.ID != "6015729999999999999999" || r.Status != RefundPending || r.Amount.StringFixed(2) != "49.00" || r.Currency != "USD" || r.CorrelationID != "corr-1" {
		t.Errorf("refund = %+v", r)
	}
	req := tr.req
	if req.Method != http.MethodPost || req.URL.String() != "https://apitest.cybersource.com/pts/v2/payments/6015729214586539504002/refunds" {
		t.Fatalf("request %s %s", req.Method, req.URL)
	}
	if string(tr.body) != vectorBody {
		t.Errorf("body:\n%s\nwant:\n%s", tr.body, vectorBody)
	}
	for name, want := range map[string]string{
		"Digest": vectorDigest, "Signature": vectorSignature, "Date": "Thu, 05 Mar 2026 12:00:00 GMT",
		"v-c-merchant-id": vectorMerchant, "Content-Type": "application/json;charset=utf-8",
	} {
		if got := req.Header.Get(name); got != want {
			t.Errorf("%s header:\n%s\nwant:\n%s", name, got, want)
		}
	}
	if req.Host != "apitest.cybersource.com" {
		t.Errorf("Host = %q", req.Host)
	}
}

func TestRESTSigningStringLayout(t *testing.T) {
	s := restSignature{host: "h", date: "d", method: "POST", target: "/p?q=1", digest: "SHA-256=x", merchantID: "m"}
	want := "host: h\ndate: d\n(request-target): post /p?q=1\ndigest: SHA-256=x\nv-c-merchant-id: m"
	if got := s.signingString(); got != want {
		t.Fatalf("signing string:\n%q\nwant:\n%q", got, want)
	}
	// Every signed value changes the signature.
	secret := []byte("k")
	base := s.header("id", secret)
	for _, change := range []func(*restSignature){
		func(s *restSignature) { s.host = "h2" }, func(s *restSignature) { s.date = "d2" },
		func(s *restSignature) { s.method = "GET" }, func(s *restSignature) { s.target = "/p?q=2" },
		func(s *restSignature) { s.digest = "SHA-256=y" }, func(s *restSignature) { s.merchantID = "m2" },
	} {
		c := s
		change(&c)
		if c.header("id", secret) == base {
			t.Errorf("%+v signs like %+v", c, s)
		}
	}
}

func TestRESTClientRefusesBadConfigurationAndRequests(t *testing.T) {
	tr := &captureTransport{status: http.StatusCreated, answer: `{"id":"1","status":"PENDING"}`}
	configs := map[string]func(*RESTConfig){
		"no base URL":          func(c *RESTConfig) { c.BaseURL = "" },
		"relative base URL":    func(c *RESTConfig) { c.BaseURL = "apitest.cybersource.com" },
		"no merchant id":       func(c *RESTConfig) { c.MerchantID = "" },
		"no key id":            func(c *RESTConfig) { c.KeyID = "" },
		"secret is not base64": func(c *RESTConfig) { c.SharedSecret = "not base64!" },
		"no shared secret":     func(c *RESTConfig) { c.SharedSecret = "" },
		"blank shared secret":  func(c *RESTConfig) { c.SharedSecret = "   " },
	}
	for name, change := range configs {
		cfg := RESTConfig{BaseURL: "https://apitest.cybersource.com", MerchantID: vectorMerchant, KeyID: vectorKeyID,
			SharedSecret: vectorRESTSecret, HTTPClient: &http.Client{Transport: tr}}
		change(&cfg)
		_, err := NewRESTClient(cfg).RefundPayment(context.Background(), vectorRefund())
		if !errors.Is(err, ErrNotConfigured) || IsRESTRetryable(err) {
			t.Errorf("%s: err = %v", name, err)
		}
		if strings.Contains(err.Error(), vectorRESTSecret) {
			t.Errorf("%s: the error shows the secret", name)
		}
	}
	requests := map[string]func(*RefundRequest){
		"no transaction id": func(r *RefundRequest) { r.TransactionID = "" },
		"no order number":   func(r *RefundRequest) { r.OrderNumber = "" },
		"long order number": func(r *RefundRequest) { r.OrderNumber = strings.Repeat("X", 51) },
		"zero amount":       func(r *RefundRequest) { r.Amount = decimal.Zero },
		"negative amount":   func(r *RefundRequest) { r.Amount = decimal.RequireFromString("-1") },
		"three decimals":    func(r *RefundRequest) { r.Amount = decimal.RequireFromString("1.005") },
		"bad currency":      func(r *RefundRequest) { r.Currency = "US" },
	}
	for name, change := range requests {
		r := vectorRefund()
		change(&r)
		if _, err := vectorClient(tr).RefundPayment(context.Background(), r); !errors.Is(err, ErrInvalidRequest) || IsRESTRetryable(err) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if tr.req != nil {
		t.Fatalf("a request was sent: %s %s", tr.req.Method, tr.req.URL)
	}
}

func TestRESTAnswers(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		answer    string
		retryable bool
		duplicate bool
		malformed bool
		reason    string
	}{
		{"duplicate", 400, `{"status":"INVALID_REQUEST","reason":"DUPLICATE_REQUEST","message":"Declined - duplicate"}`, false, true, false, "DUPLICATE_REQUEST"},
		{"invalid amount", 400, `{"status":"INVALID_REQUEST","reason":"INVALID_AMOUNT","message":"Declined","details":[{"field":"orderInformation.amountDetails.totalAmount","reason":"INVALID_AMOUNT"}]}`, false, false, false, "INVALID_AMOUNT"},
		{"not found", 404, `{"status":"NOT_FOUND","message":"The requested resource does not exist"}`, false, false, false, ""},
		{"authentication failed", 401, `{"response":{"rmsg":"Authentication Failed"}}`, false, false, false, ""},
		{"server error", 502, `{"status":"SERVER_ERROR","reason":"SYSTEM_ERROR"}`, true, false, false, "SYSTEM_ERROR"},
		{"too many requests", 429, `rate limited`, true, false, false, ""},
		{"2xx not JSON", 201, `<html>`, true, false, true, ""},
		{"2xx without id", 201, `{"status":"PENDING"}`, true, false, true, ""},
		{"2xx with a bad amount", 201, `{"id":"1","status":"PENDING","refundAmountDetails":{"refundAmount":"4,90"}}`, true, false, true, ""},
	}
	for _, tt := range tests {
		tr := &captureTransport{status: tt.status, answer: tt.answer}
		_, err := vectorClient(tr).RefundPayment(context.Background(), vectorRefund())
		if err == nil || IsRESTRetryable(err) != tt.retryable || IsDuplicateRequest(err) != tt.duplicate || errors.Is(err, ErrMalformedResponse) != tt.malformed {
			t.Errorf("%s: err = %v (retryable %v, duplicate %v)", tt.name, err, IsRESTRetryable(err), IsDuplicateRequest(err))
			continue
		}
		var re *RESTError
		if !tt.malformed && (!errors.As(err, &re) || re.Status != tt.status || re.Reason != tt.reason || re.CorrelationID != "corr-1") {
			t.Errorf("%s: RESTError = %#v", tt.name, re)
		}
	}
	// A body larger than MaxRESTResponseBytes is malformed, whatever its status.
	big := &captureTransport{status: 201, answer: `{"id":"1","status":"PENDING","x":"` + strings.Repeat("a", MaxRESTResponseBytes) + `"}`}
	if _, err := vectorClient(big).RefundPayment(context.Background(), vectorRefund()); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("oversized answer: err = %v", err)
	}
	if !bytes.Equal([]byte(bodyDigest(nil)), []byte("SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")) {
		t.Errorf("digest of nothing = %s", bodyDigest(nil))
	}
}
