package commerce_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// testNow is the clock every pricing test runs at.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// signedIn is the default buyer: signed in, with an email outside every restricted domain.
var signedIn = commerce.Buyer{Email: "learner@other.org"}

var allProducts = commerce.Range{IncludesAllProducts: true}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func decp(s string) *decimal.Decimal {
	d := dec(s)
	return &d
}

func intp(n int) *int { return &n }

func timep(t time.Time) *time.Time { return &t }

// ln is a USD line whose product id is derived from its SKU's first letter (A=1, B=2, ...).
func ln(sku, price string, qty int) commerce.PriceLine {
	return commerce.PriceLine{SKU: sku, ProductID: int64(sku[0]-'A') + 1, Class: commerce.ClassSeat,
		CertificateType: "verified", UnitPrice: dec(price), Quantity: qty, Currency: "USD"}
}

// seatLn is a USD seat line of a certificate type.
func seatLn(sku string, product int64, cert, price string) commerce.PriceLine {
	return commerce.PriceLine{SKU: sku, ProductID: product, Class: commerce.ClassSeat, CertificateType: cert,
		UnitPrice: dec(price), Quantity: 1, Currency: "USD"}
}

func count(n int64) commerce.Condition {
	return commerce.Condition{Type: commerce.ConditionCount, Value: decimal.NewFromInt(n)}
}

func value(v string) commerce.Condition {
	return commerce.Condition{Type: commerce.ConditionValue, Value: dec(v)}
}

func coverage(n int64) commerce.Condition {
	return commerce.Condition{Type: commerce.ConditionCoverage, Value: decimal.NewFromInt(n)}
}

// offer is an Open, exclusive site offer on all products with a Count 1 condition, changed by mods.
func offer(id int64, bt commerce.BenefitType, v string, mods ...func(*commerce.Offer)) commerce.Offer {
	o := commerce.Offer{ID: id, Name: fmt.Sprintf("offer %d", id), Type: commerce.OfferSite, Exclusive: true,
		Status: commerce.OfferOpen, Range: allProducts, Condition: count(1),
		Benefit: commerce.Benefit{Type: bt, Value: dec(v)}}
	for _, m := range mods {
		m(&o)
	}
	return o
}

func pct(id int64, v string, mods ...func(*commerce.Offer)) commerce.Offer {
	return offer(id, commerce.BenefitPercentage, v, mods...)
}

func abs(id int64, v string, mods ...func(*commerce.Offer)) commerce.Offer {
	return offer(id, commerce.BenefitAbsolute, v, mods...)
}

func fixed(id int64, v string, mods ...func(*commerce.Offer)) commerce.Offer {
	return offer(id, commerce.BenefitFixedPrice, v, mods...)
}

func maxItems(n int) func(*commerce.Offer) {
	return func(o *commerce.Offer) { o.Benefit.MaxAffectedItems = n }
}

func basketApps(n int) func(*commerce.Offer) {
	return func(o *commerce.Offer) { o.MaxBasketApplications = intp(n) }
}

func priority(p int) func(*commerce.Offer) { return func(o *commerce.Offer) { o.Priority = p } }

func nonExclusive(o *commerce.Offer) { o.Exclusive = false }

func cond(c commerce.Condition) func(*commerce.Offer) {
	return func(o *commerce.Offer) { o.Condition = c }
}

func rng(r commerce.Range) func(*commerce.Offer) { return func(o *commerce.Offer) { o.Range = r } }

func budget(maxDiscount, used string) func(*commerce.Offer) {
	return func(o *commerce.Offer) {
		o.MaxDiscount = decp(maxDiscount)
		o.TotalDiscount = dec(used)
	}
}

func domains(d ...string) func(*commerce.Offer) {
	return func(o *commerce.Offer) { o.EmailDomains = d }
}

// applied is an expected AppliedOffer: which offer, how often, how much.
type applied struct {
	id     int64
	freq   int
	amount string
}

type pricingCase struct {
	name   string
	lines  []commerce.PriceLine
	offers []commerce.Offer
	buyer  *commerce.Buyer
	// want is each SKU's discount; SKUs not named expect 0.00.
	want map[string]string
	// applied are the offers that applied, in the order they applied.
	applied []applied
}

func mustPrice(t *testing.T, lines []commerce.PriceLine, offers []commerce.Offer, buyer commerce.Buyer) commerce.Pricing {
	t.Helper()
	p, err := commerce.PriceBasket(lines, offers, buyer, testNow)
	require.NoError(t, err)
	return p
}

// discountsBySKU renders each line's discount.
func discountsBySKU(p commerce.Pricing) map[string]string {
	out := map[string]string{}
	for _, l := range p.Lines {
		out[l.SKU] = commerce.FormatMoney(l.Discount)
	}
	return out
}

func appliedOf(p commerce.Pricing) []applied {
	out := []applied{}
	for _, a := range p.Offers {
		out = append(out, applied{id: a.OfferID, freq: a.Frequency, amount: commerce.FormatMoney(a.Amount)})
	}
	return out
}

// runPricingCases prices each case, compares per-SKU discounts and applied offers, checks the
// invariants, and prices the lines again in reverse order expecting the same result.
func runPricingCases(t *testing.T, cases []pricingCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buyer := signedIn
			if c.buyer != nil {
				buyer = *c.buyer
			}
			p := mustPrice(t, c.lines, c.offers, buyer)
			want := map[string]string{}
			for _, l := range c.lines {
				want[l.SKU] = "0.00"
			}
			for sku, d := range c.want {
				want[sku] = d
			}
			require.Equal(t, want, discountsBySKU(p), "per-SKU discounts")
			wantApplied := c.applied
			if wantApplied == nil {
				wantApplied = []applied{}
			}
			require.Equal(t, wantApplied, appliedOf(p), "applied offers")
			requireInvariants(t, c.lines, p, true)

			reversed := slices.Clone(c.lines)
			slices.Reverse(reversed)
			r := mustPrice(t, reversed, c.offers, buyer)
			require.Equal(t, want, discountsBySKU(r), "per-SKU discounts, lines reversed")
			require.Equal(t, wantApplied, appliedOf(r), "applied offers, lines reversed")
		})
	}
}

// twoDecimals reports whether d has at most two decimals.
func twoDecimals(d decimal.Decimal) bool { return d.Equal(d.Truncate(2)) }

