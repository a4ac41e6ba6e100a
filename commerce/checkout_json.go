package commerce

import (
	"encoding/json"
	"strings"

	"github.com/shopspring/decimal"
)

// A checkout travels as JSON: in the checkout workflow's input (what the Temporal UI shows), in
// activity inputs, and as the snapshot column of checkouts. Its amounts are written the way the
// API writes money, strings with two decimals ("99.00", not decimal.Decimal's own "99"). Reading
// needs nothing special: decimal.Decimal reads "99.00", "99" (histories and snapshots written
// before) and 99 alike, to the same value.

// jsonMoney renders an amount for JSON: two decimals, or more when the amount has more (it is
// never rounded, so a checkout reads back exactly as it was written).
func jsonMoney(d decimal.Decimal) string {
	if s := d.String(); strings.Contains(s, ".") && len(s)-strings.IndexByte(s, '.')-1 > 2 {
		return s
	}
	return FormatMoney(d)
}

// MarshalJSON writes the checkout with its amounts (and those of its lines and discounts) as
// strings with two decimals.
func (c Checkout) MarshalJSON() ([]byte, error) {
	type plain Checkout // the same fields without this method
	return json.Marshal(struct {
		plain
		TotalBeforeDiscounts string `json:"total_before_discounts"`
		Discount             string `json:"discount"`
		Total                string `json:"total"`
	}{plain(c), jsonMoney(c.TotalBeforeDiscounts), jsonMoney(c.Discount), jsonMoney(c.Total)})
}

// MarshalJSON writes the line with its prices as strings with two decimals.
func (l CheckoutLine) MarshalJSON() ([]byte, error) {
	type plain CheckoutLine
	return json.Marshal(struct {
		plain
		UnitPrice                string `json:"unit_price"`
		LinePriceBeforeDiscounts string `json:"line_price_before_discounts"`
		LinePrice                string `json:"line_price"`
	}{plain(l), jsonMoney(l.UnitPrice), jsonMoney(l.LinePriceBeforeDiscounts), jsonMoney(l.LinePrice)})
}

// MarshalJSON writes the applied offer with its amount and benefit value (a price or a
// percentage) as strings with two decimals.
func (a AppliedOffer) MarshalJSON() ([]byte, error) {
	type plain AppliedOffer
	return json.Marshal(struct {
		plain
		BenefitValue string `json:"benefit_value"`
		Amount       string `json:"amount"`
	}{plain(a), jsonMoney(a.BenefitValue), jsonMoney(a.Amount)})
}
