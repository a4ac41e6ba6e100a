package paypal

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/shopspring/decimal"
)

// Request shapes of the Orders API that the simulator reads. Amounts are strings: a JSON
// number where PayPal wants a string fails to decode (MALFORMED_REQUEST_JSON).
type (
	money struct {
		CurrencyCode string `json:"currency_code"`
		Value        string `json:"value"`
	}
	breakdown struct {
		ItemTotal        *money `json:"item_total,omitempty"`
		Shipping         *money `json:"shipping,omitempty"`
		Handling         *money `json:"handling,omitempty"`
		TaxTotal         *money `json:"tax_total,omitempty"`
		Insurance        *money `json:"insurance,omitempty"`
		ShippingDiscount *money `json:"shipping_discount,omitempty"`
		Discount         *money `json:"discount,omitempty"`
	}
	amountWithBreakdown struct {
		CurrencyCode string     `json:"currency_code"`
		Value        string     `json:"value"`
		Breakdown    *breakdown `json:"breakdown,omitempty"`
	}
	item struct {
		Name        string `json:"name"`
		SKU         string `json:"sku,omitempty"`
		Description string `json:"description,omitempty"`
		Quantity    string `json:"quantity"`
		UnitAmount  *money `json:"unit_amount"`
		Tax         *money `json:"tax,omitempty"`
		Category    string `json:"category,omitempty"`
	}
	purchaseUnitRequest struct {
		ReferenceID string               `json:"reference_id,omitempty"`
		InvoiceID   string               `json:"invoice_id,omitempty"`
		CustomID    string               `json:"custom_id,omitempty"`
		Description string               `json:"description,omitempty"`
		Amount      *amountWithBreakdown `json:"amount"`
		Items       []item               `json:"items,omitempty"`
	}
	experienceContext struct {
		BrandName          string `json:"brand_name,omitempty"`
		Locale             string `json:"locale,omitempty"`
		ShippingPreference string `json:"shipping_preference,omitempty"`
		UserAction         string `json:"user_action,omitempty"`
		ReturnURL          string `json:"return_url,omitempty"`
		CancelURL          string `json:"cancel_url,omitempty"`
	}
	orderRequest struct {
		Intent             string                `json:"intent"`
		PurchaseUnits      []purchaseUnitRequest `json:"purchase_units"`
		ApplicationContext *experienceContext    `json:"application_context,omitempty"`
		PaymentSource      *struct {
			PayPal *struct {
				ExperienceContext *experienceContext `json:"experience_context,omitempty"`
			} `json:"paypal,omitempty"`
		} `json:"payment_source,omitempty"`
	}
	refundRequest struct {
		Amount      *money `json:"amount,omitempty"`
		InvoiceID   string `json:"invoice_id,omitempty"`
		NoteToPayer string `json:"note_to_payer,omitempty"`
	}
)

// Answer shapes.
type (
	link struct {
		Href   string `json:"href"`
		Rel    string `json:"rel"`
		Method string `json:"method"`
	}
	statusDetails struct {
		Reason string `json:"reason"`
	}
	captureJSON struct {
		ID               string         `json:"id"`
		Status           string         `json:"status"`
		StatusDetails    *statusDetails `json:"status_details,omitempty"`
		Amount           money          `json:"amount"`
		InvoiceID        string         `json:"invoice_id,omitempty"`
		CustomID         string         `json:"custom_id,omitempty"`
		FinalCapture     bool           `json:"final_capture"`
		SellerProtection struct {
			Status string `json:"status"`
		} `json:"seller_protection"`
		Links      []link `json:"links"`
		CreateTime string `json:"create_time"`
		UpdateTime string `json:"update_time"`
	}
	refundJSON struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Amount      money  `json:"amount"`
		InvoiceID   string `json:"invoice_id,omitempty"`
		NoteToPayer string `json:"note_to_payer,omitempty"`
		Links       []link `json:"links"`
		CreateTime  string `json:"create_time"`
		UpdateTime  string `json:"update_time"`
	}
	paymentsJSON struct {
		Captures []captureJSON `json:"captures,omitempty"`
		Refunds  []refundJSON  `json:"refunds,omitempty"`
	}
	purchaseUnitJSON struct {
		purchaseUnitRequest
		Payee struct {
			EmailAddress string `json:"email_address"`
			MerchantID   string `json:"merchant_id"`
		} `json:"payee"`
		Payments *paymentsJSON `json:"payments,omitempty"`
	}
	payerName struct {
		GivenName string `json:"given_name"`
		Surname   string `json:"surname"`
	}
	payerJSON struct {
		Name         payerName `json:"name"`
		EmailAddress string    `json:"email_address"`
		PayerID      string    `json:"payer_id"`
		Address      struct {
			CountryCode string `json:"country_code"`
		} `json:"address"`
	}
	orderJSON struct {
		ID            string             `json:"id"`
		Intent        string             `json:"intent,omitempty"`
		Status        string             `json:"status"`
		PaymentSource map[string]any     `json:"payment_source,omitempty"`
		PurchaseUnits []purchaseUnitJSON `json:"purchase_units,omitempty"`
		Payer         *payerJSON         `json:"payer,omitempty"`
		CreateTime    string             `json:"create_time,omitempty"`
		UpdateTime    string             `json:"update_time,omitempty"`
		Links         []link             `json:"links"`
	}
)

