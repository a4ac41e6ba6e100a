package commerce_test

import (
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/shopspring/decimal"
)

// maxCents is commerce.MaxPrice in cents.
const maxCents = 999_999_999_999

// FuzzMoney checks money parsing and formatting against exact integer arithmetic (no float can
// pass): ParsePrice accepts exactly the plain non-negative amounts with at most two decimals up
// to MaxPrice, each at its exact value, and FormatMoney renders it with two decimals that parse
// back to the same value; an amount of cents formats as whole units, a dot and two digits. The
// seeds (testdata/fuzz/FuzzMoney) are amounts at the edges: zero, one cent, MaxPrice and a cent
// more, exponents, signs, commas, spaces, long digit strings.
func FuzzMoney(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, cents int64) {
		checkParsePrice(t, s)
		checkFormatMoney(t, cents)
	})
}

// checkParsePrice compares ParsePrice(s) with amountCents.
func checkParsePrice(t *testing.T, s string) {
	t.Helper()
	d, err := commerce.ParsePrice(s)
	want, ok := amountCents(strings.TrimSpace(s))
	if ok && want.Cmp(big.NewInt(maxCents)) > 0 {
		ok = false
	}
	if !ok {
		if err == nil {
			t.Fatalf("ParsePrice(%q) = %s, want an error", s, d)
		}
		return
	}
	if err != nil {
		t.Fatalf("ParsePrice(%q): %v, want %s cents", s, err, want)
	}
	if got := d.Shift(2); !got.IsInteger() || got.BigInt().Cmp(want) != 0 {
		t.Fatalf("ParsePrice(%q) = %s, want exactly %s cents", s, d, want)
	}
	formatted := commerce.FormatMoney(d)
	if !isMoneyText(formatted) {
		t.Fatalf("FormatMoney(%s) = %q, not units and two decimals", d, formatted)
	}
	back, err := commerce.ParsePrice(formatted)
	if err != nil || !back.Equal(d) || commerce.FormatMoney(back) != formatted {
		t.Fatalf("ParsePrice(FormatMoney(%s)) = %s, %v; want %s (%q)", d, back, err, d, formatted)
	}
}

// checkFormatMoney formats cents/100 and parses it back: in [0, MaxPrice] it is units, a dot
// and two digits, read back exactly; outside it ParsePrice refuses it.
func checkFormatMoney(t *testing.T, cents int64) {
	t.Helper()
	d := decimal.New(cents, -2)
	formatted := commerce.FormatMoney(d)
	back, err := commerce.ParsePrice(formatted)
	if cents < 0 || cents > maxCents {
		if err == nil {
			t.Fatalf("ParsePrice(%q) = %s, want an error (out of range)", formatted, back)
		}
		return
	}
	if want := fmt.Sprintf("%d.%02d", cents/100, cents%100); formatted != want {
		t.Fatalf("FormatMoney(%d cents) = %q, want %q", cents, formatted, want)
	}
	if err != nil || !back.Equal(d) {
		t.Fatalf("ParsePrice(%q) = %s, %v; want %s", formatted, back, err, d)
	}
}

// amountCents reads s as ASCII digits, optionally a dot and one or two digits, in cents; ok is
// false for anything else.
func amountCents(s string) (cents *big.Int, ok bool) {
	units, frac, hasDot := strings.Cut(s, ".")
	if units == "" || !allDigits(units) || (hasDot && (frac == "" || len(frac) > 2 || !allDigits(frac))) {
		return nil, false
	}
	frac += strings.Repeat("0", 2-len(frac))
	cents, ok = new(big.Int).SetString(units+frac, 10)
	return cents, ok
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// isMoneyText reports whether s is how the API writes money: units, a dot and two digits.
func isMoneyText(s string) bool {
	units, frac, ok := strings.Cut(s, ".")
	return ok && units != "" && allDigits(units) && len(frac) == 2 && allDigits(frac)
}
