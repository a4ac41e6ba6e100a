package commerce

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Buyer is who a basket is priced for; an anonymous buyer has no email.
type Buyer struct {
	Email     string
	Anonymous bool
}

// PricingRequest is what to price: lines, the voucher applied (if any) and who buys (nil:
// anonymous).
type PricingRequest struct {
	Lines   []PriceLine
	Voucher *Voucher
	Buyer   *User
	// BasketID, when set, leaves the basket's own reservations out of the offers' usage.
	BasketID int64
}

// PricedLine is a line with the discount the offers gave it.
type PricedLine struct {
	PriceLine
	LinePriceBeforeDiscounts decimal.Decimal
	Discount                 decimal.Decimal
	LinePrice                decimal.Decimal
}

// Pricing is a basket priced with its offers.
type Pricing struct {
	// Lines are in the order they were given.
	Lines  []PricedLine
	Offers []AppliedOffer
	Totals Totals
}

// hundred is 100 as a decimal.
var hundred = decimal.NewFromInt(100)

// roundDown keeps two decimals, rounding towards zero (Oscar's ROUND_DOWN).
func roundDown(d decimal.Decimal) decimal.Decimal { return d.Truncate(2) }

// unitState is one unit of a line during pricing: the discount it got and who consumed it.
type unitState struct {
	discount   decimal.Decimal
	exclusive  bool           // consumed by an exclusive offer
	consumedBy map[int64]bool // non-exclusive offers that consumed it
}

// lineState is a line during pricing, unit by unit.
type lineState struct {
	line  PriceLine
	units []unitState
	total decimal.Decimal
}

// free reports whether offer o may still use unit u.
func (s *lineState) free(u int, o Offer) bool {
	unit := s.units[u]
	if unit.exclusive {
		return false
	}
	if o.Exclusive {
		return len(unit.consumedBy) == 0
	}
	return !unit.consumedBy[o.ID]
}

// unitPrice is what is left to pay for unit u.
func (s *lineState) unitPrice(u int) decimal.Decimal {
	return s.line.UnitPrice.Sub(s.units[u].discount)
}

func (s *lineState) consume(o Offer, u int) {
	if o.Exclusive {
		s.units[u].exclusive = true
		return
	}
	if s.units[u].consumedBy == nil {
		s.units[u].consumedBy = map[int64]bool{}
	}
	s.units[u].consumedBy[o.ID] = true
}

func (s *lineState) discount() decimal.Decimal {
	d := decimal.Zero
	for _, u := range s.units {
		d = d.Add(u.discount)
	}
	return d
}

