package commerce

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// OfferType says how an offer reaches a basket: site offers apply by themselves, voucher offers
// through a code.
type OfferType string

// Offer types.
const (
	OfferSite    OfferType = "Site"
	OfferVoucher OfferType = "Voucher"
)

// OfferStatus is Open, Suspended (by staff) or Consumed (a limit was reached).
type OfferStatus string

// Offer statuses.
const (
	OfferOpen      OfferStatus = "Open"
	OfferSuspended OfferStatus = "Suspended"
	OfferConsumed  OfferStatus = "Consumed"
)

// ConditionType is what a basket must hold for an offer to apply.
type ConditionType string

// Condition types (Oscar's).
const (
	// ConditionCount needs at least Value items from the range.
	ConditionCount ConditionType = "Count"
	// ConditionValue needs the range's items to be worth at least Value.
	ConditionValue ConditionType = "Value"
	// ConditionCoverage needs at least Value distinct products from the range.
	ConditionCoverage ConditionType = "Coverage"
)

// BenefitType is what an offer takes off.
type BenefitType string

// Benefit types (Oscar's).
const (
	// BenefitPercentage takes Value percent (at most 100) off each affected item.
	BenefitPercentage BenefitType = "Percentage"
	// BenefitAbsolute takes Value off the affected items together, split pro rata.
	BenefitAbsolute BenefitType = "Absolute"
	// BenefitFixedPrice sells the affected items together for Value.
	BenefitFixedPrice BenefitType = "Fixed price"
)

// VoucherUsage is how often a voucher may be used.
type VoucherUsage string

// Voucher usages.
const (
	SingleUse           VoucherUsage = "Single use"
	MultiUse            VoucherUsage = "Multi-use"
	OncePerCustomer     VoucherUsage = "Once per customer"
	MultiUsePerCustomer VoucherUsage = "Multi-use-per-Customer"
)

// ValidVoucherUsage reports whether u is a known usage.
func ValidVoucherUsage(u VoucherUsage) bool {
	return u == SingleUse || u == MultiUse || u == OncePerCustomer || u == MultiUsePerCustomer
}

// MaxApplicationsCap bounds how often one offer applies to one basket (Oscar's 10000).
const MaxApplicationsCap = 10000

// SeatTypes are the seat types a range may name (credit is not combinable, as in edX).
var SeatTypes = []string{"verified", "professional", "credit"}

// Range is the set of products an offer's condition and benefit look at.
type Range struct {
	IncludesAllProducts bool
	ProductIDs          []int64
	// SeatTypes selects seats by certificate type (verified, professional, credit).
	SeatTypes []string
}

// Contains reports whether the range holds a line's product.
func (r Range) Contains(l PriceLine) bool {
	if r.IncludesAllProducts || slices.Contains(r.ProductIDs, l.ProductID) {
		return true
	}
	return l.Class == ClassSeat && l.CertificateType != "" && slices.Contains(r.SeatTypes, l.CertificateType)
}

// Condition is what a basket must hold.
type Condition struct {
	Type  ConditionType
	Value decimal.Decimal
}

// Benefit is what an offer takes off.
type Benefit struct {
	Type  BenefitType
	Value decimal.Decimal
	// MaxAffectedItems bounds how many items one application discounts; 0 means no bound.
	MaxAffectedItems int
}

// Offer is a conditional offer: a range, a condition, a benefit and limits. The usage fields
// are filled by the store with what has been used (consumed and reserved) so far.
type Offer struct {
	ID        int64
	Name      string
	Type      OfferType
	Priority  int
	Exclusive bool
	Status    OfferStatus
	Start     *time.Time
	End       *time.Time
	Range     Range
	Condition Condition
	Benefit   Benefit

	MaxGlobalApplications *int
	MaxUserApplications   *int
	MaxBasketApplications *int
	MaxDiscount           *decimal.Decimal
	EmailDomains          []string

	// Usage so far: applications by everyone and by the buyer, and the discount given.
	NumApplications  int
	UserApplications int
	TotalDiscount    decimal.Decimal
	NumOrders        int
	CreatedAt        time.Time

	// VoucherID and VoucherCode name the voucher that brought a voucher offer to the basket.
	VoucherID   int64
	VoucherCode string
}

