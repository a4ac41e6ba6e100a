package commerce_test

import (
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestOfferIsCurrent(t *testing.T) {
	t.Parallel()
	before, after := testNow.Add(-time.Nanosecond), testNow.Add(time.Nanosecond)
	cases := []struct {
		name       string
		start, end *time.Time
		want       bool
	}{
		{"no dates", nil, nil, true},
		{"start only, passed", timep(before), nil, true},
		{"start only, now (inclusive)", timep(testNow), nil, true},
		{"start only, to come", timep(after), nil, false},
		{"end only, to come", nil, timep(after), true},
		{"end only, now (exclusive)", nil, timep(testNow), false},
		{"end only, passed", nil, timep(before), false},
		{"both, within", timep(before), timep(after), true},
		{"both, at start", timep(testNow), timep(after), true},
		{"both, at end", timep(before), timep(testNow), false},
		{"both, before", timep(after), timep(after.Add(time.Hour)), false},
		{"both, after", timep(before.Add(-time.Hour)), timep(before), false},
	}
	for _, c := range cases {
		o := commerce.Offer{Start: c.start, End: c.end}
		require.Equal(t, c.want, o.IsCurrent(testNow), c.name)
	}
}

func TestOfferMaxApplications(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		o    commerce.Offer
		want int
	}{
		{"no limits: Oscar's cap", commerce.Offer{}, 10000},
		{"cap is 10000", commerce.Offer{MaxBasketApplications: intp(20000), MaxGlobalApplications: intp(50000)}, commerce.MaxApplicationsCap},
		{"basket", commerce.Offer{MaxBasketApplications: intp(3)}, 3},
		{"user remaining", commerce.Offer{MaxUserApplications: intp(5), UserApplications: 2}, 3},
		{"user used up", commerce.Offer{MaxUserApplications: intp(5), UserApplications: 5}, 0},
		{"user over-used", commerce.Offer{MaxUserApplications: intp(1), UserApplications: 4}, 0},
		{"global remaining", commerce.Offer{MaxGlobalApplications: intp(10), NumApplications: 9}, 1},
		{"global used up", commerce.Offer{MaxGlobalApplications: intp(10), NumApplications: 10}, 0},
		{"global over-used", commerce.Offer{MaxGlobalApplications: intp(10), NumApplications: 12}, 0},
		{"least of all: basket", commerce.Offer{MaxBasketApplications: intp(2), MaxUserApplications: intp(5), UserApplications: 1,
			MaxGlobalApplications: intp(100), NumApplications: 10}, 2},
		{"least of all: user", commerce.Offer{MaxBasketApplications: intp(9), MaxUserApplications: intp(5), UserApplications: 1,
			MaxGlobalApplications: intp(100), NumApplications: 10}, 4},
		{"least of all: global", commerce.Offer{MaxBasketApplications: intp(9), MaxUserApplications: intp(5), UserApplications: 1,
			MaxGlobalApplications: intp(100), NumApplications: 98}, 2},
		{"budget left", commerce.Offer{MaxBasketApplications: intp(4), MaxDiscount: decp("100"), TotalDiscount: dec("99.99")}, 4},
		{"budget spent exactly", commerce.Offer{MaxBasketApplications: intp(4), MaxDiscount: decp("100"), TotalDiscount: dec("100.00")}, 0},
		{"budget overspent", commerce.Offer{MaxDiscount: decp("100"), TotalDiscount: dec("150")}, 0},
		{"zero budget", commerce.Offer{MaxDiscount: decp("0")}, 0},
	}
	for _, c := range cases {
		require.Equal(t, c.want, c.o.MaxApplications(), c.name)
	}
}

func TestEmailDomainMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		email   string
		domains []string
		want    bool
	}{
		{"a@example.com", []string{"example.com"}, true},
		{"a@sub.example.com", []string{"example.com"}, true},
		{"a@deep.sub.example.com", []string{"example.com"}, true},
		{"A@EXAMPLE.COM", []string{"example.com"}, true},
		{"a@example.com", []string{"EXAMPLE.com"}, true},
		{"a@x.sub.example.com", []string{"sub.example.com"}, true},
		{"a@example.com", []string{"sub.example.com"}, false},
		{"a@badexample.com", []string{"example.com"}, false},
		{"a@example.com.evil.org", []string{"example.com"}, false},
		{"a@example.co", []string{"example.com"}, false},
		{"a@other.org", []string{"example.com", "other.org"}, true},
		{"a@other.net", []string{"example.com", "other.org"}, false},
		{"weird@name@example.com", []string{"example.com"}, true},
		{"@example.com", []string{"example.com"}, false},
		{"example.com", []string{"example.com"}, false},
		{"", []string{"example.com"}, false},
		// No domains means everyone.
		{"", nil, true},
		{"a@anything.org", []string{}, true},
	}
	for _, c := range cases {
		require.Equal(t, c.want, commerce.EmailDomainMatches(c.email, c.domains), "%q in %v", c.email, c.domains)
	}
}

func TestValidateEmailDomains(t *testing.T) {
	t.Parallel()
	for _, ok := range [][]string{
		nil, {"example.com"}, {"sub.example.com"}, {"my-school.edu"}, {"a.co"}, {"x1.example.org"}, {"123.example.com"},
		{"example.com", "other.org"}, commerce.ParseEmailDomains(" Example.COM , Other.Org "),
	} {
		require.NoError(t, commerce.ValidateEmailDomains(ok), "%q", ok)
	}
	for name, bad := range map[string][]string{
		"trailing comma":           commerce.ParseEmailDomains("example.com,"),
		"empty in the middle":      commerce.ParseEmailDomains("example.com,,other.org"),
		"empty":                    {""},
		"no dot":                   {"example"},
		"one-character TLD":        {"example.c"},
		"digit in TLD":             {"example.c0m"},
		"all-digit TLD":            {"example.123"},
		"hyphen in TLD":            {"example.co-m"},
		"double hyphen":            {"ex--ample.com"},
		"label starts with hyphen": {"-example.com"},
		"label ends with hyphen":   {"example-.com"},
		"inner label hyphens":      {"sub.-example.com"},
		"empty label":              {"example..com"},
		"leading dot":              {".example.com"},
		"trailing dot":             {"example.com."},
		"space":                    {"exa mple.com"},
		"underscore":               {"exa_mple.com"},
		"an @":                     {"a@example.com"},
		"second one bad":           {"example.com", "bad"},
	} {
		err := commerce.ValidateEmailDomains(bad)
		var e *commerce.Error
		require.ErrorAs(t, err, &e, name)
		require.Equal(t, commerce.EInvalid, e.Code, name)
		require.Equal(t, "email_domains", e.Field, name)
	}
}

func TestParseEmailDomains(t *testing.T) {
	t.Parallel()
	require.Nil(t, commerce.ParseEmailDomains(""))
	require.Nil(t, commerce.ParseEmailDomains("   "))
	require.Equal(t, []string{"example.com"}, commerce.ParseEmailDomains("Example.COM"))
	require.Equal(t, []string{"example.com", "other.org"}, commerce.ParseEmailDomains(" example.com , OTHER.org"))
	require.Equal(t, []string{"example.com", ""}, commerce.ParseEmailDomains("example.com,"), "a trailing comma is kept for validation to reject")
}