// PriceBasket prices lines (one currency) with offers, as Oscar's applicator and benefits do:
// offers by priority (highest first, then id); each applies while its condition holds on the
// items it has not consumed, up to its allowance; lines are taken cheapest first and free lines
// skipped; each line's discount is rounded down to the cent; a percentage is capped at 100; an
// absolute or fixed-price benefit is split pro rata with the remainder on the last line; a
// discount budget caps the benefit; an exclusive offer's items are not shared with other offers.
// Offers that are not Open, not current, or not for the buyer's email domain are skipped. The
// result does not depend on the order of the lines, and totals are never negative.
func PriceBasket(lines []PriceLine, offers []Offer, buyer Buyer, now time.Time) (Pricing, error) {
	base, err := Price(lines)
	if err != nil {
		return Pricing{}, err
	}
	states := make([]*lineState, len(lines))
	for i, l := range lines {
		states[i] = &lineState{line: l, units: make([]unitState, max(l.Quantity, 0)), total: l.UnitPrice.Mul(decimal.NewFromInt(int64(l.Quantity)))}
	}
	// Cheapest first, with a total order so that the input order never matters.
	order := make([]*lineState, len(states))
	copy(order, states)
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i].line, order[j].line
		if c := a.UnitPrice.Cmp(b.UnitPrice); c != 0 {
			return c < 0
		}
		if a.SKU != b.SKU {
			return a.SKU < b.SKU
		}
		return a.ProductID < b.ProductID
	})
	sorted := make([]Offer, len(offers))
	copy(sorted, offers)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Priority != sorted[j].Priority {
			return sorted[i].Priority > sorted[j].Priority
		}
		return sorted[i].ID < sorted[j].ID
	})

	out := Pricing{}
	for _, o := range sorted {
		if o.Status != OfferOpen || !o.IsCurrent(now) {
			continue
		}
		if len(o.EmailDomains) > 0 && (buyer.Anonymous || !EmailDomainMatches(buyer.Email, o.EmailDomains)) {
			continue
		}
		applied := AppliedOffer{OfferID: o.ID, Name: o.Name, Type: o.Type, VoucherID: o.VoucherID, VoucherCode: o.VoucherCode,
			BenefitType: o.Benefit.Type, BenefitValue: o.Benefit.Value}
		budget := o.remainingBudget()
		for apps := o.MaxApplications(); applied.Frequency < apps; {
			d := applyOnce(o, order, budget)
			if d.IsZero() {
				break
			}
			applied.Frequency++
			applied.Amount = applied.Amount.Add(d)
			if budget != nil {
				left := budget.Sub(d)
				budget = &left
			}
		}
		if applied.Frequency > 0 {
			out.Offers = append(out.Offers, applied)
		}
	}

	out.Lines = make([]PricedLine, len(states))
	discount := decimal.Zero
	for i, s := range states {
		price := s.total.Sub(s.discount())
		if price.IsNegative() { // cannot happen: benefits never take more than a line's price
			price = decimal.Zero
		}
		out.Lines[i] = PricedLine{PriceLine: s.line, LinePriceBeforeDiscounts: s.total, Discount: s.total.Sub(price), LinePrice: price}
		discount = discount.Add(s.total.Sub(price))
	}
	out.Totals = base
	out.Totals.TotalDiscount = discount
	out.Totals.TotalInclTax = base.TotalInclTaxExclDiscounts.Sub(discount)
	if out.Totals.TotalInclTax.IsNegative() {
		out.Totals.TotalInclTax = decimal.Zero
	}
	return out, nil
}

// portion is some units of one line taken by one application.
type portion struct {
	s     *lineState
	units []int
}

// price is what is left to pay for the portion's units.
func (p portion) price() decimal.Decimal {
	total := decimal.Zero
	for _, u := range p.units {
		total = total.Add(p.s.unitPrice(u))
	}
	return total
}

// give spreads a discount (at most the portion's price) over its units, in proportion to what
// is left on each, rounded down, the cents left over going to the first units with room.
func (p portion) give(d decimal.Decimal) {
	total := p.price()
	if d.IsZero() || total.IsZero() {
		return
	}
	given := decimal.Zero
	for _, u := range p.units {
		share := roundDown(p.s.unitPrice(u).Mul(d).Div(total))
		p.s.units[u].discount = p.s.units[u].discount.Add(share)
		given = given.Add(share)
	}
	left := d.Sub(given)
	for _, u := range p.units {
		if !left.IsPositive() {
			break
		}
		take := decimal.Min(left, p.s.unitPrice(u))
		p.s.units[u].discount = p.s.units[u].discount.Add(take)
		left = left.Sub(take)
	}
}

// applyOnce applies the offer once if its condition holds on the units it may use, consumes
// the units it used and returns the discount given (zero when it did not apply).
func applyOnce(o Offer, order []*lineState, budget *decimal.Decimal) decimal.Decimal {
	// Units the offer may use, in range, priced above zero, cheapest lines first.
	var avail []portion
	for _, s := range order {
		if !o.Range.Contains(s.line) {
			continue
		}
		p := portion{s: s}
		for u := range s.units {
			if s.free(u, o) && s.unitPrice(u).IsPositive() {
				p.units = append(p.units, u)
			}
		}
		if len(p.units) > 0 {
			avail = append(avail, p)
		}
	}
	if !conditionHolds(o.Condition, avail) {
		return decimal.Zero
	}
	maxItems := o.Benefit.MaxAffectedItems
	if maxItems <= 0 {
		maxItems = MaxApplicationsCap
	}
	var affected []portion
	for _, p := range avail {
		if maxItems == 0 {
			break
		}
		n := min(len(p.units), maxItems)
		affected = append(affected, portion{s: p.s, units: p.units[:n]})
		maxItems -= n
	}
	discounts := benefitDiscounts(o.Benefit, affected, budget)
	total := decimal.Zero
	for i, d := range discounts {
		affected[i].give(d)
		total = total.Add(d)
	}
	if total.IsZero() {
		return total
	}
	consumeForCondition(o, avail, affected)
	return total
}

