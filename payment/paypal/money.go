package paypal

import (
	"fmt"
	"regexp"

	"github.com/shopspring/decimal"
)

// Money is an amount in a currency.
type Money struct {
	// Currency is the ISO 4217 code, e.g. USD.
	Currency string
	// Value is the amount.
	Value decimal.Decimal
}

// String renders m as PayPal writes it, e.g. "49.00 USD".
func (m Money) String() string {
	v, err := formatAmount(m.Value, m.Currency)
	if err != nil {
		v = m.Value.String()
	}
	return v + " " + m.Currency
}

// wireMoney is PayPal's JSON form of an amount: the value is a string, never a number.
type wireMoney struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

// zeroDecimalCurrencies are the currencies PayPal takes in whole units only.
var zeroDecimalCurrencies = map[string]bool{"HUF": true, "JPY": true, "TWD": true}

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	valuePattern    = regexp.MustCompile(`^-?[0-9]{1,19}(\.[0-9]{1,2})?$`)
)

// decimalPlaces is how many decimals PayPal writes amounts of currency with.
func decimalPlaces(currency string) int32 {
	if zeroDecimalCurrencies[currency] {
		return 0
	}
	return 2
}

// formatAmount writes d for the wire: "49.00" (or "4900" for JPY). An amount with more
// decimals than the currency has is refused rather than rounded.
func formatAmount(d decimal.Decimal, currency string) (string, error) {
	if !currencyPattern.MatchString(currency) {
		return "", fmt.Errorf("%w: currency %q is not a three-letter code", ErrInvalidRequest, currency)
	}
	places := decimalPlaces(currency)
	if !d.Equal(d.Truncate(places)) {
		return "", fmt.Errorf("%w: %s has more than %d decimals for %s", ErrInvalidRequest, d, places, currency)
	}
	return d.StringFixed(places), nil
}

// toWire converts m to its wire form.
func (m Money) toWire() (wireMoney, error) {
	v, err := formatAmount(m.Value, m.Currency)
	if err != nil {
		return wireMoney{}, err
	}
	return wireMoney{CurrencyCode: m.Currency, Value: v}, nil
}

// fromWire converts an amount read from PayPal; an absent amount is the zero Money.
func (w *wireMoney) fromWire() (Money, error) {
	if w == nil || (w.CurrencyCode == "" && w.Value == "") {
		return Money{}, nil
	}
	if !valuePattern.MatchString(w.Value) {
		return Money{}, fmt.Errorf("%w: amount value %q", ErrMalformedResponse, w.Value)
	}
	d, err := decimal.NewFromString(w.Value)
	if err != nil {
		return Money{}, fmt.Errorf("%w: amount value %q: %w", ErrMalformedResponse, w.Value, err)
	}
	return Money{Currency: w.CurrencyCode, Value: d}, nil
}
