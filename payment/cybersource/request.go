package cybersource

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// SignedDateTimeLayout is the layout of signed_date_time (always UTC).
const SignedDateTimeLayout = "2006-01-02T15:04:05Z"

// TransactionTypeSale authorises and captures in one step.
const TransactionTypeSale = "sale"

// DefaultLineItemCode is the item_N_code sent when LineItem.Code is empty.
const DefaultLineItemCode = "default"

// CardFields are the card data fields. They may reach CyberSource only from
// the buyer's browser, never signed by the merchant (PCI scope).
var CardFields = []string{"card_number", "card_cvn", "card_expiry_date", "card_type"}

// LineItem is one basket line as sent to CyberSource (Level 2/3 data).
type LineItem struct {
	SKU  string
	Name string
	// Code is the product type code (item_N_code); DefaultLineItemCode when empty.
	Code      string
	Quantity  int
	UnitPrice decimal.Decimal
	Discount  decimal.Decimal
	Total     decimal.Decimal
}

// PaymentRequest describes one payment attempt for a frozen basket.
type PaymentRequest struct {
	// OrderNumber is sent as reference_number, e.g. "EDX-100001".
	OrderNumber string
	Amount      decimal.Decimal
	// Currency is an ISO 4217 code; it is sent in upper case.
	Currency string
	// Username is sent as consumer_id when not empty.
	Username   string
	Lines      []LineItem
	ReceiptURL string
	CancelURL  string
	// TransactionUUID is supplied by the caller (e.g. 32 hex characters) so
	// that asking twice for the same attempt yields the same form.
	TransactionUUID string
	// SignedAt is the signing time sent as signed_date_time.
	SignedAt time.Time
	// Extra holds additional signed fields such as merchant_defined_data1.
	// They may neither replace a field built here nor be a card field.
	Extra map[string]string
}

// PaymentFormData returns the signed field set (including "signature") that
// the browser posts to c.PaymentPageURL. It fails with ErrInvalidRequest on
// invalid input or configuration, and with ErrPCIViolation if a card field
// would be signed.
func (c Config) PaymentFormData(req PaymentRequest) (map[string]string, error) {
	if err := c.validateProfile(); err != nil {
		return nil, err
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	fields := map[string]string{
		"access_key":                   c.Profile.AccessKey,
		"profile_id":                   c.Profile.ProfileID,
		"transaction_uuid":             req.TransactionUUID,
		FieldUnsignedFieldNames:        "",
		"signed_date_time":             req.SignedAt.UTC().Format(SignedDateTimeLayout),
		"locale":                       c.locale(),
		"transaction_type":             TransactionTypeSale,
		"reference_number":             req.OrderNumber,
		"amount":                       req.Amount.StringFixed(2),
		"currency":                     strings.ToUpper(req.Currency),
		"override_custom_receipt_page": req.ReceiptURL,
		"override_custom_cancel_page":  req.CancelURL,
	}
	if req.Username != "" {
		fields["consumer_id"] = req.Username
	}
	if len(req.Lines) > 0 {
		fields["line_item_count"] = strconv.Itoa(len(req.Lines))
	}
	for i, line := range req.Lines {
		addLineItem(fields, i, line)
	}
	for name, value := range req.Extra {
		if _, taken := fields[name]; taken || name == FieldSignedFieldNames || name == FieldSignature {
			return nil, fmt.Errorf("%w: extra field %q replaces a built field", ErrInvalidRequest, name)
		}
		fields[name] = value
	}
	return signForm(fields, c.Profile.SecretKey)
}

// addLineItem adds the item_<i>_* fields of one line.
func addLineItem(fields map[string]string, i int, line LineItem) {
	code := line.Code
	if code == "" {
		code = DefaultLineItemCode
	}
	prefix := "item_" + strconv.Itoa(i) + "_"
	fields[prefix+"name"] = line.Name
	fields[prefix+"sku"] = line.SKU
	fields[prefix+"code"] = code
	fields[prefix+"quantity"] = strconv.Itoa(line.Quantity)
	fields[prefix+"unit_price"] = line.UnitPrice.StringFixed(2)
	fields[prefix+"discount_amount"] = line.Discount.StringFixed(2)
	fields[prefix+"total_amount"] = line.Total.StringFixed(2)
	fields[prefix+"tax_amount"] = "0.00"
	fields[prefix+"tax_rate"] = "0"
	fields[prefix+"gross_net_indicator"] = "Y"
	fields[prefix+"unit_of_measure"] = "ITM"
}

// signForm refuses to sign card fields, sets signed_field_names to the sorted
// field names (itself included) and adds the signature.
func signForm(fields map[string]string, secret string) (map[string]string, error) {
	for _, card := range CardFields {
		if _, ok := fields[card]; ok {
			return nil, fmt.Errorf("%w: %s", ErrPCIViolation, card)
		}
	}
	fields[FieldSignedFieldNames] = ""
	fields[FieldSignedFieldNames] = strings.Join(slices.Sorted(maps.Keys(fields)), ",")
	fields[FieldSignature] = SignFields(fields, secret)
	return fields, nil
}

// validateProfile checks that the signing profile is complete.
func (c Config) validateProfile() error {
	p := c.Profile
	if p.ProfileID == "" || p.AccessKey == "" || p.SecretKey == "" {
		return fmt.Errorf("%w: profile needs a profile id, access key and secret key", ErrInvalidRequest)
	}
	return nil
}

// validate checks a payment request before it is signed.
func (r PaymentRequest) validate() error {
	switch {
	case strings.TrimSpace(r.OrderNumber) == "":
		return fmt.Errorf("%w: order number is empty", ErrInvalidRequest)
	case !isCurrencyCode(r.Currency):
		return fmt.Errorf("%w: currency %q is not a 3-letter code", ErrInvalidRequest, r.Currency)
	case r.TransactionUUID == "":
		return fmt.Errorf("%w: transaction uuid is empty", ErrInvalidRequest)
	case r.SignedAt.IsZero():
		return fmt.Errorf("%w: signing time is zero", ErrInvalidRequest)
	case r.ReceiptURL == "" || r.CancelURL == "":
		return fmt.Errorf("%w: receipt and cancel URLs are required", ErrInvalidRequest)
	}
	if err := checkMoney("amount", r.Amount); err != nil {
		return err
	}
	for i, line := range r.Lines {
		if line.Quantity < 1 {
			return fmt.Errorf("%w: line %d: quantity %d is below 1", ErrInvalidRequest, i, line.Quantity)
		}
		for _, m := range []struct {
			name  string
			value decimal.Decimal
		}{{"unit price", line.UnitPrice}, {"discount", line.Discount}, {"total", line.Total}} {
			if err := checkMoney(fmt.Sprintf("line %d %s", i, m.name), m.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkMoney rejects negative amounts and amounts with more than two
// decimals, which StringFixed(2) would silently round.
func checkMoney(what string, d decimal.Decimal) error {
	if d.IsNegative() {
		return fmt.Errorf("%w: %s %s is negative", ErrInvalidRequest, what, d)
	}
	if !d.Equal(d.Round(2)) {
		return fmt.Errorf("%w: %s %s has more than two decimals", ErrInvalidRequest, what, d)
	}
	return nil
}

// isCurrencyCode reports whether s is exactly three ASCII letters.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}
