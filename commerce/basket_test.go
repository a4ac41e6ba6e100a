package commerce_test

import (
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func product(id int64, class commerce.ProductClass, sku, price, currency string) commerce.Product {
	return commerce.Product{ID: id, Class: class, StockRecord: commerce.StockRecord{PartnerSKU: sku, Price: decimal.RequireFromString(price), Currency: currency}}
}

func TestBasketRequestRules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	past := now.Add(-time.Hour)
	seat, code := product(1, commerce.ClassSeat, "SEAT", "49.00", "USD"), product(2, commerce.ClassEnrollmentCode, "CODE", "49.00", "USD")
	old, eur := product(3, commerce.ClassSeat, "OLD", "5.00", "USD"), product(4, commerce.ClassSeat, "EUR", "5.00", "EUR")
	old.Expires = &past
	found := map[string]commerce.Product{"SEAT": seat, "CODE": code, "OLD": old, "EUR": eur}

	req := commerce.OneOfEachSKU([]string{" SEAT", "", "CODE", "SEAT "})
	require.Equal(t, []string{"SEAT", "CODE"}, req.SKUs)
	products, err := req.Products(found, now, false)
	require.NoError(t, err)
	require.Equal(t, []commerce.Product{seat, code}, products)

	items, err := req.Items(products, map[int64]bool{1: true})
	require.NoError(t, err)
	require.Equal(t, []commerce.BasketItem{{Product: code, Quantity: 1}}, items, "a bought seat is left out")
	_, err = req.Items(products, map[int64]bool{1: true, 2: true})
	require.NoError(t, err, "an enrollment code can be bought again")
	_, err = commerce.OneOfEachSKU([]string{"SEAT"}).Items([]commerce.Product{seat}, map[int64]bool{1: true})
	require.Equal(t, "You have already purchased these products.", err.(*commerce.Error).UserMessage)

	refusals := map[string]struct {
		req  commerce.BasketRequest
		user string
	}{
		"Unknown":         {commerce.OneOfEachSKU([]string{"SEAT", "NOPE"}), "We couldn't find one of the products you're looking for."},
		"Expired":         {commerce.OneOfEachSKU([]string{"OLD"}), "One of the products you're trying to order is unavailable."},
		"SeatInQuantity":  {commerce.BasketRequest{SKUs: []string{"SEAT"}, Quantities: map[string]int{"SEAT": 2}}, "You can buy one of this product at a time."},
		"MixedCurrencies": {commerce.OneOfEachSKU([]string{"SEAT", "EUR"}), "The products you selected cannot be bought together."},
	}
	for name, tc := range refusals {
		_, err := tc.req.Products(found, now, false)
		require.Equal(t, tc.user, err.(*commerce.Error).UserMessage, name)
	}
	_, err = commerce.OneOfEachSKU([]string{"OLD"}).Products(found, now, true)
	require.NoError(t, err, "staff may buy an expired product")
	_, err = commerce.BasketRequest{SKUs: []string{"CODE"}, Quantities: map[string]int{"CODE": 7}}.Products(found, now, false)
	require.NoError(t, err, "enrollment codes are bought in quantity")
}

func TestEnrollmentCodeBasket(t *testing.T) {
	t.Parallel()
	code := product(2, commerce.ClassEnrollmentCode, "CODE", "49.00", "USD")
	b := commerce.Basket{ID: 9, Lines: []commerce.BasketLine{{Product: code, Quantity: 1, Currency: "USD", UnitPrice: code.StockRecord.Price}}}
	require.True(t, b.IsEnrollmentCodePurchase())

	items, err := b.WithQuantity(5)
	require.NoError(t, err)
	require.Equal(t, []commerce.BasketItem{{Product: code, Quantity: 5}}, items)
	for _, q := range []int{0, -1, commerce.MaxLineQuantity + 1} {
		_, err := b.WithQuantity(q)
		require.Equal(t, "Ensure this value is from 1 to 10000.", err.(*commerce.Error).UserMessage, q)
	}
	_, err = commerce.Basket{}.WithQuantity(2)
	require.Equal(t, "Your basket is empty.", err.(*commerce.Error).UserMessage)
	seat := product(1, commerce.ClassSeat, "SEAT", "49.00", "USD")
	_, err = commerce.Basket{Lines: []commerce.BasketLine{{Product: seat, Quantity: 1}}}.WithQuantity(2)
	require.Equal(t, "Only enrollment codes can be bought in quantity.", err.(*commerce.Error).UserMessage)

	b.Lines[0].Quantity = 3
	totals, err := commerce.Price(commerce.PriceLines(b.Lines))
	require.NoError(t, err)
	s := commerce.Summarize(b, totals)
	require.True(t, s.EnrollmentCodes)
	require.Equal(t, 3, s.Quantity)
	require.Equal(t, "49.00", commerce.FormatMoney(s.Price), "the price of one code")
	require.Equal(t, "147.00", commerce.FormatMoney(s.Subtotal))
	require.False(t, s.IsFree())
}

func TestSummaryOfASeatBasket(t *testing.T) {
	t.Parallel()
	seat := product(1, commerce.ClassSeat, "SEAT", "49.00", "USD")
	b := commerce.Basket{Lines: []commerce.BasketLine{{Product: seat, Quantity: 1, Currency: "USD", UnitPrice: seat.StockRecord.Price}}}
	totals := commerce.Totals{Currency: "USD", TotalInclTaxExclDiscounts: decimal.RequireFromString("49.00"),
		TotalDiscount: decimal.RequireFromString("49.00"), TotalInclTax: decimal.Zero}
	s := commerce.Summarize(b, totals)
	require.False(t, s.EnrollmentCodes)
	require.Zero(t, s.Quantity)
	require.Equal(t, "49.00", commerce.FormatMoney(s.Price))
	require.True(t, s.IsFree())
	require.Equal(t, 1, b.NumItems())
}