func TestRangeContains(t *testing.T) {
	t.Parallel()
	seat := func(product int64, cert string) commerce.PriceLine {
		return commerce.PriceLine{ProductID: product, Class: commerce.ClassSeat, CertificateType: cert}
	}
	entitlement := commerce.PriceLine{ProductID: 5, Class: commerce.ClassCourseEntitlement, CertificateType: "verified"}
	enrollmentCode := commerce.PriceLine{ProductID: 6, Class: commerce.ClassEnrollmentCode, CertificateType: "verified"}
	cases := []struct {
		name string
		r    commerce.Range
		l    commerce.PriceLine
		want bool
	}{
		{"all products: a seat", allProducts, seat(1, "verified"), true},
		{"all products: an audit seat", allProducts, seat(1, ""), true},
		{"all products: an entitlement", allProducts, entitlement, true},
		{"explicit product", commerce.Range{ProductIDs: []int64{1, 2}}, seat(2, "verified"), true},
		{"product not listed", commerce.Range{ProductIDs: []int64{1, 2}}, seat(3, "verified"), false},
		{"explicit non-seat product", commerce.Range{ProductIDs: []int64{5}}, entitlement, true},
		{"seat type", commerce.Range{SeatTypes: []string{"verified"}}, seat(9, "verified"), true},
		{"other seat type", commerce.Range{SeatTypes: []string{"verified"}}, seat(9, "professional"), false},
		{"one of the seat types", commerce.Range{SeatTypes: []string{"verified", "professional"}}, seat(9, "professional"), true},
		{"credit", commerce.Range{SeatTypes: []string{"credit"}}, seat(9, "credit"), true},
		{"audit seat is not a seat type", commerce.Range{SeatTypes: []string{"verified"}}, seat(9, ""), false},
		{"an empty seat type never matches audit", commerce.Range{SeatTypes: []string{""}}, seat(9, ""), false},
		{"seat types only match seats: entitlement", commerce.Range{SeatTypes: []string{"verified"}}, entitlement, false},
		{"seat types only match seats: enrollment code", commerce.Range{SeatTypes: []string{"verified"}}, enrollmentCode, false},
		{"products or seat types: product", commerce.Range{ProductIDs: []int64{5}, SeatTypes: []string{"professional"}}, entitlement, true},
		{"products or seat types: seat", commerce.Range{ProductIDs: []int64{5}, SeatTypes: []string{"professional"}}, seat(9, "professional"), true},
		{"products or seat types: neither", commerce.Range{ProductIDs: []int64{5}, SeatTypes: []string{"professional"}}, seat(9, "verified"), false},
		{"empty range", commerce.Range{}, seat(1, "verified"), false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, c.r.Contains(c.l), c.name)
	}
}

func TestVoucherAvailabilityProblem(t *testing.T) {
	t.Parallel()
	const (
		used      = "This voucher has already been used"
		signIn    = "This voucher is only available to signed in users"
		usedByYou = "You have already used this voucher in a previous order"
		assigned  = "This voucher is assigned to another user."
	)
	none, byUser, byOthers, both := commerce.VoucherUses{}, commerce.VoucherUses{ByUser: 1}, commerce.VoucherUses{ByOthers: 3}, commerce.VoucherUses{ByUser: 2, ByOthers: 2}
	cases := []struct {
		usage     commerce.VoucherUsage
		uses      commerce.VoucherUses
		anonymous bool
		want      string
	}{
		{commerce.SingleUse, none, false, ""},
		{commerce.SingleUse, none, true, ""},
		{commerce.SingleUse, byUser, false, used},
		{commerce.SingleUse, byOthers, false, used},
		{commerce.SingleUse, both, false, used},
		{commerce.SingleUse, byOthers, true, used},

		{commerce.MultiUse, none, false, ""},
		{commerce.MultiUse, none, true, ""},
		{commerce.MultiUse, byUser, false, ""},
		{commerce.MultiUse, byOthers, false, ""},
		{commerce.MultiUse, both, true, ""},

		{commerce.OncePerCustomer, none, false, ""},
		{commerce.OncePerCustomer, none, true, signIn},
		{commerce.OncePerCustomer, byOthers, true, signIn},
		{commerce.OncePerCustomer, byUser, false, usedByYou},
		{commerce.OncePerCustomer, both, false, usedByYou},
		{commerce.OncePerCustomer, byOthers, false, ""},

		{commerce.MultiUsePerCustomer, none, false, ""},
		{commerce.MultiUsePerCustomer, byUser, false, ""},
		{commerce.MultiUsePerCustomer, commerce.VoucherUses{ByUser: 7}, false, ""},
		{commerce.MultiUsePerCustomer, byOthers, false, assigned},
		{commerce.MultiUsePerCustomer, both, false, assigned},
		{commerce.MultiUsePerCustomer, none, true, ""},
	}
	for _, c := range cases {
		v := commerce.Voucher{Usage: c.usage}
		require.Equal(t, c.want, v.AvailabilityProblem(c.uses, c.anonymous), "%s %+v anonymous=%t", c.usage, c.uses, c.anonymous)
	}
}

