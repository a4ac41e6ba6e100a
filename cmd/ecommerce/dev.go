package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/coursecommerce/commerce/db"
)

// dev runs everything a newcomer needs in one process: migrations, the demo catalog and the API.
func dev(ctx context.Context, cfg config, logger *slog.Logger, stdout io.Writer) error {
	logger.Info("starting dev", cfg.logAttrs()...)
	pool, err := openDatabase(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := applyMigrations(ctx, pool, logger); err != nil {
		return err
	}
	store := db.NewStore(pool)
	courses, err := seedCatalog(ctx, store, cfg.PartnerShortCode, logger)
	if err != nil {
		return err
	}
	handler, err := newAPIHandler(cfg, store, logger)
	if err != nil {
		return err
	}
	sku := ""
	for _, p := range courses[0].Products {
		if p.CertificateType == "verified" {
			sku = p.StockRecord.PartnerSKU
		}
	}
	fmt.Fprintf(stdout, `
The commerce service is running on %[1]s

  Mint a token (staff):   TOKEN=$(go run ./cmd/ecommerce token --username alice --admin)
  List the catalog:       curl -s %[1]s/api/v2/courses/?include_products=true
  Price a seat:           curl -s -H "Authorization: JWT $TOKEN" '%[1]s/api/v2/baskets/calculate/?sku=%[2]s'
  Build a basket:         curl -s -H "Authorization: JWT $TOKEN" -H 'Content-Type: application/json' \
                               -d '{"products":[{"sku":"%[2]s"}]}' %[1]s/api/v2/baskets/

`, cfg.PublicURL, sku)
	return listenAndServe(ctx, cfg, handler, logger)
}
