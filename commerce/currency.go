package commerce

import (
	_ "embed"
	"strings"
)

//go:embed iso4217.txt
var iso4217List string

// isoCurrencies are the codes of iso4217.txt: the ISO 4217 currencies a price may be in.
var isoCurrencies = parseCurrencyList(iso4217List)

func parseCurrencyList(text string) map[string]bool {
	codes := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			codes[line] = true
		}
	}
	return codes
}

// ISOCurrency reports whether c is the upper-case ISO 4217 code of a currency in circulation
// (the embedded iso4217.txt), such as "USD". Every currency that enters the service (a seat's
// or stock record's price_currency) must pass it; ValidCurrency checks only the shape.
func ISOCurrency(c string) bool {
	return ValidCurrency(c) && isoCurrencies[c]
}