// requireInvariants checks what must hold of every priced basket. exactAmounts also requires
// the applied offers' amounts to sum to the line discounts (see TestProRataSplitIsExactAndCapped).
func requireInvariants(t *testing.T, lines []commerce.PriceLine, p commerce.Pricing, exactAmounts bool) {
	t.Helper()
	require.Len(t, p.Lines, len(lines))
	before, lineSum := decimal.Zero, decimal.Zero
	for i, l := range p.Lines {
		require.Equal(t, lines[i].SKU, l.SKU, "lines keep their order")
		total := lines[i].UnitPrice.Mul(decimal.NewFromInt(int64(lines[i].Quantity)))
		require.True(t, l.LinePriceBeforeDiscounts.Equal(total), "line %s before discounts", l.SKU)
		require.False(t, l.Discount.IsNegative(), "line %s discount %s is negative", l.SKU, l.Discount)
		require.True(t, l.Discount.LessThanOrEqual(total), "line %s discount %s above its price %s", l.SKU, l.Discount, total)
		require.True(t, l.LinePrice.Equal(total.Sub(l.Discount)), "line %s price", l.SKU)
		require.True(t, twoDecimals(l.Discount), "line %s discount %s", l.SKU, l.Discount)
		require.True(t, twoDecimals(l.LinePrice), "line %s price %s", l.SKU, l.LinePrice)
		before = before.Add(total)
		lineSum = lineSum.Add(l.Discount)
	}
	appliedSum := decimal.Zero
	for _, a := range p.Offers {
		require.Positive(t, a.Frequency, "offer %d", a.OfferID)
		require.True(t, a.Amount.IsPositive(), "offer %d amount %s", a.OfferID, a.Amount)
		require.True(t, twoDecimals(a.Amount), "offer %d amount %s", a.OfferID, a.Amount)
		appliedSum = appliedSum.Add(a.Amount)
	}
	tt := p.Totals
	require.Equal(t, commerce.FormatMoney(before), commerce.FormatMoney(tt.TotalInclTaxExclDiscounts), "total before discounts")
	require.Equal(t, commerce.FormatMoney(lineSum), commerce.FormatMoney(tt.TotalDiscount), "TotalDiscount = sum of line discounts")
	require.Equal(t, commerce.FormatMoney(before.Sub(lineSum)), commerce.FormatMoney(tt.TotalInclTax), "TotalInclTax = before - discount")
	require.False(t, tt.TotalInclTax.IsNegative(), "total %s is negative", tt.TotalInclTax)
	require.True(t, tt.TotalInclTax.LessThanOrEqual(tt.TotalInclTaxExclDiscounts), "total above the undiscounted total")
	for _, d := range []decimal.Decimal{tt.TotalInclTax, tt.TotalDiscount, tt.TotalInclTaxExclDiscounts} {
		require.True(t, twoDecimals(d), "total %s", d)
	}
	// The offers never give less than the lines received (the engine clamps a line at zero).
	require.True(t, appliedSum.GreaterThanOrEqual(lineSum), "applied %s < line discounts %s", appliedSum, lineSum)
	if exactAmounts {
		require.Equal(t, commerce.FormatMoney(lineSum), commerce.FormatMoney(appliedSum), "sum of applied offer amounts = sum of line discounts")
	}
}

func TestPercentageBenefit(t *testing.T) {
	t.Parallel()
	runPricingCases(t, []pricingCase{
		{name: "33% of 9.99 rounds down to 3.29", lines: []commerce.PriceLine{ln("A", "9.99", 1)},
			offers: []commerce.Offer{pct(1, "33")}, want: map[string]string{"A": "3.29"}, applied: []applied{{1, 1, "3.29"}}},
		{name: "each line rounds down on its own", lines: []commerce.PriceLine{ln("A", "9.99", 1), ln("B", "0.99", 1)},
			// 3.2967 -> 3.29 and 0.3267 -> 0.32: 3.61, not ROUND_DOWN(3.6234) = 3.62.
			offers: []commerce.Offer{pct(1, "33")}, want: map[string]string{"A": "3.29", "B": "0.32"}, applied: []applied{{1, 1, "3.61"}}},
		{name: "a line rounds price x quantity, not each unit", lines: []commerce.PriceLine{ln("A", "9.99", 3)},
			// 33% of 29.97 = 9.8901 -> 9.89 (3 x 3.29 would be 9.87).
			offers: []commerce.Offer{pct(1, "33")}, want: map[string]string{"A": "9.89"}, applied: []applied{{1, 1, "9.89"}}},
		{name: "fractional percentage", lines: []commerce.PriceLine{ln("A", "49.00", 1)},
			// 12.5% of 49.00 = 6.125 -> 6.12.
			offers: []commerce.Offer{pct(1, "12.5")}, want: map[string]string{"A": "6.12"}, applied: []applied{{1, 1, "6.12"}}},
		{name: "100% takes the whole price", lines: []commerce.PriceLine{ln("A", "49.00", 1)},
			offers: []commerce.Offer{pct(1, "100")}, want: map[string]string{"A": "49.00"}, applied: []applied{{1, 1, "49.00"}}},
		{name: "150% is capped at 100%", lines: []commerce.PriceLine{ln("A", "49.00", 1), ln("B", "0.01", 2)},
			offers: []commerce.Offer{pct(1, "150")}, want: map[string]string{"A": "49.00", "B": "0.02"}, applied: []applied{{1, 1, "49.02"}}},
		{name: "0% gives nothing and is not applied", lines: []commerce.PriceLine{ln("A", "49.00", 1)},
			offers: []commerce.Offer{pct(1, "0")}},
		{name: "a discount that rounds to zero is not applied", lines: []commerce.PriceLine{ln("A", "0.01", 1)},
			offers: []commerce.Offer{pct(1, "50")}},
		{name: "zero-price lines are skipped and unaffected", lines: []commerce.PriceLine{ln("A", "0.00", 2), ln("B", "50.00", 1)},
			offers: []commerce.Offer{pct(1, "100")}, want: map[string]string{"B": "50.00"}, applied: []applied{{1, 1, "50.00"}}},
		{name: "a free line is never the cheapest affected item", lines: []commerce.PriceLine{ln("A", "0.00", 1), ln("B", "50.00", 1), ln("C", "60.00", 1)},
			offers: []commerce.Offer{pct(1, "50", maxItems(1), basketApps(1))}, want: map[string]string{"B": "25.00"}, applied: []applied{{1, 1, "25.00"}}},
		{name: "max_affected_items=1 discounts only the cheapest unit", lines: []commerce.PriceLine{ln("A", "30.00", 1), ln("B", "10.00", 1), ln("C", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "50", maxItems(1), basketApps(1))}, want: map[string]string{"B": "5.00"}, applied: []applied{{1, 1, "5.00"}}},
		{name: "MaxBasketApplications=2 discounts the two cheapest units", lines: []commerce.PriceLine{ln("A", "30.00", 1), ln("B", "10.00", 1), ln("C", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "50", maxItems(1), basketApps(2))}, want: map[string]string{"B": "5.00", "C": "10.00"}, applied: []applied{{1, 2, "15.00"}}},
		{name: "without a basket limit it repeats while items remain", lines: []commerce.PriceLine{ln("A", "30.00", 1), ln("B", "10.00", 1), ln("C", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "50", maxItems(1))}, want: map[string]string{"A": "15.00", "B": "5.00", "C": "10.00"}, applied: []applied{{1, 3, "30.00"}}},
		{name: "max_affected_items=2 with Count 1, applied once", lines: []commerce.PriceLine{ln("A", "30.00", 1), ln("B", "10.00", 1), ln("C", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "10", maxItems(2), basketApps(1))}, want: map[string]string{"B": "1.00", "C": "2.00"}, applied: []applied{{1, 1, "3.00"}}},
		{name: "max_affected_items counts units of one line", lines: []commerce.PriceLine{ln("A", "10.00", 5)},
			offers: []commerce.Offer{pct(1, "10", maxItems(3), basketApps(1))}, want: map[string]string{"A": "3.00"}, applied: []applied{{1, 1, "3.00"}}},
		{name: "a non-exclusive offer repeats too", lines: []commerce.PriceLine{ln("A", "30.00", 1), ln("B", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "50", maxItems(1), nonExclusive)}, want: map[string]string{"A": "15.00", "B": "5.00"}, applied: []applied{{1, 2, "20.00"}}},
	})
}