func TestVoucherIsActiveAndIsExpired(t *testing.T) {
	t.Parallel()
	v := commerce.Voucher{Start: testNow, End: testNow.Add(24 * time.Hour)}
	cases := []struct {
		name            string
		now             time.Time
		active, expired bool
	}{
		{"before start", v.Start.Add(-time.Nanosecond), false, false},
		{"at start (inclusive)", v.Start, true, false},
		{"within", v.Start.Add(time.Hour), true, false},
		{"at end (inclusive)", v.End, true, false},
		{"after end", v.End.Add(time.Nanosecond), false, true},
		{"long after end", v.End.Add(365 * 24 * time.Hour), false, true},
	}
	for _, c := range cases {
		require.Equal(t, c.active, v.IsActive(c.now), "%s: active", c.name)
		require.Equal(t, c.expired, v.IsExpired(c.now), "%s: expired", c.name)
	}
	// A voucher valid for one instant.
	instant := commerce.Voucher{Start: testNow, End: testNow}
	require.True(t, instant.IsActive(testNow))
	require.False(t, instant.IsExpired(testNow))
}

func TestNormalizeCode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"SAVE15":                 "SAVE15",
		"save15":                 "SAVE15",
		"MiXeD123":               "MIXED123",
		"0":                      "0",
		"a":                      "A",
		strings.Repeat("a", 128): strings.Repeat("A", 128),
	} {
		got, err := commerce.NormalizeCode(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "   ", "SAVE-15", "SAVE_15", "SAVE 15", "SAVE15!", "SAVE.15", "ÉCOLE", "ß", strings.Repeat("A", 129)} {
		got, err := commerce.NormalizeCode(in)
		require.Empty(t, got, "%q", in)
		var e *commerce.Error
		require.ErrorAs(t, err, &e, "%q", in)
		require.Equal(t, commerce.EInvalid, e.Code, "%q", in)
		require.Equal(t, "code", e.Field, "%q", in)
	}
}

func TestValidVoucherUsage(t *testing.T) {
	t.Parallel()
	for _, u := range []commerce.VoucherUsage{commerce.SingleUse, commerce.MultiUse, commerce.OncePerCustomer, commerce.MultiUsePerCustomer} {
		require.True(t, commerce.ValidVoucherUsage(u), u)
	}
	for _, u := range []commerce.VoucherUsage{"", "single use", "Multi-use-per-customer", "Once"} {
		require.False(t, commerce.ValidVoucherUsage(u), u)
	}
}

