package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// Store is what the API needs from the store; *db.Store implements it. Methods return
// commerce errors (ErrNotFound, field errors) that the error table turns into statuses.
type Store interface {
	Ping(ctx context.Context) error
	UpsertUser(ctx context.Context, c commerce.UserClaims) (commerce.User, error)
	UserByUsername(ctx context.Context, username string) (commerce.User, error)
	PublishCourse(ctx context.Context, partner string, pub commerce.Publication, create bool) (commerce.Course, error)
	Course(ctx context.Context, id string, withProducts bool) (commerce.Course, error)
	Courses(ctx context.Context, page commerce.Page, withProducts bool) ([]commerce.Course, int64, error)
	Products(ctx context.Context, f commerce.ProductFilter, page commerce.Page) ([]commerce.Product, int64, error)
	Product(ctx context.Context, id int64) (commerce.Product, error)
	ProductsBySKU(ctx context.Context, skus []string) (map[string]commerce.Product, error)
	StockRecordBySKU(ctx context.Context, sku string) (commerce.Product, error)
	UpdatePrice(ctx context.Context, sku string, price commerce.StockRecord) (commerce.StockRecord, error)
	ReplaceOpenBasket(ctx context.Context, ownerID int64, products []commerce.Product) (commerce.Basket, error)
	Basket(ctx context.Context, id int64) (commerce.Basket, error)
	PurchasedProducts(ctx context.Context, userID int64, productIDs []int64) (map[int64]bool, error)
}

// TokenVerifier checks a bearer token and returns the identity it carries.
type TokenVerifier interface {
	Verify(token string) (commerce.UserClaims, error)
}

// Config holds the API's dependencies and settings.
type Config struct {
	Store            Store
	Verifier         TokenVerifier
	PartnerShortCode string
	Logger           *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server holds the handlers' dependencies.
type Server struct {
	store   Store
	tokens  TokenVerifier
	partner string
	log     *slog.Logger
	now     func() time.Time
}

// NewHandler builds the router with every route of the API.
func NewHandler(cfg Config) http.Handler {
	s := &Server{store: cfg.Store, tokens: cfg.Verifier, partner: cfg.PartnerShortCode, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(s.recoverJSON, s.logRequests, limitBody, s.authenticate)
	r.NoRoute(func(c *gin.Context) { detail(c, http.StatusNotFound, "Not found.") })
	r.NoMethod(func(c *gin.Context) {
		detail(c, http.StatusMethodNotAllowed, "Method \""+c.Request.Method+"\" not allowed.")
	})

	r.GET("/health/", s.health)
	v2 := r.Group("/api/v2")
	v2.POST("/publication/", requireStaff, s.createPublication)
	v2.PUT("/publication/*course_id", requireStaff, s.updatePublication)
	v2.GET("/courses/*course_path", s.getCourses)
	v2.GET("/products/", s.listProducts)
	v2.GET("/products/:id/", s.getProduct)
	v2.GET("/stockrecords/:sku/", s.getStockRecord)
	v2.PUT("/stockrecords/:sku/", requireStaff, s.updateStockRecord)
	v2.PATCH("/stockrecords/:sku/", requireStaff, s.updateStockRecord)
	v2.POST("/baskets/", requireUser, s.createBasket)
	v2.GET("/baskets/calculate/", requireUser, s.calculate)
	v2.GET("/baskets/:id/", requireUser, s.getBasket)
	return r
}

func (s *Server) health(c *gin.Context) {
	if err := s.store.Ping(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"overall_status": "UNAVAILABLE", "detailed_status": gin.H{"database_status": "UNAVAILABLE"}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"overall_status": "OK", "detailed_status": gin.H{"database_status": "OK"}})
}
