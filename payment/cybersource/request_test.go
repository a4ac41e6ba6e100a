package cybersource

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func testConfig() Config {
	return Config{
		Profile: Profile{
			ProfileID: "00000000-0000-0000-0000-000000000001",
			AccessKey: "access-key-1",
			SecretKey: vectorSecret,
		},
		PaymentPageURL: "https://testsecureacceptance.cybersource.com/pay",
	}
}

func testRequest() PaymentRequest {
	return PaymentRequest{
		OrderNumber: "EDX-100001",
		Amount:      decimal.RequireFromString("99"),
		Currency:    "usd",
		Username:    "honor",
		Lines: []LineItem{{
			SKU: "8CF08E5", Name: "Demo course seat", Code: "seat", Quantity: 1,
			UnitPrice: decimal.RequireFromString("109"), Discount: decimal.RequireFromString("10"),
			Total: decimal.RequireFromString("99"),
		}},
		ReceiptURL:      "http://localhost:8130/payment/cybersource/redirect/",
		CancelURL:       "http://localhost:8130/payment/cybersource/cancel/",
		TransactionUUID: "0123456789abcdef0123456789abcdef",
		SignedAt:        time.Date(2020, 10, 1, 19, 22, 2, 0, time.FixedZone("CEST", 2*3600)),
	}
}

