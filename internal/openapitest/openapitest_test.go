package openapitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDocumentLoads checks that docs/openapi.yaml is a valid OpenAPI 3.1 document.
func TestDocumentLoads(t *testing.T) {
	v, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Document().OpenAPI; got != "3.1.0" {
		t.Fatalf("openapi %q", got)
	}
}

// TestValidateFindsMismatches shows what Validate accepts and refuses, without the service.
func TestValidateFindsMismatches(t *testing.T) {
	v, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const health = `{"overall_status":"OK","detailed_status":{"database_status":"OK"}}`
	const bff = `{"basket_id":7,"currency":"USD","is_free_basket":false,"enable_stripe_payment_processor":false,
		"show_coupon_form":true,"summary_price":%s,"summary_discounts":0.0,"order_total":49.0,"products":[],"offers":[],
		"coupons":[],"messages":[]}`
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	for _, c := range []struct {
		name, method, target, reqBody string
		status                        int
		header                        http.Header
		body                          string
		want                          string // "" when valid, else part of the error
	}{
		{"documented answer", "GET", "/health/", "", 200, jsonHeader, health, ""},
		{"undocumented field", "GET", "/health/", "", 200, jsonHeader, strings.Replace(health, `"OK",`, `"OK","x":1,`, 1), "additional"},
		{"undocumented status", "GET", "/health/", "", 418, jsonHeader, health, "status 418 is not documented"},
		{"undocumented content type", "GET", "/health/", "", 200, http.Header{"Content-Type": {"text/plain"}}, "OK", "Content-Type"},
		{"unknown path, 404", "GET", "/nope/", "", 404, jsonHeader, `{"detail":"Not found."}`, ""},
		{"unknown path answered", "GET", "/nope/", "", 200, jsonHeader, `{}`, "undocumented route"},
		{"other method, 405", "DELETE", "/health/", "", 405, jsonHeader, `{"detail":"Method \"DELETE\" not allowed."}`, ""},
		{"other method answered", "DELETE", "/health/", "", 200, jsonHeader, health, "not 405"},
		{"slash redirect", "GET", "/health", "", 301, http.Header{"Location": {"/health/"}}, "", ""},
		{"BFF money is a number", "GET", "/bff/payment/v0/payment/", "", 200, jsonHeader, strings.Replace(bff, "%s", "49.0", 1), ""},
		{"BFF money as a string", "GET", "/bff/payment/v0/payment/", "", 200, jsonHeader, strings.Replace(bff, "%s", `"49.00"`, 1), "summary_price"},
		{"money as a number", "GET", "/api/v2/baskets/calculate/?sku=A", "", 200, jsonHeader,
			`{"total_incl_tax_excl_discounts":49,"total_incl_tax":"49.00","currency":"USD"}`, "total_incl_tax_excl_discounts"},
		{"malformed request refused", "POST", "/api/v2/baskets/", `{"products":"x"}`, 400, jsonHeader, `{"detail":"bad"}`, ""},
		{"malformed request accepted", "POST", "/api/v2/baskets/", `{"products":"x"}`, 200, jsonHeader,
			`{"id":1,"order":null,"payment_data":null}`, "the request does not match"},
		{"401 without WWW-Authenticate", "GET", "/api/v2/orders/", "", 401, jsonHeader, `{"detail":"no"}`, "WWW-Authenticate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.reqBody))
			if c.reqBody != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			err := v.Validate(Exchange{Request: r, RequestBody: []byte(c.reqBody), Status: c.status, Header: c.header, Body: []byte(c.body)})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("accepted, want an error about %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %v, want one about %q", err, c.want)
			}
		})
	}
}