func TestAbsoluteBenefit(t *testing.T) {
	t.Parallel()
	runPricingCases(t, []pricingCase{
		{name: "500 off a 49.00 basket gives 49.00", lines: []commerce.PriceLine{ln("A", "49.00", 1)},
			offers: []commerce.Offer{abs(1, "500")}, want: map[string]string{"A": "49.00"}, applied: []applied{{1, 1, "49.00"}}},
		{name: "10.00 off three 10.00 lines: 3.33, 3.33, remainder 3.34 on the last", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "10.00", 1), ln("C", "10.00", 1)},
			offers: []commerce.Offer{abs(1, "10")}, want: map[string]string{"A": "3.33", "B": "3.33", "C": "3.34"}, applied: []applied{{1, 1, "10.00"}}},
		{name: "pro rata, exact", lines: []commerce.PriceLine{ln("A", "50.00", 1), ln("B", "20.00", 1), ln("C", "30.00", 1)},
			offers: []commerce.Offer{abs(1, "10")}, want: map[string]string{"A": "5.00", "B": "2.00", "C": "3.00"}, applied: []applied{{1, 1, "10.00"}}},
		{name: "pro rata rounds down, remainder on the most expensive line", lines: []commerce.PriceLine{ln("A", "4.00", 1), ln("B", "1.00", 1), ln("C", "2.00", 1)},
			// 1/7 -> 0.14, 2/7 -> 0.28, the 4.00 line takes 1.00 - 0.42 = 0.58.
			offers: []commerce.Offer{abs(1, "1")}, want: map[string]string{"A": "0.58", "B": "0.14", "C": "0.28"}, applied: []applied{{1, 1, "1.00"}}},
		{name: "pro rata by price x quantity", lines: []commerce.PriceLine{ln("A", "5.00", 2), ln("B", "10.00", 1)},
			offers: []commerce.Offer{abs(1, "4")}, want: map[string]string{"A": "2.00", "B": "2.00"}, applied: []applied{{1, 1, "4.00"}}},
		{name: "a value with more than two decimals is rounded down", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{abs(1, "1.239")}, want: map[string]string{"A": "1.23"}, applied: []applied{{1, 1, "1.23"}}},
		{name: "capped at the affected items, max_affected_items=1", lines: []commerce.PriceLine{ln("A", "20.00", 1), ln("B", "10.00", 1)},
			offers: []commerce.Offer{abs(1, "15", maxItems(1), basketApps(1))}, want: map[string]string{"B": "10.00"}, applied: []applied{{1, 1, "10.00"}}},
		{name: "free lines take no share", lines: []commerce.PriceLine{ln("A", "0.00", 1), ln("B", "10.00", 1), ln("C", "30.00", 1)},
			offers: []commerce.Offer{abs(1, "8")}, want: map[string]string{"B": "2.00", "C": "6.00"}, applied: []applied{{1, 1, "8.00"}}},
		{name: "only lines in range share it", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "30.00", 1)},
			offers: []commerce.Offer{abs(1, "100", rng(commerce.Range{ProductIDs: []int64{1}}))}, want: map[string]string{"A": "10.00"}, applied: []applied{{1, 1, "10.00"}}},
		{name: "repeated applications each take the cheapest unit", lines: []commerce.PriceLine{ln("A", "30.00", 1), ln("B", "10.00", 1), ln("C", "20.00", 1)},
			offers: []commerce.Offer{abs(1, "15", maxItems(1), basketApps(2))}, want: map[string]string{"B": "10.00", "C": "15.00"}, applied: []applied{{1, 2, "25.00"}}},
	})
}

func TestFixedPriceBenefit(t *testing.T) {
	t.Parallel()
	runPricingCases(t, []pricingCase{
		{name: "sum - value, split pro rata", lines: []commerce.PriceLine{ln("A", "20.00", 1), ln("B", "30.00", 1), ln("C", "50.00", 1)},
			offers: []commerce.Offer{fixed(1, "60")}, want: map[string]string{"A": "8.00", "B": "12.00", "C": "20.00"}, applied: []applied{{1, 1, "40.00"}}},
		{name: "split rounds down, remainder on the last", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "10.00", 1), ln("C", "10.00", 1)},
			offers: []commerce.Offer{fixed(1, "20")}, want: map[string]string{"A": "3.33", "B": "3.33", "C": "3.34"}, applied: []applied{{1, 1, "10.00"}}},
		{name: "fixed price above the sum gives no discount", lines: []commerce.PriceLine{ln("A", "30.00", 1), ln("B", "40.00", 1)},
			offers: []commerce.Offer{fixed(1, "200")}},
		{name: "fixed price equal to the sum gives no discount", lines: []commerce.PriceLine{ln("A", "30.00", 1), ln("B", "40.00", 1)},
			offers: []commerce.Offer{fixed(1, "70")}},
		{name: "fixed price 0 on one line makes it free", lines: []commerce.PriceLine{ln("A", "49.99", 1)},
			offers: []commerce.Offer{fixed(1, "0")}, want: map[string]string{"A": "49.99"}, applied: []applied{{1, 1, "49.99"}}},
		{name: "only the affected items are priced together", lines: []commerce.PriceLine{ln("A", "8.00", 1), ln("B", "9.00", 1), ln("C", "50.00", 1)},
			// 8 + 9 for 10.00: 7.00 off, 8/17 x 7 = 3.294 -> 3.29, the 9.00 line takes 3.71.
			offers: []commerce.Offer{fixed(1, "10", maxItems(2), basketApps(1))}, want: map[string]string{"A": "3.29", "B": "3.71"}, applied: []applied{{1, 1, "7.00"}}},
		{name: "quantities count", lines: []commerce.PriceLine{ln("A", "10.00", 3)},
			offers: []commerce.Offer{fixed(1, "25")}, want: map[string]string{"A": "5.00"}, applied: []applied{{1, 1, "5.00"}}},
	})
}

