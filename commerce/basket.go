package commerce

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// BasketStatus is where a basket is in its life: Open (editable), Frozen (checking out),
// Submitted (an order was placed), Merged or Saved.
type BasketStatus string

// Basket statuses, as Oscar names them.
const (
	BasketOpen      BasketStatus = "Open"
	BasketMerged    BasketStatus = "Merged"
	BasketSaved     BasketStatus = "Saved"
	BasketFrozen    BasketStatus = "Frozen"
	BasketSubmitted BasketStatus = "Submitted"
)

// Basket is a user's selection of products on the way to an order.
type Basket struct {
	ID            int64
	OwnerID       int64
	OwnerUsername string
	Status        BasketStatus
	Lines         []BasketLine
	CreatedAt     time.Time
	DateSubmitted *time.Time
}

// BasketItem is a product and how many of it to put in a basket.
type BasketItem struct {
	Product  Product
	Quantity int
}

// MaxLineQuantity bounds the quantity of one basket line (enrollment codes bought in bulk).
const MaxLineQuantity = 10000

// BasketLine is one product in a basket, priced when it was added.
type BasketLine struct {
	ID        int64
	Product   Product
	Quantity  int
	Currency  string
	UnitPrice decimal.Decimal
}

// Totals are a basket's prices. Tax is not charged (edX's NoTax strategy), so incl and excl tax
// are equal.
type Totals struct {
	Currency                  string
	TotalInclTaxExclDiscounts decimal.Decimal
	TotalDiscount             decimal.Decimal
	TotalInclTax              decimal.Decimal
}

// PriceLine is the input of pricing: a product (what ranges look at), a unit price, a
// quantity and a currency.
type PriceLine struct {
	SKU             string
	ProductID       int64
	Class           ProductClass
	CertificateType string
	UnitPrice       decimal.Decimal
	Quantity        int
	Currency        string
}

// Price totals lines that must share one currency. An empty basket totals zero in
// DefaultCurrency.
func Price(lines []PriceLine) (Totals, error) {
	t := Totals{Currency: DefaultCurrency}
	for i, l := range lines {
		if i == 0 {
			t.Currency = l.Currency
		} else if l.Currency != t.Currency {
			return Totals{}, UserError(EInvalid,
				fmt.Sprintf("Product with SKU [%s] is priced in %s, but the basket is in %s; a basket mixes one currency.", l.SKU, l.Currency, t.Currency),
				"The products you selected cannot be bought together.")
		}
		t.TotalInclTaxExclDiscounts = t.TotalInclTaxExclDiscounts.Add(l.UnitPrice.Mul(decimal.NewFromInt(int64(l.Quantity))))
	}
	t.TotalInclTax = t.TotalInclTaxExclDiscounts.Sub(t.TotalDiscount)
	return t, nil
}

// PriceLines turns basket lines into pricing input.
func PriceLines(lines []BasketLine) []PriceLine {
	out := make([]PriceLine, len(lines))
	for i, l := range lines {
		out[i] = PriceLine{SKU: l.Product.StockRecord.PartnerSKU, ProductID: l.Product.ID, Class: l.Product.Class,
			CertificateType: l.Product.CertificateType, UnitPrice: l.UnitPrice, Quantity: l.Quantity, Currency: l.Currency}
	}
	return out
}

// OrderNumber is the order number of a basket: the partner short code, upper-cased, and
// 100000 plus the basket id (basket 1 of partner "edx" is EDX-100001).
func OrderNumber(partnerShortCode string, basketID int64) string {
	return fmt.Sprintf("%s-%d", strings.ToUpper(partnerShortCode), basketID+100000)
}

// BasketIDFromOrderNumber inverts OrderNumber.
func BasketIDFromOrderNumber(number string) (int64, error) {
	i := strings.LastIndexByte(number, '-')
	if i < 0 {
		return 0, fmt.Errorf("order number %q has no partner prefix", number)
	}
	n, err := strconv.ParseInt(number[i+1:], 10, 64)
	if err != nil || n <= 100000 {
		return 0, fmt.Errorf("order number %q has no basket number", number)
	}
	return n - 100000, nil
}

// LinePrice is the line's price before discounts: unit price times quantity.
func (l BasketLine) LinePrice() decimal.Decimal {
	return l.UnitPrice.Mul(decimal.NewFromInt(int64(l.Quantity)))
}

// OneOfEach makes basket items of one unit of each product.
func OneOfEach(products ...Product) []BasketItem {
	out := make([]BasketItem, len(products))
	for i, p := range products {
		out[i] = BasketItem{Product: p, Quantity: 1}
	}
	return out
}