// conditionHolds checks a condition against the units an offer may use.
func conditionHolds(c Condition, avail []portion) bool {
	switch c.Type {
	case ConditionValue:
		worth := decimal.Zero
		for _, p := range avail {
			worth = worth.Add(p.price())
		}
		return len(avail) > 0 && worth.GreaterThanOrEqual(c.Value)
	case ConditionCoverage:
		products := map[int64]bool{}
		for _, p := range avail {
			products[p.s.line.ProductID] = true
		}
		return len(products) > 0 && decimal.NewFromInt(int64(len(products))).GreaterThanOrEqual(c.Value)
	default: // Count
		units := 0
		for _, p := range avail {
			units += len(p.units)
		}
		return units > 0 && decimal.NewFromInt(int64(units)).GreaterThanOrEqual(c.Value)
	}
}

// benefitDiscounts computes the discount of each affected portion, never more than its price.
func benefitDiscounts(b Benefit, affected []portion, budget *decimal.Decimal) []decimal.Decimal {
	out := make([]decimal.Decimal, len(affected))
	prices := make([]decimal.Decimal, len(affected))
	sum := decimal.Zero
	for i, p := range affected {
		prices[i] = p.price()
		sum = sum.Add(prices[i])
	}
	if sum.IsZero() {
		return out
	}
	switch b.Type {
	case BenefitPercentage:
		pct := decimal.Min(b.Value, hundred)
		for i := range affected {
			d := roundDown(pct.Mul(prices[i]).Div(hundred))
			if budget != nil {
				d = decimal.Min(d, *budget)
				left := budget.Sub(d)
				budget = &left
			}
			out[i] = d
		}
		return out
	case BenefitAbsolute, BenefitFixedPrice:
		var discount decimal.Decimal
		if b.Type == BenefitAbsolute {
			discount = decimal.Min(b.Value, sum)
		} else {
			discount = decimal.Max(sum.Sub(b.Value), decimal.Zero)
		}
		if budget != nil {
			discount = decimal.Min(discount, *budget)
		}
		discount = roundDown(discount)
		// Each part is its exact share rounded down; what rounding left over goes to the most
		// expensive lines first (the last ones), never beyond a line's price.
		given := decimal.Zero
		for i := range affected {
			out[i] = decimal.Min(roundDown(prices[i].Mul(discount).Div(sum)), prices[i])
			given = given.Add(out[i])
		}
		left := discount.Sub(given)
		for i := len(affected) - 1; i >= 0 && left.IsPositive(); i-- {
			take := decimal.Min(left, prices[i].Sub(out[i]))
			out[i] = out[i].Add(take)
			left = left.Sub(take)
		}
		return out
	}
	return out
}

// consumeForCondition marks the units an application used: the affected ones first, then as
// many more as the condition needs (Oscar's consume_items).
func consumeForCondition(o Offer, avail, affected []portion) {
	used := map[*lineState]map[int]bool{}
	mark := func(s *lineState, u int) {
		if used[s] == nil {
			used[s] = map[int]bool{}
		}
		used[s][u] = true
		s.consume(o, u)
	}
	count := 0
	worth := decimal.Zero
	covered := map[int64]bool{}
	for _, p := range affected {
		for _, u := range p.units {
			mark(p.s, u)
			count++
			worth = worth.Add(p.s.line.UnitPrice)
			covered[p.s.line.ProductID] = true
		}
	}
	satisfied := func() bool {
		switch o.Condition.Type {
		case ConditionValue:
			return worth.GreaterThanOrEqual(o.Condition.Value)
		case ConditionCoverage:
			return decimal.NewFromInt(int64(len(covered))).GreaterThanOrEqual(o.Condition.Value)
		default:
			return decimal.NewFromInt(int64(count)).GreaterThanOrEqual(o.Condition.Value)
		}
	}
	for _, p := range avail {
		for _, u := range p.units {
			if satisfied() {
				return
			}
			if used[p.s][u] || (o.Condition.Type == ConditionCoverage && covered[p.s.line.ProductID]) {
				continue
			}
			mark(p.s, u)
			count++
			worth = worth.Add(p.s.line.UnitPrice)
			covered[p.s.line.ProductID] = true
		}
	}
}