func TestOfferValidate(t *testing.T) {
	t.Parallel()
	start := testNow
	valid := func() commerce.Offer {
		return commerce.Offer{ID: 1, Name: "o", Type: commerce.OfferVoucher, Status: commerce.OfferOpen,
			Range: commerce.Range{SeatTypes: []string{"verified", "professional"}}, Condition: count(1),
			Benefit: commerce.Benefit{Type: commerce.BenefitPercentage, Value: dec("100"), MaxAffectedItems: 1},
			Start:   timep(start), End: timep(start.Add(time.Hour)), MaxGlobalApplications: intp(1), EmailDomains: []string{"example.com"}}
	}
	require.NoError(t, valid().Validate())
	for name, change := range map[string]func(o *commerce.Offer){
		"absolute": func(o *commerce.Offer) {
			o.Benefit = commerce.Benefit{Type: commerce.BenefitAbsolute, Value: dec("500.00")}
		},
		"fixed price 0": func(o *commerce.Offer) {
			o.Benefit = commerce.Benefit{Type: commerce.BenefitFixedPrice, Value: decimal.Zero}
		},
		"credit alone":         func(o *commerce.Offer) { o.Range.SeatTypes = []string{"credit"} },
		"all products":         func(o *commerce.Offer) { o.Range = allProducts },
		"products":             func(o *commerce.Offer) { o.Range = commerce.Range{ProductIDs: []int64{3}} },
		"value condition":      func(o *commerce.Offer) { o.Condition = value("0") },
		"coverage condition":   func(o *commerce.Offer) { o.Condition = coverage(2) },
		"no dates":             func(o *commerce.Offer) { o.Start, o.End = nil, nil },
		"zero budget":          func(o *commerce.Offer) { o.MaxDiscount = decp("0") },
		"limits of 1":          func(o *commerce.Offer) { o.MaxUserApplications, o.MaxBasketApplications = intp(1), intp(1) },
		"no email domains":     func(o *commerce.Offer) { o.EmailDomains = nil },
		"percentage 0":         func(o *commerce.Offer) { o.Benefit.Value = decimal.Zero },
		"percentage 12.5":      func(o *commerce.Offer) { o.Benefit.Value = dec("12.5") },
		"no max affected item": func(o *commerce.Offer) { o.Benefit.MaxAffectedItems = 0 },
	} {
		o := valid()
		change(&o)
		require.NoError(t, o.Validate(), name)
	}
	for _, c := range []struct {
		field, name string
		change      func(o *commerce.Offer)
	}{
		{"benefit_value", "percentage above 100", func(o *commerce.Offer) { o.Benefit.Value = dec("100.01") }},
		{"benefit_value", "negative", func(o *commerce.Offer) {
			o.Benefit = commerce.Benefit{Type: commerce.BenefitAbsolute, Value: dec("-1")}
		}},
		{"benefit_value", "three decimals", func(o *commerce.Offer) {
			o.Benefit = commerce.Benefit{Type: commerce.BenefitFixedPrice, Value: dec("0.005")}
		}},
		{"benefit_type", "Multibuy", func(o *commerce.Offer) { o.Benefit.Type = "Multibuy" }},
		{"condition_type", "empty", func(o *commerce.Offer) { o.Condition.Type = "" }},
		{"condition_value", "negative", func(o *commerce.Offer) { o.Condition.Value = dec("-1") }},
		{"range", "empty", func(o *commerce.Offer) { o.Range = commerce.Range{} }},
		{"course_seat_types", "honor", func(o *commerce.Offer) { o.Range.SeatTypes = []string{"honor"} }},
		{"course_seat_types", "credit with verified", func(o *commerce.Offer) { o.Range.SeatTypes = []string{"credit", "verified"} }},
		{"max_global_applications", "0", func(o *commerce.Offer) { o.MaxGlobalApplications = intp(0) }},
		{"max_user_applications", "0", func(o *commerce.Offer) { o.MaxUserApplications = intp(0) }},
		{"max_basket_applications", "-1", func(o *commerce.Offer) { o.MaxBasketApplications = intp(-1) }},
		{"max_discount", "negative", func(o *commerce.Offer) { o.MaxDiscount = decp("-0.01") }},
		{"end_datetime", "end at start", func(o *commerce.Offer) { o.End = timep(start) }},
		{"end_datetime", "end before start", func(o *commerce.Offer) { o.End = timep(start.Add(-time.Hour)) }},
		{"email_domains", "no dot", func(o *commerce.Offer) { o.EmailDomains = []string{"example"} }},
		{"email_domains", "trailing comma", func(o *commerce.Offer) { o.EmailDomains = commerce.ParseEmailDomains("example.com,") }},
	} {
		o := valid()
		c.change(&o)
		var e *commerce.Error
		require.ErrorAs(t, o.Validate(), &e, c.name)
		require.Equal(t, commerce.EInvalid, e.Code, c.name)
		require.Equal(t, c.field, e.Field, c.name)
	}
}

func TestAppliedOfferString(t *testing.T) {
	t.Parallel()
	a := commerce.AppliedOffer{Name: "Spring sale", Frequency: 3, Amount: dec("12.5")}
	require.Equal(t, "Spring sale x3 -12.50", a.String())
}