// IsCurrent reports whether now is within the offer's dates (start inclusive, end exclusive).
func (o Offer) IsCurrent(now time.Time) bool {
	if o.Start != nil && now.Before(*o.Start) {
		return false
	}
	return o.End == nil || now.Before(*o.End)
}

// MaxApplications is how many more times the offer may apply to one basket of this buyer:
// the least of its basket, per-user and global allowances (and Oscar's cap), or 0 when its
// discount budget is spent.
func (o Offer) MaxApplications() int {
	n := MaxApplicationsCap
	if o.MaxBasketApplications != nil {
		n = min(n, *o.MaxBasketApplications)
	}
	if o.MaxUserApplications != nil {
		n = min(n, *o.MaxUserApplications-o.UserApplications)
	}
	if o.MaxGlobalApplications != nil {
		n = min(n, *o.MaxGlobalApplications-o.NumApplications)
	}
	if o.MaxDiscount != nil && o.TotalDiscount.GreaterThanOrEqual(*o.MaxDiscount) {
		n = 0
	}
	return max(n, 0)
}

// remainingBudget is what is left of the discount budget, or nil without a budget.
func (o Offer) remainingBudget() *decimal.Decimal {
	if o.MaxDiscount == nil {
		return nil
	}
	left := o.MaxDiscount.Sub(o.TotalDiscount)
	if left.IsNegative() {
		left = decimal.Zero
	}
	return &left
}

// Validate checks an offer's own rules, naming the offending field.
func (o Offer) Validate() error {
	switch o.Benefit.Type {
	case BenefitPercentage:
		if o.Benefit.Value.GreaterThan(decimal.NewFromInt(100)) {
			return FieldError("benefit_value", "A percentage benefit is at most 100.")
		}
	case BenefitAbsolute, BenefitFixedPrice:
	default:
		return FieldError("benefit_type", "%q is not Percentage, Absolute or Fixed price.", o.Benefit.Type)
	}
	if o.Benefit.Value.IsNegative() || !o.Benefit.Value.Equal(o.Benefit.Value.Truncate(2)) {
		return FieldError("benefit_value", "The benefit value must be a non-negative amount with at most two decimals.")
	}
	switch o.Condition.Type {
	case ConditionCount, ConditionValue, ConditionCoverage:
	default:
		return FieldError("condition_type", "%q is not Count, Value or Coverage.", o.Condition.Type)
	}
	if o.Condition.Value.IsNegative() {
		return FieldError("condition_value", "The condition value cannot be negative.")
	}
	if !o.Range.IncludesAllProducts && len(o.Range.ProductIDs) == 0 && len(o.Range.SeatTypes) == 0 {
		return FieldError("range", "An offer needs products, seat types or all products.")
	}
	for _, t := range o.Range.SeatTypes {
		if !slices.Contains(SeatTypes, t) {
			return FieldError("course_seat_types", "%q is not verified, professional or credit.", t)
		}
	}
	if slices.Contains(o.Range.SeatTypes, "credit") && len(o.Range.SeatTypes) > 1 {
		return FieldError("course_seat_types", "Credit seats cannot be combined with other seat types.")
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"max_global_applications", o.MaxGlobalApplications}, {"max_user_applications", o.MaxUserApplications}, {"max_basket_applications", o.MaxBasketApplications}} {
		if f.v != nil && (*f.v < 1 || *f.v > math.MaxInt32) {
			return FieldError(f.name, "Must be from 1 to %d.", math.MaxInt32)
		}
	}
	if o.Priority < math.MinInt32 || o.Priority > math.MaxInt32 {
		return FieldError("priority", "Out of range.")
	}
	if o.Benefit.MaxAffectedItems < 0 || o.Benefit.MaxAffectedItems > math.MaxInt32 {
		return FieldError("max_affected_items", "Out of range.")
	}
	if o.MaxDiscount != nil && o.MaxDiscount.IsNegative() {
		return FieldError("max_discount", "Cannot be negative.")
	}
	if o.Start != nil && o.End != nil && !o.Start.Before(*o.End) {
		return FieldError("end_datetime", "The end must be after the start.")
	}
	return ValidateEmailDomains(o.EmailDomains)
}

var domainLabel = regexp.MustCompile(`^[a-z0-9-]+$`)