func TestConditions(t *testing.T) {
	t.Parallel()
	onlyA := rng(commerce.Range{ProductIDs: []int64{1}})
	runPricingCases(t, []pricingCase{
		{name: "Count 2 unmet by one item", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "10", cond(count(2)))}},
		{name: "Count 2 met by two units of one line", lines: []commerce.PriceLine{ln("A", "10.00", 2)},
			offers: []commerce.Offer{pct(1, "10", cond(count(2)))}, want: map[string]string{"A": "2.00"}, applied: []applied{{1, 1, "2.00"}}},
		{name: "Count 2 met by two lines", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "10", cond(count(2)))}, want: map[string]string{"A": "1.00", "B": "2.00"}, applied: []applied{{1, 1, "3.00"}}},
		{name: "Count counts only items in range", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "10", cond(count(2)), onlyA)}},
		{name: "Count 2 with max_affected_items=1 consumes both items: applies once", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "50", cond(count(2)), maxItems(1))}, want: map[string]string{"A": "5.00"}, applied: []applied{{1, 1, "5.00"}}},
		{name: "Count 2 applies twice to four items", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "20.00", 1), ln("C", "30.00", 1), ln("D", "40.00", 1)},
			offers: []commerce.Offer{pct(1, "100", cond(count(2)), maxItems(1))}, want: map[string]string{"A": "10.00", "C": "30.00"}, applied: []applied{{1, 2, "40.00"}}},
		{name: "Value 100 unmet by 99.99", lines: []commerce.PriceLine{ln("A", "99.99", 1)},
			offers: []commerce.Offer{pct(1, "10", cond(value("100")))}},
		{name: "Value 100 met by exactly 100.00", lines: []commerce.PriceLine{ln("A", "100.00", 1)},
			offers: []commerce.Offer{pct(1, "10", cond(value("100")))}, want: map[string]string{"A": "10.00"}, applied: []applied{{1, 1, "10.00"}}},
		{name: "Value met by several lines and quantities", lines: []commerce.PriceLine{ln("A", "20.00", 2), ln("B", "60.00", 1)},
			offers: []commerce.Offer{pct(1, "10", cond(value("100")))}, want: map[string]string{"A": "4.00", "B": "6.00"}, applied: []applied{{1, 1, "10.00"}}},
		{name: "Value counts only items in range", lines: []commerce.PriceLine{ln("A", "60.00", 1), ln("B", "60.00", 1)},
			offers: []commerce.Offer{pct(1, "10", cond(value("100")), onlyA)}},
		{name: "Coverage 2 unmet by one product, whatever the quantity", lines: []commerce.PriceLine{ln("A", "10.00", 3)},
			offers: []commerce.Offer{pct(1, "10", cond(coverage(2)))}},
		{name: "Coverage 2 unmet by two lines of one product", lines: []commerce.PriceLine{
			{SKU: "A1", ProductID: 7, UnitPrice: dec("10.00"), Quantity: 1, Currency: "USD"},
			{SKU: "A2", ProductID: 7, UnitPrice: dec("20.00"), Quantity: 1, Currency: "USD"}},
			offers: []commerce.Offer{pct(1, "10", cond(coverage(2)))}},
		{name: "Coverage 2 met by two products", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "10", cond(coverage(2)))}, want: map[string]string{"A": "1.00", "B": "2.00"}, applied: []applied{{1, 1, "3.00"}}},
		{name: "a seat-type range sees only seats of that type", lines: []commerce.PriceLine{
			seatLn("V", 1, "verified", "49.00"), seatLn("P", 2, "professional", "100.00"), seatLn("U", 3, "", "0.00"),
			{SKU: "E", ProductID: 4, Class: commerce.ClassCourseEntitlement, CertificateType: "verified", UnitPrice: dec("80.00"), Quantity: 1, Currency: "USD"}},
			offers: []commerce.Offer{pct(1, "50", cond(coverage(1)), rng(commerce.Range{SeatTypes: []string{"verified"}}))},
			want:   map[string]string{"V": "24.50"}, applied: []applied{{1, 1, "24.50"}}},
		{name: "an empty basket meets nothing", offers: []commerce.Offer{pct(1, "10", cond(count(0))), pct(2, "10", cond(value("0")))}},
	})
}

func TestPriorityAndExclusivity(t *testing.T) {
	t.Parallel()
	runPricingCases(t, []pricingCase{
		{name: "higher priority first takes the item", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "50", priority(10)), pct(2, "30", priority(20))},
			want:   map[string]string{"A": "3.00"}, applied: []applied{{2, 1, "3.00"}}},
		{name: "equal priority: lower id first", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(2, "50"), pct(1, "30")},
			want:   map[string]string{"A": "3.00"}, applied: []applied{{1, 1, "3.00"}}},
		{name: "exclusive consumes its items so a later non-exclusive gets nothing", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "10", priority(20)), pct(2, "50", priority(10), nonExclusive)},
			want:   map[string]string{"A": "1.00"}, applied: []applied{{1, 1, "1.00"}}},
		{name: "an exclusive offer cannot use items a non-exclusive one took", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "10", priority(20), nonExclusive), pct(2, "50", priority(10))},
			want:   map[string]string{"A": "1.00"}, applied: []applied{{1, 1, "1.00"}}},
		{name: "two non-exclusive offers both discount the same item", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			// The second takes 60% of what is left (4.00).
			offers: []commerce.Offer{pct(1, "60", priority(20), nonExclusive), pct(2, "60", priority(10), nonExclusive)},
			want:   map[string]string{"A": "8.40"}, applied: []applied{{1, 1, "6.00"}, {2, 1, "2.40"}}},
		{name: "stacked absolutes never take a line below zero", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{abs(1, "8", priority(20), nonExclusive), abs(2, "8", priority(10), nonExclusive)},
			want:   map[string]string{"A": "10.00"}, applied: []applied{{1, 1, "8.00"}, {2, 1, "2.00"}}},
		{name: "after a 100% non-exclusive offer nothing is left", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "100", priority(20), nonExclusive), pct(2, "100", priority(10), nonExclusive), abs(3, "5", nonExclusive)},
			want:   map[string]string{"A": "10.00"}, applied: []applied{{1, 1, "10.00"}}},
		{name: "exclusive offers share a basket on different items", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "50", priority(20), maxItems(1), basketApps(1)), pct(2, "10", priority(10))},
			want:   map[string]string{"A": "5.00", "B": "2.00"}, applied: []applied{{1, 1, "5.00"}, {2, 1, "2.00"}}},
		{name: "ranges decide which items each offer sees", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "20.00", 1)},
			offers: []commerce.Offer{pct(1, "50", rng(commerce.Range{ProductIDs: []int64{2}})), pct(2, "10", rng(commerce.Range{ProductIDs: []int64{1, 2}}))},
			want:   map[string]string{"A": "1.00", "B": "10.00"}, applied: []applied{{1, 1, "10.00"}, {2, 1, "1.00"}}},
	})
}

