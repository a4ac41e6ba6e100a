// Command benchdata fills a database for the calculate benchmark (docs/benchmarks.md): courses
// with audit and verified seats, site offers on random seats (and a few on every verified
// seat), and coupons holding the requested number of vouchers. It writes the SKUs, one per
// line, and a valid coupon code, for the load script.
//
//	go run ./scripts/benchdata -database-url postgres://postgres@127.0.0.1:5432/ecommerce_bench?sslmode=disable \
//	    -courses 2000 -site-offers 1000 -vouchers 100000 -out /tmp/bench
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/shopspring/decimal"
)

func main() {
	url := flag.String("database-url", "postgres://postgres@127.0.0.1:5432/ecommerce_bench?sslmode=disable", "database to fill (migrated first)")
	courses := flag.Int("courses", 2000, "courses to publish (each with an audit and a verified seat)")
	siteOffers := flag.Int("site-offers", 1000, "site offers to create")
	vouchers := flag.Int("vouchers", 100000, "vouchers to create (in coupons of up to 10000 codes)")
	out := flag.String("out", "/tmp/bench", "folder for skus.txt and code.txt")
	flag.Parse()
	if err := run(context.Background(), *url, *courses, *siteOffers, *vouchers, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchdata:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url string, courses, siteOffers, vouchers int, out string) error {
	pool, err := db.NewPool(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := db.Migrate(ctx, pool); err != nil {
		return err
	}
	store := db.NewStore(pool)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	var productIDs, stockIDs []int64
	var skus []string
	for i := range courses {
		price := decimal.New(int64(1000+rng.IntN(49000)), -2)
		c, err := store.PublishCourse(ctx, "EDX", commerce.Publication{
			CourseID: fmt.Sprintf("course-v1:Bench+C%05d+2026", i), Name: fmt.Sprintf("Benchmark course %d", i),
			Seats: []commerce.SeatSpec{
				{CertificateType: "", Price: decimal.Zero, Currency: "USD"},
				{CertificateType: "verified", IDVerificationRequired: true, Price: price, Currency: "USD"},
			},
		}, true)
		if commerce.ErrorCodeOf(err) == commerce.EInvalid { // already there
			if c, err = store.Course(ctx, fmt.Sprintf("course-v1:Bench+C%05d+2026", i), true); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		for _, p := range c.Products {
			if p.CertificateType == "verified" {
				productIDs = append(productIDs, p.ID)
				stockIDs = append(stockIDs, p.StockRecord.ID)
				skus = append(skus, p.StockRecord.PartnerSKU)
			}
		}
	}
	slog.Info("courses", "count", len(skus), "took", time.Since(start))

	start = time.Now()
	for i := range siteOffers {
		o := commerce.Offer{
			Name: fmt.Sprintf("bench site offer %d %d", i, time.Now().UnixNano()), Type: commerce.OfferSite, Status: commerce.OfferOpen,
			Priority: rng.IntN(10), Exclusive: rng.IntN(4) != 0,
			Condition: commerce.Condition{Type: commerce.ConditionCount, Value: decimal.NewFromInt(1)},
			Benefit:   commerce.Benefit{Type: commerce.BenefitPercentage, Value: decimal.NewFromInt(int64(5 + rng.IntN(26)))},
		}
		if i%200 == 199 && i < 1000 { // a few offers (at most five) on every verified seat
			o.Range.SeatTypes = []string{"verified"}
		} else {
			for range 1 + rng.IntN(3) {
				o.Range.ProductIDs = append(o.Range.ProductIDs, productIDs[rng.IntN(len(productIDs))])
			}
		}
		if _, err := store.CreateOffer(ctx, o); err != nil {
			return err
		}
	}
	slog.Info("site offers", "count", siteOffers, "took", time.Since(start))

	start = time.Now()
	code := ""
	for made := 0; made < vouchers; {
		n := min(10000, vouchers-made)
		c, err := store.CreateCoupon(ctx, "EDX", commerce.CouponSpec{
			Title: fmt.Sprintf("bench coupon %d", time.Now().UnixNano()), StockRecordIDs: []int64{stockIDs[rng.IntN(len(stockIDs))]},
			Start: time.Now().Add(-time.Hour), End: time.Now().Add(365 * 24 * time.Hour), BenefitType: commerce.BenefitPercentage,
			BenefitValue: decimal.NewFromInt(15), VoucherType: commerce.SingleUse, Quantity: n,
		})
		if err != nil {
			return err
		}
		code = c.Vouchers[0].Code
		made += n
	}
	slog.Info("vouchers", "count", vouchers, "took", time.Since(start))

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "skus.txt"), []byte(strings.Join(skus, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "code.txt"), []byte(code+"\n"), 0o644)
}