func TestPaymentFormDataFields(t *testing.T) {
	form, err := testConfig().PaymentFormData(testRequest())
	if err != nil {
		t.Fatalf("PaymentFormData: %v", err)
	}
	want := map[string]string{
		"access_key":                   "access-key-1",
		"profile_id":                   "00000000-0000-0000-0000-000000000001",
		"transaction_uuid":             "0123456789abcdef0123456789abcdef",
		"unsigned_field_names":         "",
		"signed_date_time":             "2020-10-01T17:22:02Z",
		"locale":                       "en-us",
		"transaction_type":             "sale",
		"reference_number":             "EDX-100001",
		"amount":                       "99.00",
		"currency":                     "USD",
		"override_custom_receipt_page": "http://localhost:8130/payment/cybersource/redirect/",
		"override_custom_cancel_page":  "http://localhost:8130/payment/cybersource/cancel/",
		"consumer_id":                  "honor",
		"line_item_count":              "1",
		"item_0_name":                  "Demo course seat",
		"item_0_sku":                   "8CF08E5",
		"item_0_code":                  "seat",
		"item_0_quantity":              "1",
		"item_0_unit_price":            "109.00",
		"item_0_discount_amount":       "10.00",
		"item_0_total_amount":          "99.00",
		"item_0_tax_amount":            "0.00",
		"item_0_tax_rate":              "0",
		"item_0_gross_net_indicator":   "Y",
		"item_0_unit_of_measure":       "ITM",
	}
	for k, v := range want {
		if got, ok := form[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	// Exactly these fields plus signed_field_names and signature.
	if len(form) != len(want)+2 {
		t.Errorf("form has %d fields, want %d: %v", len(form), len(want)+2, slices.Sorted(maps.Keys(form)))
	}
	names := strings.Split(form["signed_field_names"], ",")
	if !slices.IsSorted(names) {
		t.Errorf("signed_field_names not sorted: %v", names)
	}
	if !slices.Contains(names, "signed_field_names") || slices.Contains(names, "signature") {
		t.Errorf("signed_field_names must list itself and not the signature: %v", names)
	}
	for k := range form {
		if k != "signature" && !slices.Contains(names, k) {
			t.Errorf("field %s is not signed", k)
		}
		if strings.HasSuffix(k, " ") {
			t.Errorf("field %q has a trailing space", k)
		}
	}
}

func TestPaymentFormDataRoundTrip(t *testing.T) {
	cfg := testConfig()
	cfg.Locale = "fr-fr"
	form, err := cfg.PaymentFormData(testRequest())
	if err != nil {
		t.Fatalf("PaymentFormData: %v", err)
	}
	if form["locale"] != "fr-fr" {
		t.Errorf("locale = %q, want fr-fr", form["locale"])
	}
	if got := SignFields(form, cfg.Profile.SecretKey); got != form["signature"] {
		t.Fatalf("signature %q does not verify (recomputed %q)", form["signature"], got)
	}
	if SignFields(form, "other secret") == form["signature"] {
		t.Fatal("signature verifies with the wrong secret")
	}
}

func TestPaymentFormDataDeterministic(t *testing.T) {
	cfg := testConfig()
	a, errA := cfg.PaymentFormData(testRequest())
	b, errB := cfg.PaymentFormData(testRequest())
	if errA != nil || errB != nil {
		t.Fatalf("PaymentFormData: %v, %v", errA, errB)
	}
	if !maps.Equal(a, b) {
		t.Fatalf("two calls differ:\n%v\n%v", a, b)
	}
}

func TestPaymentFormDataOptionalFields(t *testing.T) {
	req := testRequest()
	req.Username = ""
	req.Lines = nil
	req.Extra = map[string]string{"merchant_defined_data1": "program,abc"}
	form, err := testConfig().PaymentFormData(req)
	if err != nil {
		t.Fatalf("PaymentFormData: %v", err)
	}
	for _, absent := range []string{"consumer_id", "line_item_count", "item_0_name"} {
		if _, ok := form[absent]; ok {
			t.Errorf("%s present without a username/lines", absent)
		}
	}
	if form["merchant_defined_data1"] != "program,abc" ||
		!slices.Contains(SignedNames(form["signed_field_names"]), "merchant_defined_data1") {
		t.Errorf("extra field not set and signed: %v", form)
	}
}

func TestPaymentFormDataDefaultLineCode(t *testing.T) {
	req := testRequest()
	req.Lines[0].Code = ""
	form, err := testConfig().PaymentFormData(req)
	if err != nil {
		t.Fatalf("PaymentFormData: %v", err)
	}
	if form["item_0_code"] != DefaultLineItemCode {
		t.Fatalf("item_0_code = %q, want %q", form["item_0_code"], DefaultLineItemCode)
	}
}

func TestPaymentFormDataPCIGuard(t *testing.T) {
	for _, card := range CardFields {
		t.Run(card, func(t *testing.T) {
			req := testRequest()
			req.Extra = map[string]string{card: "4111111111111111"}
			form, err := testConfig().PaymentFormData(req)
			if !errors.Is(err, ErrPCIViolation) {
				t.Fatalf("err = %v, want ErrPCIViolation", err)
			}
			if form != nil {
				t.Fatalf("form returned despite PCI violation: %v", form)
			}
		})
	}
}

func TestPaymentFormDataInvalid(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*Config)
		mutate func(*PaymentRequest)
	}{
		{"empty order number", nil, func(r *PaymentRequest) { r.OrderNumber = "  " }},
		{"currency too long", nil, func(r *PaymentRequest) { r.Currency = "USDX" }},
		{"currency not letters", nil, func(r *PaymentRequest) { r.Currency = "U1D" }},
		{"currency empty", nil, func(r *PaymentRequest) { r.Currency = "" }},
		{"negative amount", nil, func(r *PaymentRequest) { r.Amount = decimal.RequireFromString("-0.01") }},
		{"three decimals", nil, func(r *PaymentRequest) { r.Amount = decimal.RequireFromString("1.005") }},
		{"no transaction uuid", nil, func(r *PaymentRequest) { r.TransactionUUID = "" }},
		{"zero signing time", nil, func(r *PaymentRequest) { r.SignedAt = time.Time{} }},
		{"no receipt URL", nil, func(r *PaymentRequest) { r.ReceiptURL = "" }},
		{"no cancel URL", nil, func(r *PaymentRequest) { r.CancelURL = "" }},
		{"zero quantity", nil, func(r *PaymentRequest) { r.Lines[0].Quantity = 0 }},
		{"negative line total", nil, func(r *PaymentRequest) { r.Lines[0].Total = decimal.RequireFromString("-1") }},
		{"extra replaces amount", nil, func(r *PaymentRequest) { r.Extra = map[string]string{"amount": "0.01"} }},
		{"extra replaces signature", nil, func(r *PaymentRequest) { r.Extra = map[string]string{"signature": "x"} }},
		{"no secret", func(c *Config) { c.Profile.SecretKey = "" }, nil},
		{"no access key", func(c *Config) { c.Profile.AccessKey = "" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, req := testConfig(), testRequest()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			if tt.mutate != nil {
				tt.mutate(&req)
			}
			if _, err := cfg.PaymentFormData(req); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
}

func TestPaymentFormDataZeroAmount(t *testing.T) {
	req := testRequest()
	req.Amount = decimal.Zero
	form, err := testConfig().PaymentFormData(req)
	if err != nil {
		t.Fatalf("PaymentFormData: %v", err)
	}
	if form["amount"] != "0.00" {
		t.Fatalf("amount = %q, want 0.00", form["amount"])
	}
}