func TestOfferLimitsInPricing(t *testing.T) {
	t.Parallel()
	three := []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "10.00", 1), ln("C", "10.00", 1)}
	runPricingCases(t, []pricingCase{
		{name: "a budget caps a percentage: 5.00 left on 20% of 100", lines: []commerce.PriceLine{ln("A", "100.00", 1)},
			offers: []commerce.Offer{pct(1, "20", budget("50", "45"))}, want: map[string]string{"A": "5.00"}, applied: []applied{{1, 1, "5.00"}}},
		{name: "a budget caps a percentage over several lines, cheapest first", lines: []commerce.PriceLine{ln("A", "20.00", 1), ln("B", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "50", budget("8", "0"))}, want: map[string]string{"A": "3.00", "B": "5.00"}, applied: []applied{{1, 1, "8.00"}}},
		{name: "a budget caps an absolute", lines: []commerce.PriceLine{ln("A", "100.00", 1)},
			offers: []commerce.Offer{abs(1, "30", budget("20", "7.66"))}, want: map[string]string{"A": "12.34"}, applied: []applied{{1, 1, "12.34"}}},
		{name: "a budget caps a fixed price", lines: []commerce.PriceLine{ln("A", "100.00", 1)},
			offers: []commerce.Offer{fixed(1, "10", budget("25", "0"))}, want: map[string]string{"A": "25.00"}, applied: []applied{{1, 1, "25.00"}}},
		{name: "a budget caps repeated applications", lines: three,
			offers: []commerce.Offer{pct(1, "50", maxItems(1), budget("12", "0"))}, want: map[string]string{"A": "5.00", "B": "5.00", "C": "2.00"}, applied: []applied{{1, 3, "12.00"}}},
		{name: "a spent budget gives nothing", lines: three, offers: []commerce.Offer{pct(1, "50", budget("12", "12"))}},
		{name: "an overspent budget gives nothing", lines: three, offers: []commerce.Offer{abs(1, "5", budget("12", "13"))}},
		{name: "global applications left: 1", lines: three,
			offers: []commerce.Offer{pct(1, "50", maxItems(1), func(o *commerce.Offer) { o.MaxGlobalApplications, o.NumApplications = intp(5), 4 })},
			want:   map[string]string{"A": "5.00"}, applied: []applied{{1, 1, "5.00"}}},
		{name: "global applications used up", lines: three,
			offers: []commerce.Offer{pct(1, "50", func(o *commerce.Offer) { o.MaxGlobalApplications, o.NumApplications = intp(5), 5 })}},
		{name: "user applications left: 2", lines: three,
			offers: []commerce.Offer{pct(1, "50", maxItems(1), func(o *commerce.Offer) { o.MaxUserApplications, o.UserApplications = intp(3), 1 })},
			want:   map[string]string{"A": "5.00", "B": "5.00"}, applied: []applied{{1, 2, "10.00"}}},
		{name: "user applications used up", lines: three,
			offers: []commerce.Offer{pct(1, "50", func(o *commerce.Offer) { o.MaxUserApplications, o.UserApplications = intp(1), 1 })}},
		{name: "suspended and consumed offers are skipped", lines: three,
			offers: []commerce.Offer{
				pct(1, "50", func(o *commerce.Offer) { o.Status = commerce.OfferSuspended }),
				pct(2, "50", func(o *commerce.Offer) { o.Status = commerce.OfferConsumed }),
				pct(3, "10", func(o *commerce.Offer) { o.Status = "" }),
			}},
		{name: "start is inclusive", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "10", func(o *commerce.Offer) { o.Start = timep(testNow) })},
			want:   map[string]string{"A": "1.00"}, applied: []applied{{1, 1, "1.00"}}},
		{name: "not started yet", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "10", func(o *commerce.Offer) { o.Start = timep(testNow.Add(time.Nanosecond)) })}},
		{name: "end is exclusive", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "10", func(o *commerce.Offer) { o.End = timep(testNow) })}},
		{name: "not ended yet", lines: []commerce.PriceLine{ln("A", "10.00", 1)},
			offers: []commerce.Offer{pct(1, "10", func(o *commerce.Offer) {
				o.Start, o.End = timep(testNow.Add(-time.Hour)), timep(testNow.Add(time.Nanosecond))
			})},
			want: map[string]string{"A": "1.00"}, applied: []applied{{1, 1, "1.00"}}},
	})
}

func TestEmailDomainsInPricing(t *testing.T) {
	t.Parallel()
	lines := []commerce.PriceLine{ln("A", "10.00", 1)}
	restricted := []commerce.Offer{pct(1, "10", domains("example.com"))}
	got := map[string]string{"A": "1.00"}
	yes := []applied{{1, 1, "1.00"}}
	runPricingCases(t, []pricingCase{
		{name: "same domain", lines: lines, offers: restricted, buyer: &commerce.Buyer{Email: "a@example.com"}, want: got, applied: yes},
		{name: "subdomain", lines: lines, offers: restricted, buyer: &commerce.Buyer{Email: "a@sub.example.com"}, want: got, applied: yes},
		{name: "case-insensitive", lines: lines, offers: restricted, buyer: &commerce.Buyer{Email: "A@SUB.Example.COM"}, want: got, applied: yes},
		{name: "one of several domains", lines: lines, offers: []commerce.Offer{pct(1, "10", domains("other.org", "example.com"))},
			buyer: &commerce.Buyer{Email: "a@example.com"}, want: got, applied: yes},
		{name: "a suffix that is not a subdomain", lines: lines, offers: restricted, buyer: &commerce.Buyer{Email: "a@badexample.com"}},
		{name: "another domain", lines: lines, offers: restricted, buyer: &commerce.Buyer{Email: "a@example.org"}},
		{name: "the domain only as a prefix", lines: lines, offers: restricted, buyer: &commerce.Buyer{Email: "a@example.com.evil.org"}},
		{name: "signed in without an email", lines: lines, offers: restricted, buyer: &commerce.Buyer{}},
		{name: "anonymous, even with a matching email", lines: lines, offers: restricted, buyer: &commerce.Buyer{Email: "a@example.com", Anonymous: true}},
		{name: "anonymous buyers get unrestricted offers", lines: lines, offers: []commerce.Offer{pct(1, "10")},
			buyer: &commerce.Buyer{Anonymous: true}, want: got, applied: yes},
	})
}

