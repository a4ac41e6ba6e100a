package commerce_test

import (
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestParsePrice(t *testing.T) {
	t.Parallel()
	ok := map[string]string{"49": "49.00", "49.5": "49.50", "49.00": "49.00", "0": "0.00", " 1.25 ": "1.25", "9999999999.99": "9999999999.99"}
	for in, want := range ok {
		got, err := commerce.ParsePrice(in)
		require.NoError(t, err, in)
		require.Equal(t, want, commerce.FormatMoney(got), in)
	}
	for _, in := range []string{"", "-1", "1.234", "1e3", "abc", "NaN", "+5", "10000000000.00", "1.", ".5"} {
		_, err := commerce.ParsePrice(in)
		require.Error(t, err, in)
	}
}

func TestSeatSKUIsStableSevenUpperHex(t *testing.T) {
	t.Parallel()
	spec := commerce.SeatSpec{CertificateType: "verified", IDVerificationRequired: true}
	sku := commerce.SeatSKU("EDX", 2, spec, "course-v1:edX+DemoX+Demo_Course")
	require.Regexp(t, `^[0-9A-F]{7}$`, sku)
	require.Equal(t, sku, commerce.SeatSKU("EDX", 2, spec, "course-v1:edX+DemoX+Demo_Course"))
	require.Equal(t, sku, commerce.SeatSKU("edx", 2, spec, "course-v1:edX+DemoX+Demo_Course"), "lower-cased before hashing")
	require.NotEqual(t, sku, commerce.SeatSKU("EDX", 3, spec, "course-v1:edX+DemoX+Demo_Course"))
	// md5("verified course-v1:edx+demox+demo_course true  2 edx") ends in ...
	require.Equal(t, "DD93C18", sku)
}

func TestOrderNumberRoundTrip(t *testing.T) {
	t.Parallel()
	require.Equal(t, "EDX-100001", commerce.OrderNumber("edx", 1))
	id, err := commerce.BasketIDFromOrderNumber("EDX-100042")
	require.NoError(t, err)
	require.Equal(t, int64(42), id)
	for _, bad := range []string{"EDX", "EDX-abc", "EDX-100000", "EDX-5"} {
		_, err := commerce.BasketIDFromOrderNumber(bad)
		require.Error(t, err, bad)
	}
}

func TestPriceSumsOneCurrency(t *testing.T) {
	t.Parallel()
	totals, err := commerce.Price([]commerce.PriceLine{
		{SKU: "A", UnitPrice: decimal.RequireFromString("49.00"), Quantity: 1, Currency: "USD"},
		{SKU: "B", UnitPrice: decimal.RequireFromString("0.10"), Quantity: 3, Currency: "USD"},
	})
	require.NoError(t, err)
	require.Equal(t, "49.30", commerce.FormatMoney(totals.TotalInclTax))
	require.Equal(t, "49.30", commerce.FormatMoney(totals.TotalInclTaxExclDiscounts))
	require.Equal(t, "USD", totals.Currency)

	_, err = commerce.Price([]commerce.PriceLine{
		{SKU: "A", UnitPrice: decimal.NewFromInt(1), Quantity: 1, Currency: "USD"},
		{SKU: "B", UnitPrice: decimal.NewFromInt(1), Quantity: 1, Currency: "EUR"},
	})
	require.Equal(t, commerce.EInvalid, commerce.ErrorCodeOf(err))
}

func TestModeAndAvailability(t *testing.T) {
	t.Parallel()
	require.Equal(t, "audit", commerce.Product{}.Mode())
	require.Equal(t, "verified", commerce.Product{CertificateType: "verified"}.Mode())
	require.Equal(t, "no-id-professional", commerce.Product{CertificateType: "professional"}.Mode())
	require.Equal(t, "professional", commerce.Product{CertificateType: "professional", IDVerificationRequired: true}.Mode())
	now := time.Now()
	past, future := now.Add(-time.Minute), now.Add(time.Minute)
	require.True(t, commerce.Product{}.AvailableAt(now))
	require.True(t, commerce.Product{Expires: &future}.AvailableAt(now))
	require.False(t, commerce.Product{Expires: &past}.AvailableAt(now))
}

func TestPublicationValidate(t *testing.T) {
	t.Parallel()
	seat := commerce.SeatSpec{CertificateType: "verified", Price: decimal.NewFromInt(49), Currency: "USD"}
	valid := commerce.Publication{CourseID: "course-v1:a+b+c", Name: "C", Seats: []commerce.SeatSpec{seat}}
	require.NoError(t, valid.Validate())

	cases := map[string]func(p *commerce.Publication){
		"id":                         func(p *commerce.Publication) { p.CourseID = "not a key" },
		"name":                       func(p *commerce.Publication) { p.Name = " " },
		"products[0].price":          func(p *commerce.Publication) { p.Seats[0].Price = decimal.RequireFromString("-1") },
		"products[0].price_currency": func(p *commerce.Publication) { p.Seats[0].Currency = "usd" },
		"products[1]":                func(p *commerce.Publication) { p.Seats = append(p.Seats, seat) },
		"products[0].attribute_values.credit_provider": func(p *commerce.Publication) { p.Seats[0].CertificateType = "credit" },
	}
	for field, mutate := range cases {
		p := valid
		p.Seats = append([]commerce.SeatSpec(nil), valid.Seats...)
		mutate(&p)
		err := p.Validate()
		var e *commerce.Error
		require.ErrorAs(t, err, &e, field)
		require.Equal(t, field, e.Field)
	}
}
