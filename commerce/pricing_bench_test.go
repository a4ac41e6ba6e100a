package commerce_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/shopspring/decimal"
)

// BenchmarkPriceBasket prices one verified seat against n applicable site offers (half of them
// exclusive), as calculate does for a product many offers target.
func BenchmarkPriceBasket(b *testing.B) {
	for _, n := range []int{1, 10, 30, 100} {
		b.Run(fmt.Sprintf("offers=%d", n), func(b *testing.B) {
			lines := []commerce.PriceLine{{SKU: "A", ProductID: 1, Class: commerce.ClassSeat, CertificateType: "verified",
				UnitPrice: decimal.RequireFromString("149.00"), Quantity: 1, Currency: "USD"}}
			offers := make([]commerce.Offer, n)
			for i := range offers {
				offers[i] = commerce.Offer{ID: int64(i + 1), Name: fmt.Sprint(i), Type: commerce.OfferSite, Status: commerce.OfferOpen,
					Priority: i % 10, Exclusive: i%2 == 0, Range: commerce.Range{ProductIDs: []int64{1}},
					Condition: commerce.Condition{Type: commerce.ConditionCount, Value: decimal.NewFromInt(1)},
					Benefit:   commerce.Benefit{Type: commerce.BenefitPercentage, Value: decimal.NewFromInt(int64(5 + i%20))}}
			}
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := commerce.PriceBasket(lines, offers, commerce.Buyer{Email: "a@example.com"}, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