// ValidateEmailDomains applies edX's rules to a list of email domains.
func ValidateEmailDomains(domains []string) error {
	for _, d := range domains {
		labels := strings.Split(d, ".")
		tld := labels[len(labels)-1]
		switch {
		case d == "":
			return FieldError("email_domains", "Empty domain (trailing comma?).")
		case len(labels) < 2:
			return FieldError("email_domains", "%q has no dot.", d)
		case len(tld) < 2 || strings.ContainsAny(tld, "0123456789-"):
			return FieldError("email_domains", "%q has an invalid top-level domain.", d)
		case strings.Contains(d, "--"):
			return FieldError("email_domains", "%q contains \"--\".", d)
		}
		for _, l := range labels {
			if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") || !domainLabel.MatchString(l) {
				return FieldError("email_domains", "%q has an invalid label %q.", d, l)
			}
		}
	}
	return nil
}

// ParseEmailDomains splits a comma-separated list, lower-cased.
func ParseEmailDomains(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, d := range strings.Split(s, ",") {
		out = append(out, strings.ToLower(strings.TrimSpace(d)))
	}
	return out
}

// EmailDomainMatches reports whether email belongs to one of the domains or their subdomains
// (case-insensitive). No domains means everyone matches.
func EmailDomainMatches(email string, domains []string) bool {
	if len(domains) == 0 {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return false
	}
	host := strings.ToLower(email[at+1:])
	for _, d := range domains {
		d = strings.ToLower(d)
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// Voucher is a code that brings offers to a basket.
type Voucher struct {
	ID                 int64
	Code               string
	Name               string
	Usage              VoucherUsage
	Start              time.Time
	End                time.Time
	NumBasketAdditions int
	NumOrders          int
	TotalDiscount      decimal.Decimal
	CreatedAt          time.Time
	Offers             []Offer
}

// IsActive reports whether now is within the voucher's dates.
func (v Voucher) IsActive(now time.Time) bool { return !now.Before(v.Start) && !now.After(v.End) }

// IsExpired reports whether the voucher's end has passed.
func (v Voucher) IsExpired(now time.Time) bool { return now.After(v.End) }

var codePattern = regexp.MustCompile(`^[A-Z0-9]{1,128}$`)

// NormalizeCode upper-cases a voucher code and checks it is alphanumeric.
func NormalizeCode(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if !codePattern.MatchString(c) {
		return "", FieldError("code", "A code is 1 to 128 letters and digits.")
	}
	return c, nil
}

// VoucherUses is how a voucher has been used (reserved or consumed) so far.
type VoucherUses struct {
	// ByUser counts uses by the buyer; ByOthers by anyone else.
	ByUser   int
	ByOthers int
}

// UseProblem says why the voucher cannot be used by this buyer now (its usage, then its dates),
// or returns "".
func (v Voucher) UseProblem(uses VoucherUses, anonymous bool, now time.Time) string {
	if problem := v.AvailabilityProblem(uses, anonymous); problem != "" {
		return problem
	}
	if !v.IsActive(now) {
		return "It is not active."
	}
	return ""
}

// AvailabilityProblem says why a voucher cannot be used by this buyer, or returns "".
func (v Voucher) AvailabilityProblem(uses VoucherUses, anonymous bool) string {
	switch v.Usage {
	case SingleUse:
		if uses.ByUser+uses.ByOthers > 0 {
			return "This voucher has already been used"
		}
	case OncePerCustomer:
		if anonymous {
			return "This voucher is only available to signed in users"
		}
		if uses.ByUser > 0 {
			return "You have already used this voucher in a previous order"
		}
	case MultiUsePerCustomer:
		if uses.ByOthers > 0 {
			return "This voucher is assigned to another user."
		}
	}
	return ""
}

// AppliedOffer is an offer's effect on a priced basket.
type AppliedOffer struct {
	OfferID      int64           `json:"offer_id"`
	Name         string          `json:"name"`
	Type         OfferType       `json:"offer_type"`
	VoucherID    int64           `json:"voucher_id,omitempty"`
	VoucherCode  string          `json:"voucher_code,omitempty"`
	BenefitType  BenefitType     `json:"benefit_type"`
	BenefitValue decimal.Decimal `json:"benefit_value"`
	Frequency    int             `json:"frequency"`
	Amount       decimal.Decimal `json:"amount"`
}

// String describes the offer for logs.
func (a AppliedOffer) String() string {
	return fmt.Sprintf("%s x%d -%s", a.Name, a.Frequency, FormatMoney(a.Amount))
}