func TestPriceBasketMixedCurrenciesIsInvalid(t *testing.T) {
	t.Parallel()
	eur := ln("B", "10.00", 1)
	eur.Currency = "EUR"
	_, err := commerce.PriceBasket([]commerce.PriceLine{ln("A", "10.00", 1), eur}, []commerce.Offer{pct(1, "10")}, signedIn, testNow)
	require.Error(t, err)
	require.Equal(t, commerce.EInvalid, commerce.ErrorCodeOf(err))
	var e *commerce.Error
	require.ErrorAs(t, err, &e)
	require.NotEmpty(t, e.UserMessage)
}

func TestPriceBasketTotalsAndAppliedOffer(t *testing.T) {
	t.Parallel()
	o := abs(7, "15", func(o *commerce.Offer) {
		o.Name, o.Type, o.VoucherID, o.VoucherCode, o.Priority = "Coupon [3]-Absolute-15", commerce.OfferVoucher, 42, "SAVE15", 20
	})
	lines := []commerce.PriceLine{ln("B", "49.00", 2), ln("A", "12.50", 1), ln("C", "0.00", 1)}
	lines[0].Currency, lines[1].Currency, lines[2].Currency = "EUR", "EUR", "EUR"
	p := mustPrice(t, lines, []commerce.Offer{o}, signedIn)

	require.Equal(t, "EUR", p.Totals.Currency)
	require.Equal(t, "110.50", commerce.FormatMoney(p.Totals.TotalInclTaxExclDiscounts))
	require.Equal(t, "15.00", commerce.FormatMoney(p.Totals.TotalDiscount))
	require.Equal(t, "95.50", commerce.FormatMoney(p.Totals.TotalInclTax))

	// Lines stay in the order given, with before/discount/after.
	require.Equal(t, []string{"B", "A", "C"}, []string{p.Lines[0].SKU, p.Lines[1].SKU, p.Lines[2].SKU})
	// 12.50/110.50 x 15 = 1.696 -> 1.69; the 98.00 line takes 13.31.
	want := [][3]string{{"98.00", "13.31", "84.69"}, {"12.50", "1.69", "10.81"}, {"0.00", "0.00", "0.00"}}
	for i, l := range p.Lines {
		got := [3]string{commerce.FormatMoney(l.LinePriceBeforeDiscounts), commerce.FormatMoney(l.Discount), commerce.FormatMoney(l.LinePrice)}
		require.Equal(t, want[i], got, l.SKU)
		require.Equal(t, lines[i], l.PriceLine)
	}

	require.Len(t, p.Offers, 1)
	a := p.Offers[0]
	require.Equal(t, commerce.AppliedOffer{OfferID: 7, Name: "Coupon [3]-Absolute-15", Type: commerce.OfferVoucher, VoucherID: 42,
		VoucherCode: "SAVE15", BenefitType: commerce.BenefitAbsolute, BenefitValue: a.BenefitValue, Frequency: 1, Amount: a.Amount}, a)
	require.True(t, a.BenefitValue.Equal(dec("15")))
	require.Equal(t, "15.00", commerce.FormatMoney(a.Amount))
	require.Equal(t, "Coupon [3]-Absolute-15 x1 -15.00", a.String())
	requireInvariants(t, lines, p, true)
}

func TestPriceBasketWithoutOffersOrLines(t *testing.T) {
	t.Parallel()
	lines := []commerce.PriceLine{ln("A", "49.00", 1), ln("B", "0.10", 3)}
	p := mustPrice(t, lines, nil, signedIn)
	base, err := commerce.Price(lines)
	require.NoError(t, err)
	require.Equal(t, "49.30", commerce.FormatMoney(p.Totals.TotalInclTax))
	require.Equal(t, commerce.FormatMoney(base.TotalInclTax), commerce.FormatMoney(p.Totals.TotalInclTax))
	require.Equal(t, "0.00", commerce.FormatMoney(p.Totals.TotalDiscount))
	require.Empty(t, p.Offers)
	requireInvariants(t, lines, p, true)

	empty := mustPrice(t, nil, []commerce.Offer{pct(1, "50")}, signedIn)
	require.Equal(t, commerce.DefaultCurrency, empty.Totals.Currency)
	require.Equal(t, "0.00", commerce.FormatMoney(empty.Totals.TotalInclTax))
	require.Empty(t, empty.Lines)
	require.Empty(t, empty.Offers)
}

func TestPriceBasketDoesNotModifyItsInput(t *testing.T) {
	t.Parallel()
	lines := []commerce.PriceLine{ln("C", "30.00", 1), ln("A", "10.00", 2), ln("B", "20.00", 1)}
	offers := []commerce.Offer{pct(2, "10", priority(1)), abs(1, "5", priority(9), nonExclusive)}
	linesCopy, offersCopy := slices.Clone(lines), slices.Clone(offers)
	mustPrice(t, lines, offers, signedIn)
	require.Equal(t, linesCopy, lines)
	require.Equal(t, offersCopy, offers)
}

