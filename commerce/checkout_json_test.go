package commerce_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func demoCheckout() commerce.Checkout {
	d := decimal.RequireFromString
	return commerce.Checkout{
		OrderNumber: "EDX-100042", BasketID: 42, UserID: 7, Username: "bob", Email: "bob@example.com",
		Processor: "cybersource", Currency: "USD",
		TotalBeforeDiscounts: d("99"), Discount: d("9.9"), Total: d("89.10"),
		Lines: []commerce.CheckoutLine{{ProductID: 3, StockRecordID: 4, SKU: "ABC1234", Title: "Seat", Class: commerce.ClassSeat,
			CourseID: "course-v1:MITx+6.002x+2026_T1", Mode: "verified", Quantity: 1,
			UnitPrice: d("99"), LinePriceBeforeDiscounts: d("99.00"), LinePrice: d("89.1")}},
		Discounts: []commerce.AppliedOffer{{OfferID: 5, Name: "10% off", Type: commerce.OfferVoucher, VoucherID: 6,
			VoucherCode: "TEN", BenefitType: commerce.BenefitPercentage, BenefitValue: d("10"), Frequency: 1, Amount: d("9.9")}},
		VoucherCode: "TEN",
		FrozenAt:    time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
	}
}

// The workflow input (and the stored snapshot) shows money as the API does: "99.00", not "99".
func TestCheckoutJSONWritesMoneyWithTwoDecimals(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(demoCheckout())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, "99.00", m["total_before_discounts"])
	require.Equal(t, "9.90", m["discount"])
	require.Equal(t, "89.10", m["total"])
	line := m["lines"].([]any)[0].(map[string]any)
	require.Equal(t, "99.00", line["unit_price"])
	require.Equal(t, "99.00", line["line_price_before_discounts"])
	require.Equal(t, "89.10", line["line_price"])
	require.Equal(t, "ABC1234", line["sku"])
	offer := m["discounts"].([]any)[0].(map[string]any)
	require.Equal(t, "9.90", offer["amount"])
	require.Equal(t, "10.00", offer["benefit_value"])
	require.Equal(t, "TEN", offer["voucher_code"])

	// The same keys as before, nothing lost or doubled.
	type plainLine struct {
		ProductID                int64           `json:"product_id"`
		StockRecordID            int64           `json:"stock_record_id"`
		SKU                      string          `json:"sku"`
		Title                    string          `json:"title"`
		Class                    string          `json:"product_class"`
		CourseID                 string          `json:"course_id"`
		Mode                     string          `json:"mode"`
		CreditProvider           string          `json:"credit_provider"`
		Quantity                 int             `json:"quantity"`
		UnitPrice                decimal.Decimal `json:"unit_price"`
		LinePriceBeforeDiscounts decimal.Decimal `json:"line_price_before_discounts"`
		LinePrice                decimal.Decimal `json:"line_price"`
	}
	require.ElementsMatch(t, []string{"order_number", "basket_id", "user_id", "username", "email", "processor", "currency",
		"total_before_discounts", "discount", "total", "lines", "discounts", "voucher_code", "frozen_at"}, slices.Collect(maps.Keys(m)))
	lineKeys, err := json.Marshal(plainLine{})
	require.NoError(t, err)
	var want map[string]any
	require.NoError(t, json.Unmarshal(lineKeys, &want))
	require.ElementsMatch(t, slices.Collect(maps.Keys(want)), slices.Collect(maps.Keys(line)))

	// omitempty still omits.
	c := demoCheckout()
	c.Discounts, c.VoucherCode = nil, ""
	b, err = json.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(b), `"discounts":`)
	require.NotContains(t, string(b), `"voucher_code":`)
}

// What is written reads back to the same checkout, and so do the workflow inputs and snapshots
// written before ("99", and even a bare number).
func TestCheckoutJSONReadsNewAndOldAmounts(t *testing.T) {
	t.Parallel()
	want := demoCheckout()
	b, err := json.Marshal(want)
	require.NoError(t, err)
	var got commerce.Checkout
	require.NoError(t, json.Unmarshal(b, &got))
	requireSameCheckout(t, want, got)

	old := `{"order_number":"EDX-100042","basket_id":42,"user_id":7,"username":"bob","email":"bob@example.com",
	  "processor":"cybersource","currency":"USD","total_before_discounts":"99","discount":"9.9","total":"89.1",
	  "lines":[{"product_id":3,"stock_record_id":4,"sku":"ABC1234","title":"Seat","product_class":"Seat",
	    "course_id":"course-v1:MITx+6.002x+2026_T1","mode":"verified","credit_provider":"","quantity":1,
	    "unit_price":"99","line_price_before_discounts":99,"line_price":"89.1"}],
	  "discounts":[{"offer_id":5,"name":"10% off","offer_type":"Voucher","voucher_id":6,"voucher_code":"TEN",
	    "benefit_type":"Percentage","benefit_value":"10","frequency":1,"amount":"9.9"}],
	  "voucher_code":"TEN","frozen_at":"2026-03-01T12:00:00Z"}`
	var fromOld commerce.Checkout
	require.NoError(t, json.Unmarshal([]byte(old), &fromOld))
	requireSameCheckout(t, want, fromOld)
}

// An amount with more than two decimals (none is, today) is written in full, never rounded.
func TestCheckoutJSONNeverRoundsAnAmount(t *testing.T) {
	t.Parallel()
	c := demoCheckout()
	c.Discount = decimal.RequireFromString("0.125")
	c.Total = decimal.RequireFromString("0.1")
	b, err := json.Marshal(c)
	require.NoError(t, err)
	require.Contains(t, string(b), `"discount":"0.125"`)
	require.Contains(t, string(b), `"total":"0.10"`)
	var got commerce.Checkout
	require.NoError(t, json.Unmarshal(b, &got))
	require.True(t, got.Discount.Equal(c.Discount), got.Discount.String())
}

func requireSameCheckout(t *testing.T, want, got commerce.Checkout) {
	t.Helper()
	money := func(c commerce.Checkout) []string {
		out := []string{c.TotalBeforeDiscounts.String(), c.Discount.String(), c.Total.String()}
		for _, l := range c.Lines {
			out = append(out, l.UnitPrice.String(), l.LinePriceBeforeDiscounts.String(), l.LinePrice.String())
		}
		for _, d := range c.Discounts {
			out = append(out, d.BenefitValue.String(), d.Amount.String())
		}
		return out
	}
	require.Equal(t, money(want), money(got))
	strip := func(c commerce.Checkout) commerce.Checkout {
		c.TotalBeforeDiscounts, c.Discount, c.Total = decimal.Zero, decimal.Zero, decimal.Zero
		c.Lines = slices.Clone(c.Lines)
		for i := range c.Lines {
			c.Lines[i].UnitPrice, c.Lines[i].LinePriceBeforeDiscounts, c.Lines[i].LinePrice = decimal.Zero, decimal.Zero, decimal.Zero
		}
		c.Discounts = slices.Clone(c.Discounts)
		for i := range c.Discounts {
			c.Discounts[i].BenefitValue, c.Discounts[i].Amount = decimal.Zero, decimal.Zero
		}
		return c
	}
	require.Equal(t, strip(want), strip(got))
}
