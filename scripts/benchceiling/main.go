// Command benchceiling serves GET /api/v2/baskets/calculate/ the way the service's Gin router
// does (release mode, recovery, the learner's JWT verified with the service's verifier) but
// answers a fixed total without any I/O: the ceiling that scripts/bench-calculate.sh measures
// beside the real calculate, so that its figure is a ratio (docs/benchmarks.md).
package main

import (
	"flag"
	"log"
	"net/http"
	"strings"

	"github.com/coursecommerce/commerce/auth"
	"github.com/gin-gonic/gin"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8141", "listen address")
	secret := flag.String("secret", "dev-lms-jwt-secret-change-me", "HS256 secret of the tokens (the service's JWT_SECRET_KEY)")
	issuers := flag.String("issuers", "http://127.0.0.1:18000/oauth2,ecommerce_worker", "accepted issuers (the service's JWT_ISSUERS)")
	flag.Parse()
	verifier, err := auth.NewVerifier(*secret, strings.Split(*issuers, ","))
	if err != nil {
		log.Fatalf("verifier: %v", err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/api/v2/baskets/calculate/", func(c *gin.Context) {
		token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "JWT ")
		if !ok {
			c.JSON(http.StatusUnauthorized, gin.H{"detail": "Authentication credentials were not provided."})
			return
		}
		if _, err := verifier.Verify(token); err != nil {
			c.JSON(http.StatusUnauthorized, gin.H{"detail": "Invalid token."})
			return
		}
		if len(c.QueryArray("sku")) == 0 {
			c.JSON(http.StatusBadRequest, gin.H{"detail": "No SKUs provided."})
			return
		}
		c.JSON(http.StatusOK, gin.H{"total_incl_tax_excl_discounts": "49.00", "total_incl_tax": "49.00", "currency": "USD"})
	})
	log.Fatal(http.ListenAndServe(*addr, r))
}