// Merchant identity shown as the payee of every order.
const (
	merchantEmail = "merchant@example.com"
	merchantID    = "SIMMERCHANT01"
)

// timeLayout is how PayPal writes times.
const timeLayout = "2006-01-02T15:04:05Z"

// Simulated buyer name.
const (
	payerGivenName = "Test"
	payerSurname   = "Buyer"
)

// zeroDecimalCurrencies take whole amounts only.
var zeroDecimalCurrencies = map[string]bool{"HUF": true, "JPY": true, "TWD": true}

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	valuePattern    = regexp.MustCompile(`^[0-9]{1,10}(\.[0-9]+)?$`)
	quantityPattern = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
)

// places is the number of decimals of currency.
func places(currency string) int32 {
	if zeroDecimalCurrencies[currency] {
		return 0
	}
	return 2
}

// formatValue writes an amount as PayPal does.
func formatValue(d decimal.Decimal, currency string) string {
	return d.StringFixed(places(currency))
}

// parseMoney checks an amount: a known-shaped currency (want, when not empty) and a
// non-negative value with no more decimals than the currency has.
func parseMoney(m *money, field, want string) (decimal.Decimal, *apiError) {
	if m == nil {
		return decimal.Zero, invalidRequest("MISSING_REQUIRED_PARAMETER", field, "A required field / parameter is missing.")
	}
	if !currencyPattern.MatchString(m.CurrencyCode) {
		return decimal.Zero, invalidRequest("INVALID_PARAMETER_VALUE", field+"/currency_code", "The currency code is invalid.")
	}
	if want != "" && m.CurrencyCode != want {
		return decimal.Zero, unprocessable("CURRENCY_MISMATCH", "Currency code should be same across the request.")
	}
	if !valuePattern.MatchString(m.Value) {
		return decimal.Zero, invalidRequest("INVALID_PARAMETER_SYNTAX", field+"/value", "The value of a field does not conform to the expected format.")
	}
	d, err := decimal.NewFromString(m.Value)
	if err != nil {
		return decimal.Zero, invalidRequest("INVALID_PARAMETER_SYNTAX", field+"/value", "The value of a field does not conform to the expected format.")
	}
	if !d.Equal(d.Truncate(places(m.CurrencyCode))) {
		return decimal.Zero, invalidRequest("DECIMAL_PRECISION", field+"/value", "If the currency supports decimals, only two decimal place precision is supported.")
	}
	return d, nil
}

// apiError is an error answer in PayPal's shape.
type apiError struct {
	status  int
	name    string
	message string
	details []errorDetail
}

// errorDetail is one entry of an error's details.
type errorDetail struct {
	Field       string `json:"field,omitempty"`
	Value       string `json:"value,omitempty"`
	Location    string `json:"location,omitempty"`
	Issue       string `json:"issue"`
	Description string `json:"description,omitempty"`
}

// unprocessable is a 422 with one issue.
func unprocessable(issue, description string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, name: "UNPROCESSABLE_ENTITY",
		message: "The requested action could not be performed, semantically incorrect, or failed business validation.",
		details: []errorDetail{{Issue: issue, Description: description}}}
}

// invalidRequest is a 400 with one issue about field.
func invalidRequest(issue, field, description string) *apiError {
	return &apiError{status: http.StatusBadRequest, name: "INVALID_REQUEST",
		message: "Request is not well-formed, syntactically incorrect, or violates schema.",
		details: []errorDetail{{Field: field, Location: "body", Issue: issue, Description: description}}}
}

// notFound is a 404 for an unknown id in the path.
func notFound(field, value string) *apiError {
	return &apiError{status: http.StatusNotFound, name: "RESOURCE_NOT_FOUND", message: "The specified resource does not exist.",
		details: []errorDetail{{Field: field, Value: value, Location: "path", Issue: "INVALID_RESOURCE_ID",
			Description: "Specified resource ID does not exist. Please check the resource ID and try again."}}}
}

// serverError is a 500.
func serverError() *apiError {
	return &apiError{status: http.StatusInternalServerError, name: "INTERNAL_SERVER_ERROR", message: "An internal server error occurred."}
}

// answer renders e with the debug id of the request.
func (e *apiError) answer(debugID string) answer {
	body := map[string]any{"name": e.name, "message": e.message, "debug_id": debugID}
	if len(e.details) > 0 {
		body["details"] = e.details
		body["links"] = []link{{Href: "https://developer.paypal.com/api/rest/reference/orders/v2/errors/#" + e.details[0].Issue,
			Rel: "information_link", Method: "GET"}}
	}
	return jsonAnswer(e.status, body)
}

// jsonAnswer encodes v as an answer.
func jsonAnswer(status int, v any) answer {
	body, err := json.Marshal(v)
	if err != nil {
		return answer{status: http.StatusInternalServerError, body: []byte(`{"name":"INTERNAL_SERVER_ERROR"}`)}
	}
	return answer{status: status, body: body}
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeAnswer(w, jsonAnswer(status, v))
}

// writeAnswer writes a JSON answer.
func writeAnswer(w http.ResponseWriter, a answer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}
