package commerce

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
)

// MaxPrice is the largest amount a numeric(12,2) column holds.
var MaxPrice = decimal.RequireFromString("9999999999.99")

// DefaultCurrency is the currency of new stock records when a client does not name one.
const DefaultCurrency = "USD"

var (
	amountPattern   = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// FormatMoney renders an amount the way the API sends money: a string with two decimals.
func FormatMoney(d decimal.Decimal) string {
	return d.StringFixed(2)
}

// ParsePrice parses a non-negative amount with at most two decimals and no exponent or sign,
// as given on the wire ("49", "49.5", "49.00"). It never goes through a float.
func ParsePrice(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if !amountPattern.MatchString(s) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a non-negative amount with at most two decimals", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("parse amount %q: %w", s, err)
	}
	if d.GreaterThan(MaxPrice) {
		return decimal.Decimal{}, fmt.Errorf("%s is larger than %s", s, FormatMoney(MaxPrice))
	}
	return d, nil
}

// ValidCurrency reports whether c is a three-letter upper-case ISO 4217 code.
func ValidCurrency(c string) bool {
	return currencyPattern.MatchString(c)
}