// TestProRataSplitIsExactAndCapped: the pro-rata split of an absolute or fixed-price discount
// gives each line its exact share rounded down, no line more than its price, and parts that
// sum exactly to the offer's amount.
func TestProRataSplitIsExactAndCapped(t *testing.T) {
	t.Parallel()
	runPricingCases(t, []pricingCase{
		{name: "exact shares stay exact", lines: []commerce.PriceLine{ln("A", "30.00", 1), ln("B", "40.00", 1), ln("C", "50.00", 1)},
			offers: []commerce.Offer{fixed(1, "60")}, want: map[string]string{"A": "15.00", "B": "20.00", "C": "25.00"}, applied: []applied{{1, 1, "60.00"}}},
		{name: "absolute 500 off three 1.00 lines makes the basket free", lines: []commerce.PriceLine{ln("A", "1.00", 1), ln("B", "1.00", 1), ln("C", "1.00", 1)},
			offers: []commerce.Offer{abs(1, "500")}, want: map[string]string{"A": "1.00", "B": "1.00", "C": "1.00"}, applied: []applied{{1, 1, "3.00"}}},
		{name: "absolute equal to the sum of three lines", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "10.00", 1), ln("C", "10.00", 1)},
			offers: []commerce.Offer{abs(1, "30")}, want: map[string]string{"A": "10.00", "B": "10.00", "C": "10.00"}, applied: []applied{{1, 1, "30.00"}}},
		{name: "fixed price 0 on three lines makes the basket free", lines: []commerce.PriceLine{ln("A", "10.00", 1), ln("B", "10.00", 1), ln("C", "10.00", 1)},
			offers: []commerce.Offer{fixed(1, "0")}, want: map[string]string{"A": "10.00", "B": "10.00", "C": "10.00"}, applied: []applied{{1, 1, "30.00"}}},
	})
	// Here the exact pro-rata shares (0.0466..) round down to 0.04 and the remainder (0.06) is
	// more than the last line's 0.05: some of it must go to the other lines.
	lines := []commerce.PriceLine{ln("A", "0.05", 1), ln("B", "0.05", 1), ln("C", "0.05", 1)}
	p := mustPrice(t, lines, []commerce.Offer{fixed(1, "0.01")}, signedIn)
	requireInvariants(t, lines, p, true)
	require.Equal(t, "0.14", commerce.FormatMoney(p.Totals.TotalDiscount))
	require.Equal(t, "0.01", commerce.FormatMoney(p.Totals.TotalInclTax))
}

// TestRepeatedApplicationsOnOneLine: each unit of a line is worth its unit price to an offer
// until a discount was given on that unit (ROUND_DOWN(pct/100 x unit_price x qty_affected)).
func TestRepeatedApplicationsOnOneLine(t *testing.T) {
	t.Parallel()
	runPricingCases(t, []pricingCase{
		{name: "100% on one unit per application, twice, on 2 x 10.00", lines: []commerce.PriceLine{ln("A", "10.00", 2)},
			offers: []commerce.Offer{pct(1, "100", maxItems(1), basketApps(2))}, want: map[string]string{"A": "20.00"}, applied: []applied{{1, 2, "20.00"}}},
		{name: "50% on one unit per application on 3 x 10.00", lines: []commerce.PriceLine{ln("A", "10.00", 3)},
			offers: []commerce.Offer{pct(1, "50", maxItems(1))}, want: map[string]string{"A": "15.00"}, applied: []applied{{1, 3, "15.00"}}},
		{name: "absolute 4.00 per unit on 2 x 10.00", lines: []commerce.PriceLine{ln("A", "10.00", 2)},
			offers: []commerce.Offer{abs(1, "4", maxItems(1))}, want: map[string]string{"A": "8.00"}, applied: []applied{{1, 2, "8.00"}}},
		{name: "a second exclusive offer on the unit the first left", lines: []commerce.PriceLine{ln("A", "10.00", 2)},
			offers: []commerce.Offer{pct(1, "100", priority(20), maxItems(1), basketApps(1)), pct(2, "50", priority(10))},
			want:   map[string]string{"A": "15.00"}, applied: []applied{{1, 1, "10.00"}, {2, 1, "5.00"}}},
	})
}

// ---- Property tests ----

var (
	genCerts   = []string{"verified", "professional", "credit"}
	genClasses = []commerce.ProductClass{commerce.ClassSeat, commerce.ClassSeat, commerce.ClassSeat, commerce.ClassCourseEntitlement, commerce.ClassEnrollmentCode}
	genEmails  = []commerce.Buyer{{Email: "a@example.com"}, {Email: "b@sub.example.com"}, {Email: "c@other.org"}, {Anonymous: true}}
)

// genMoney is an amount in [0, maxCents] cents.
func genMoney(r *rand.Rand, maxCents int64) decimal.Decimal {
	return decimal.New(r.Int64N(maxCents+1), -2)
}

func genLines(r *rand.Rand, seatTypes int) []commerce.PriceLine {
	n := 1 + r.IntN(6)
	lines := make([]commerce.PriceLine, n)
	for i := range lines {
		l := commerce.PriceLine{SKU: fmt.Sprintf("SKU%02d", i), ProductID: int64(1 + r.IntN(8)), Class: genClasses[r.IntN(len(genClasses))],
			Quantity: 1 + r.IntN(5), Currency: "USD"}
		switch k := r.IntN(10); {
		case k < 2:
			l.UnitPrice = decimal.Zero // free
		case k < 4:
			l.UnitPrice = genMoney(r, 200) // small: rounding edges
		default:
			l.UnitPrice = genMoney(r, 99999)
		}
		if r.IntN(5) > 0 {
			l.CertificateType = genCerts[r.IntN(seatTypes)]
		}
		lines[i] = l
	}
	return lines
}

func genOffers(r *rand.Rand, seatTypes int) []commerce.Offer {
	n := r.IntN(5)
	offers := make([]commerce.Offer, n)
	for i := range offers {
		o := commerce.Offer{ID: int64(i + 1), Name: fmt.Sprintf("gen %d", i+1), Type: commerce.OfferSite, Status: commerce.OfferOpen,
			Priority: []int{0, 10, 20, 100}[r.IntN(4)], Exclusive: r.IntN(2) == 0}
		switch r.IntN(4) {
		case 0, 1:
			o.Range = allProducts
		case 2:
			for range 1 + r.IntN(4) {
				o.Range.ProductIDs = append(o.Range.ProductIDs, int64(1+r.IntN(8)))
			}
		default:
			o.Range.SeatTypes = []string{genCerts[r.IntN(seatTypes)]}
		}
		switch r.IntN(3) {
		case 0:
			o.Condition = count(int64(r.IntN(4)))
		case 1:
			o.Condition = commerce.Condition{Type: commerce.ConditionValue, Value: genMoney(r, 50000)}
		default:
			o.Condition = coverage(int64(r.IntN(4)))
		}
		switch r.IntN(3) {
		case 0:
			o.Benefit = commerce.Benefit{Type: commerce.BenefitPercentage, Value: genMoney(r, 15000)}
		case 1:
			o.Benefit = commerce.Benefit{Type: commerce.BenefitAbsolute, Value: genMoney(r, 60000)}
		default:
			o.Benefit = commerce.Benefit{Type: commerce.BenefitFixedPrice, Value: genMoney(r, 60000)}
		}
		if r.IntN(2) == 0 {
			o.Benefit.MaxAffectedItems = 1 + r.IntN(3)
		}
		if r.IntN(3) == 0 {
			o.MaxBasketApplications = intp(1 + r.IntN(3))
		}
		if r.IntN(4) == 0 {
			o.MaxDiscount = decp(genMoney(r, 30000).String())
			o.TotalDiscount = genMoney(r, 10000)
		}
		if r.IntN(8) == 0 {
			o.MaxGlobalApplications, o.NumApplications = intp(1+r.IntN(5)), r.IntN(6)
		}
		if r.IntN(8) == 0 {
			o.MaxUserApplications, o.UserApplications = intp(1+r.IntN(3)), r.IntN(4)
		}
		switch r.IntN(12) {
		case 0:
			o.Status = commerce.OfferSuspended
		case 1:
			o.Status = commerce.OfferConsumed
		case 2:
			o.Start = timep(testNow.Add(time.Hour))
		case 3:
			o.End = timep(testNow)
		case 4:
			o.EmailDomains = []string{"example.com"}
		}
		offers[i] = o
	}
	return offers
}

