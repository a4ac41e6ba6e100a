package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db"
	"github.com/shopspring/decimal"
)

// demoCatalog is the catalog `seed` publishes: a few courses with audit and verified seats.
func demoCatalog() []commerce.Publication {
	seat := func(certType string, price string, idv bool) commerce.SeatSpec {
		return commerce.SeatSpec{CertificateType: certType, Price: decimal.RequireFromString(price), Currency: "USD", IDVerificationRequired: idv}
	}
	return []commerce.Publication{
		{CourseID: "course-v1:edX+DemoX+Demo_Course", Name: "edX Demonstration Course",
			Seats: []commerce.SeatSpec{seat("", "0.00", false), seat("verified", "49.00", true)}},
		{CourseID: "course-v1:HarvardX+CS50+2026", Name: "Introduction to Computer Science",
			Seats: []commerce.SeatSpec{seat("", "0.00", false), seat("verified", "199.00", true)}},
		{CourseID: "course-v1:MITx+6.002x+2026_T1", Name: "Circuits and Electronics",
			Seats: []commerce.SeatSpec{seat("", "0.00", false), seat("verified", "99.00", true), seat("professional", "299.00", true)}},
	}
}

// seedCatalog publishes the demo catalog, creating courses that are missing and updating the
// others, so running it twice changes nothing.
func seedCatalog(ctx context.Context, store *db.Store, partner string, logger *slog.Logger) ([]commerce.Course, error) {
	var out []commerce.Course
	for _, pub := range demoCatalog() {
		course, err := store.PublishCourse(ctx, partner, pub, true)
		if commerce.ErrorCodeOf(err) == commerce.EInvalid {
			course, err = store.PublishCourse(ctx, partner, pub, false)
		}
		if err != nil {
			return nil, fmt.Errorf("seed %s: %w", pub.CourseID, err)
		}
		out = append(out, course)
		for _, p := range course.Products {
			logger.Info("seeded seat", "course", course.ID, "sku", p.StockRecord.PartnerSKU, "mode", p.Mode(), "price", commerce.FormatMoney(p.StockRecord.Price))
		}
	}
	return out, nil
}

func seedCommand(ctx context.Context, cfg config, logger *slog.Logger) error {
	pool, err := openDatabase(ctx, cfg, logger, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, err = seedCatalog(ctx, db.NewStore(pool), cfg.PartnerShortCode, logger)
	if errors.Is(err, commerce.ErrNotFound) {
		return fmt.Errorf("%w (has 'ecommerce migrate' run?)", err)
	}
	return err
}
