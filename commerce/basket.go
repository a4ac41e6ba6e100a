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

// BasketRequest is what a learner asks to put in a basket: SKUs in the order asked, each once,
// and how many of each (one when not said).
type BasketRequest struct {
	SKUs       []string
	Quantities map[string]int
}

// OneOfEachSKU asks for one unit of each SKU, in order; blanks and repeats are dropped.
func OneOfEachSKU(skus []string) BasketRequest {
	r := BasketRequest{Quantities: map[string]int{}}
	for _, sku := range skus {
		sku = strings.TrimSpace(sku)
		if _, seen := r.Quantities[sku]; sku != "" && !seen {
			r.SKUs = append(r.SKUs, sku)
			r.Quantities[sku] = 1
		}
	}
	return r
}

// Quantity is how many units of sku are asked for.
func (r BasketRequest) Quantity(sku string) int {
	if q, ok := r.Quantities[sku]; ok {
		return q
	}
	return 1
}

// UnknownSKU is edX's answer to a SKU the catalog does not sell.
func UnknownSKU(sku string) *Error {
	return UserError(EInvalid, fmt.Sprintf("Catalog does not contain a product with SKU [%s]", sku),
		"We couldn't find one of the products you're looking for.")
}

// UnavailableSKU is edX's answer to a product that can no longer be bought.
func UnavailableSKU(sku string) *Error {
	return UserError(EInvalid, fmt.Sprintf("Product with SKU [%s] is [Unavailable]", sku),
		"One of the products you're trying to order is unavailable.")
}

// Products checks the request against the products found for its SKUs and returns them in
// the order asked: every SKU must be sold, available at now (staff may buy expired products),
// bought in quantity only if it is an enrollment code, and all must share one currency.
func (r BasketRequest) Products(found map[string]Product, now time.Time, staff bool) ([]Product, error) {
	products := make([]Product, 0, len(r.SKUs))
	for _, sku := range r.SKUs {
		p, ok := found[sku]
		switch {
		case !ok:
			return nil, UnknownSKU(sku)
		case !p.AvailableAt(now) && !staff:
			return nil, UnavailableSKU(sku)
		case r.Quantity(sku) > 1 && p.Class != ClassEnrollmentCode:
			return nil, UserError(EInvalid,
				fmt.Sprintf("Product with SKU [%s] is a %s; only enrollment codes can be bought in quantity.", sku, p.Class),
				"You can buy one of this product at a time.")
		}
		products = append(products, p)
	}
	if _, err := Price(ItemPriceLines(OneOfEach(products...))); err != nil {
		return nil, err
	}
	return products, nil
}

// Items turns the chosen products into basket items, leaving out the seats the buyer already
// bought (purchased, by product id); a request of nothing else is edX's "already purchased".
func (r BasketRequest) Items(products []Product, purchased map[int64]bool) ([]BasketItem, error) {
	var items []BasketItem
	for _, p := range products {
		if !(purchased[p.ID] && p.Class == ClassSeat) {
			items = append(items, BasketItem{Product: p, Quantity: r.Quantity(p.StockRecord.PartnerSKU)})
		}
	}
	if len(items) == 0 {
		return nil, AlreadyPurchased(r.SKUs)
	}
	return items, nil
}

// ItemPriceLines is the pricing input of basket items, at their products' current prices.
func ItemPriceLines(items []BasketItem) []PriceLine {
	out := make([]PriceLine, len(items))
	for i, it := range items {
		p := it.Product
		out[i] = PriceLine{SKU: p.StockRecord.PartnerSKU, ProductID: p.ID, Class: p.Class, CertificateType: p.CertificateType,
			UnitPrice: p.StockRecord.Price, Quantity: max(it.Quantity, 1), Currency: p.StockRecord.Currency}
	}
	return out
}

// NumItems is how many units the basket holds (edX's num_items).
func (b Basket) NumItems() int {
	n := 0
	for _, l := range b.Lines {
		n += l.Quantity
	}
	return n
}

// IsEnrollmentCodePurchase reports whether the basket buys enrollment codes (in bulk, for
// others): its payment page shows a quantity and no coupon form.
func (b Basket) IsEnrollmentCodePurchase() bool {
	for _, l := range b.Lines {
		if l.Product.Class == ClassEnrollmentCode {
			return true
		}
	}
	return false
}

// WithQuantity returns the basket's items with the first line, which must be an enrollment
// code, bought q times (edX changes the quantity of single-product baskets only).
func (b Basket) WithQuantity(q int) ([]BasketItem, error) {
	if len(b.Lines) == 0 {
		return nil, UserError(EInvalid, fmt.Sprintf("Basket [%d] is empty; there is no quantity to change.", b.ID), "Your basket is empty.")
	}
	if b.Lines[0].Product.Class != ClassEnrollmentCode {
		return nil, UserError(EInvalid, fmt.Sprintf("Basket [%d] holds a %s; only enrollment codes are bought in quantity.", b.ID, b.Lines[0].Product.Class),
			"Only enrollment codes can be bought in quantity.")
	}
	if q < 1 || q > MaxLineQuantity {
		msg := fmt.Sprintf("Ensure this value is from 1 to %d.", MaxLineQuantity)
		return nil, UserError(EInvalid, msg, msg)
	}
	items := make([]BasketItem, len(b.Lines))
	for i, l := range b.Lines {
		items[i] = BasketItem{Product: l.Product, Quantity: l.Quantity}
	}
	items[0].Quantity = q
	return items, nil
}

// BasketSummary is what edX's payment page shows of a priced basket.
type BasketSummary struct {
	// Price is the total before discounts, or for an enrollment-code purchase the price of one
	// unit (edX: the total before discounts over the number of items).
	Price     decimal.Decimal
	Discounts decimal.Decimal
	Total     decimal.Decimal
	// Quantity and Subtotal (the total) are shown for enrollment-code purchases only.
	Quantity        int
	Subtotal        decimal.Decimal
	EnrollmentCodes bool
}

// Summarize is the payment page's summary of a basket priced at totals.
func Summarize(b Basket, t Totals) BasketSummary {
	s := BasketSummary{Price: t.TotalInclTaxExclDiscounts, Discounts: t.TotalDiscount, Total: t.TotalInclTax}
	if b.IsEnrollmentCodePurchase() {
		s.EnrollmentCodes, s.Quantity, s.Subtotal = true, b.NumItems(), t.TotalInclTax
		if s.Quantity > 0 {
			s.Price = t.TotalInclTaxExclDiscounts.DivRound(decimal.NewFromInt(int64(s.Quantity)), 2)
		}
	}
	return s
}

// IsFree reports whether the summary's total is zero: the basket is placed without payment.
func (s BasketSummary) IsFree() bool { return s.Total.IsZero() }