// checkOffersRespectLimits checks each applied offer against its own limits.
func checkOffersRespectLimits(t *testing.T, lines []commerce.PriceLine, offers []commerce.Offer, buyer commerce.Buyer, p commerce.Pricing) {
	t.Helper()
	byID := map[int64]commerce.Offer{}
	for _, o := range offers {
		byID[o.ID] = o
	}
	inSomeRange := make([]bool, len(lines))
	for _, a := range p.Offers {
		o, ok := byID[a.OfferID]
		require.True(t, ok)
		require.Equal(t, commerce.OfferOpen, o.Status, "offer %d", o.ID)
		require.True(t, o.IsCurrent(testNow), "offer %d", o.ID)
		if len(o.EmailDomains) > 0 {
			require.False(t, buyer.Anonymous, "offer %d", o.ID)
			require.True(t, commerce.EmailDomainMatches(buyer.Email, o.EmailDomains), "offer %d", o.ID)
		}
		require.LessOrEqual(t, a.Frequency, o.MaxApplications(), "offer %d", o.ID)
		if o.MaxDiscount != nil {
			left := o.MaxDiscount.Sub(o.TotalDiscount)
			require.True(t, a.Amount.LessThanOrEqual(left), "offer %d amount %s above its budget %s", o.ID, a.Amount, left)
		}
		if o.Benefit.Type == commerce.BenefitPercentage {
			// Never more than pct (capped at 100) of the lines in its range.
			inRange := decimal.Zero
			for _, l := range lines {
				if o.Range.Contains(l) {
					inRange = inRange.Add(l.UnitPrice.Mul(decimal.NewFromInt(int64(l.Quantity))))
				}
			}
			require.True(t, a.Amount.LessThanOrEqual(decimal.Min(o.Benefit.Value, decimal.NewFromInt(100)).Div(decimal.NewFromInt(100)).Mul(inRange)),
				"offer %d: %s%% gave %s on %s", o.ID, o.Benefit.Value, a.Amount, inRange)
		}
		// Each application consumes at least one unit.
		require.LessOrEqual(t, a.Frequency, totalUnits(lines), "offer %d", o.ID)
		for i, l := range lines {
			if o.Range.Contains(l) {
				inSomeRange[i] = true
			}
		}
	}
	for i, l := range p.Lines {
		if !inSomeRange[i] || lines[i].UnitPrice.IsZero() {
			require.True(t, l.Discount.IsZero(), "line %s discounted %s by no offer in range", l.SKU, l.Discount)
		}
	}
}

// totalUnits is how many units the lines hold.
func totalUnits(lines []commerce.PriceLine) int {
	n := 0
	for _, l := range lines {
		n += l.Quantity
	}
	return n
}

type result struct {
	discounts map[string]string
	totals    [3]string
	applied   []applied
}

func resultOf(p commerce.Pricing) result {
	t := p.Totals
	return result{discounts: discountsBySKU(p), applied: appliedOf(p),
		totals: [3]string{t.TotalInclTaxExclDiscounts.String(), t.TotalDiscount.String(), t.TotalInclTax.String()}}
}

// runProperties prices generated baskets and checks the invariants; exactAmounts as in
// requireInvariants, or only for cases without absolute and fixed-price offers.
func runProperties(t *testing.T, seed uint64, cases int, exactAmounts bool) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	applied := 0
	for i := range cases {
		seatTypes := 1 + r.IntN(len(genCerts))
		lines, offers := genLines(r, seatTypes), genOffers(r, seatTypes)
		buyer := genEmails[r.IntN(len(genEmails))]
		name := fmt.Sprintf("seed %d case %d", seed, i)
		p, err := commerce.PriceBasket(lines, offers, buyer, testNow)
		require.NoError(t, err, name)
		exact := exactAmounts
		if !exact {
			exact = !slices.ContainsFunc(offers, func(o commerce.Offer) bool { return o.Benefit.Type != commerce.BenefitPercentage })
		}
		func() {
			defer func() {
				if t.Failed() {
					t.Logf("%s\nlines: %+v\noffers: %+v\nbuyer: %+v\npricing: %+v", name, lines, offers, buyer, p)
				}
			}()
			requireInvariants(t, lines, p, exact)
			checkOffersRespectLimits(t, lines, offers, buyer, p)
		}()
		if len(p.Offers) > 0 {
			applied++
		}

		// The order of the lines and of the offers does not matter.
		want := resultOf(p)
		for range 2 {
			shuffledLines, shuffledOffers := slices.Clone(lines), slices.Clone(offers)
			r.Shuffle(len(shuffledLines), func(a, b int) { shuffledLines[a], shuffledLines[b] = shuffledLines[b], shuffledLines[a] })
			r.Shuffle(len(shuffledOffers), func(a, b int) { shuffledOffers[a], shuffledOffers[b] = shuffledOffers[b], shuffledOffers[a] })
			q, err := commerce.PriceBasket(shuffledLines, shuffledOffers, buyer, testNow)
			require.NoError(t, err, name)
			require.Equal(t, want, resultOf(q), "%s: shuffled lines %+v", name, shuffledLines)
		}
	}
	// The generator must exercise the engine, not only baskets no offer touches.
	require.Greater(t, applied, cases/4, "too few generated baskets got a discount")
}

func TestPriceBasketProperties(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3, 20260301} {
		runProperties(t, seed, 1000, false)
	}
}

func TestPriceBasketPropertiesAppliedAmountsMatchLines(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3, 20260301} {
		runProperties(t, seed, 1000, true)
	}
}
