package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// Store is what the API needs from the store, one interface per resource (each declared beside
// its handlers); *db.Store implements it. Methods return commerce errors (ErrNotFound, field
// errors) that the error table turns into statuses.
type Store interface {
	Ping(ctx context.Context) error
	UserStore
	CatalogStore
	BasketStore
	CheckoutStore
	PaymentStore
	OrderStore
	VoucherStore
	CouponStore
	OfferStore
	RefundStore
	OpsStore
	IdempotencyStore
}

// Checkouts starts and signals checkout workflows; *workflows.Checkouts implements it. Errors
// wrap commerce.ErrUnavailable when Temporal cannot be reached.
type Checkouts interface {
	Start(ctx context.Context, c commerce.Checkout) error
	NotifyPayment(ctx context.Context, c commerce.Checkout, n commerce.PaymentNotification) error
	RetryFulfillment(ctx context.Context, c commerce.Checkout, by string) error
}

// PaymentProcessor builds what a storefront needs to pay a checkout at one processor.
type PaymentProcessor interface {
	Name() string
	PaymentData(c commerce.Checkout) (commerce.PaymentData, error)
}

// ReplyVerifier verifies and normalises a processor's signed reply. Forged replies wrap
// commerce.ErrForgedMessage; authentic but unusable ones commerce.ErrMalformedMessage.
type ReplyVerifier interface {
	Notification(fields map[string]string) (commerce.PaymentNotification, error)
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
	// PublicURL is the service's external base URL (receipt and cancel pages).
	PublicURL string
	// Checkouts runs checkout workflows; nil disables checkout (503).
	Checkouts Checkouts
	// Refunds runs refund workflows; nil makes approving a refund answer 503.
	Refunds Refunds
	// Processors are the enabled payment processors; the first is the default.
	Processors []PaymentProcessor
	// PayPal creates and completes PayPal payments; nil disables PayPal (it is then not among the
	// processors either).
	PayPal HostedProcessor
	// CyberSource verifies CyberSource replies; nil disables its callbacks.
	CyberSource ReplyVerifier
	Logger      *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CallbackRate is how many requests a second one source (client IP; IPv6 /64) may send to
	// the unauthenticated processor callbacks; 0 means DefaultCallbackRate, negative no limit.
	CallbackRate float64
	// CallbackBurst is how many callbacks one source may send at once; 0 means
	// DefaultCallbackBurst.
	CallbackBurst int
	// CallbackMaxBodyBytes bounds a processor callback's body (413 above it); 0 means
	// DefaultCallbackMaxBodyBytes.
	CallbackMaxBodyBytes int64
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose X-Forwarded-For and X-Real-IP
	// name the client; empty trusts none, so the client is the connection's peer.
	TrustedProxies []string
	// CORSOrigins are the browser origins (scheme://host[:port], exact) allowed to call the API
	// with credentials, such as edX's payment page; empty means no CORS.
	CORSOrigins []string
	// CSRFSecretKey keys the HMAC of CSRF tokens (the same on every replica); empty means a
	// random key per process.
	CSRFSecretKey string
	// PaymentPageURL is where /basket/add/ sends the learner: edX's payment page
	// (frontend-app-payment). Empty sends the learner to the service's own basket page (/basket/).
	PaymentPageURL string
	// LMSURL is the LMS's base URL: a browser that is not logged in is sent to its /login page.
	LMSURL string
	// Metrics records every request and serves GET /metrics; nil means neither.
	Metrics Metrics
	// TemporalHealth checks that Temporal answers, for GET /ready/ (such as the client's
	// CheckHealth); nil means Temporal is not checked.
	TemporalHealth func(ctx context.Context) error
	// UserRateLimit is how many requests a minute one authenticated learner may send, in bursts
	// of as many (edX throttles users at 75 a minute); above it they are answered 429 with
	// Retry-After. Staff and service users (ServiceIssuers) are exempt and anonymous requests
	// not counted. 0 means no limit.
	UserRateLimit int
	// ServiceIssuers are the JWT issuers of service users, such as ecommerce_worker, whose
	// requests UserRateLimit does not count.
	ServiceIssuers []string
}

// Server holds the handlers' dependencies.
type Server struct {
	store       Store
	checkouts   Checkouts
	refunds     Refunds
	processors  []PaymentProcessor
	cybersource ReplyVerifier
	paypal      HostedProcessor
	publicURL   string
	// basketURL is where a learner whose payment did not go through finds their basket again:
	// PAYMENT_PAGE_URL, or the service's own basket page.
	basketURL string
	tokens    TokenVerifier
	partner   string
	log       *slog.Logger
	now       func() time.Time
	// limiter bounds the callbacks' rate per source; nil means no limit.
	limiter *rateLimiter
	// refusedBudget bounds, across all sources, how many refused processor messages a second are
	// recorded; nil means no limit.
	refusedBudget *rateLimiter
	// callbackMaxBody bounds a callback's body.
	callbackMaxBody int64
	// csrf issues and checks the CSRF tokens of JWT-cookie mutations.
	csrf csrfGuard
}

// NewHandler builds the router with every route of the API.
func NewHandler(cfg Config) http.Handler {
	s := &Server{store: cfg.Store, tokens: cfg.Verifier, partner: cfg.PartnerShortCode, log: cfg.Logger, now: cfg.Now,
		checkouts: cfg.Checkouts, refunds: cfg.Refunds, processors: cfg.Processors, cybersource: cfg.CyberSource, paypal: cfg.PayPal,
		publicURL: strings.TrimRight(cfg.PublicURL, "/")}
	s.basketURL = cfg.PaymentPageURL
	if s.basketURL == "" {
		s.basketURL = s.publicURL + "/basket/"
	}
	if cfg.PayPal != nil {
		s.processors = append(s.processors[:len(s.processors):len(s.processors)], hostedPayment{cfg.PayPal})
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.configureCallbacks(cfg)
	s.csrf = newCSRFGuard(cfg)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		s.log.Error("invalid trusted proxies: trusting none", "trusted_proxies", cfg.TrustedProxies, "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(measureRequests(cfg.Metrics), s.recoverJSON, s.logRequests, noStore, s.checkURLText, limitBody, s.authenticate, s.limitUsers(cfg))
	r.NoRoute(func(c *gin.Context) { detail(c, http.StatusNotFound, "Not found.") })
	r.NoMethod(func(c *gin.Context) {
		detail(c, http.StatusMethodNotAllowed, "Method \""+c.Request.Method+"\" not allowed.")
	})

	r.GET("/health/", s.health)
	r.GET("/ready/", s.ready(cfg.TemporalHealth))
	r.GET("/metrics", metricsPage(cfg.Metrics))
	v2 := r.Group("/api/v2")
	v2.POST("/publication/", requireStaff, s.idempotent, s.createPublication)
	v2.PUT("/publication/*course_id", requireStaff, s.updatePublication)
	v2.GET("/courses/*course_path", s.getCourses)
	v2.GET("/products/", s.listProducts)
	v2.GET("/products/:id/", s.getProduct)
	v2.GET("/stockrecords/:sku/", s.getStockRecord)
	v2.PUT("/stockrecords/:sku/", requireStaff, s.updateStockRecord)
	v2.PATCH("/stockrecords/:sku/", requireStaff, s.updateStockRecord)
	v2.POST("/baskets/", requireUser, s.idempotent, s.createBasket)
	v2.GET("/baskets/calculate/", requireUser, s.calculate)
	v2.GET("/baskets/:id/", requireUser, s.getBasket)
	v2.POST("/baskets/:id/vouchers/", requireUser, s.idempotent, s.addVoucher)
	v2.DELETE("/baskets/:id/vouchers/:code", requireUser, s.removeVoucher)
	v2.GET("/vouchers/", requireStaff, s.listVouchers)
	v2.GET("/vouchers/offers/", s.voucherOffers)
	v2.POST("/coupons/", requireStaff, s.idempotent, s.createCoupon)
	v2.GET("/coupons/", requireStaff, s.listCoupons)
	v2.GET("/coupons/:id/", requireStaff, s.getCoupon)
	v2.PUT("/coupons/:id/", requireStaff, s.updateCoupon)
	v2.PATCH("/coupons/:id/", requireStaff, s.updateCoupon)
	v2.DELETE("/coupons/:id/", requireStaff, s.deleteCoupon)
	v2.GET("/coupons/:id/codes/", requireStaff, s.couponCodes)
	v2.POST("/offers/", requireStaff, s.idempotent, s.createOffer)
	v2.GET("/offers/", requireStaff, s.listOffers)
	v2.GET("/offers/:id/", requireStaff, s.getOffer)
	v2.PUT("/offers/:id/", requireStaff, s.updateOffer)
	v2.POST("/checkout/", requireUser, s.idempotent, s.postCheckout)
	v2.GET("/orders/", requireUser, s.listOrders)
	v2.GET("/orders/:number/", requireUser, s.getOrder)
	v2.PUT("/orders/:number/fulfill/", requireStaff, s.fulfillOrder)
	v2.PATCH("/orders/:number/fulfill/", requireStaff, s.fulfillOrder)
	v2.POST("/refunds/", requireUser, s.idempotent, s.createRefunds)
	v2.GET("/refunds/:id/", requireUser, s.getRefund)
	v2.PUT("/refunds/:id/process/", requireStaff, s.processRefund)
	v2.PATCH("/refunds/:id/process/", requireStaff, s.processRefund)
	v2.GET("/ops/stuck-orders/", requireStaff, s.stuckOrders)
	// Callbacks are not throttled up front: an authentic processor message is always recorded and
	// acted on; refused ones are throttled per source and globally (see refusedCallback).
	callbacks := r.Group("/payment")
	callbacks.POST("/cybersource/notify/", s.cybersourceNotify)
	callbacks.POST("/cybersource/redirect/", s.cybersourceRedirect)
	callbacks.GET("/paypal/execute/", s.limitRate, s.paypalExecute)
	callbacks.GET("/paypal/cancel/", s.limitRate, s.paypalCancel)
	r.GET("/checkout/receipt/", s.receipt)
	r.GET("/coupons/enrollment_code_csv/:number/", requireUser, s.enrollmentCodeCSV)
	r.GET("/checkout/cancel-checkout/", s.cancelPage)
	s.shopFrontRoutes(r, cfg)
	s.shopPageRoutes(r, cfg)
	r.GET(CSRFTokenPath, s.csrf.issueToken)
	return withCORS(cfg.CORSOrigins, r)
}

// configureCallbacks sets the callbacks' rate limit and body bound from cfg and their defaults.
func (s *Server) configureCallbacks(cfg Config) {
	s.callbackMaxBody = cfg.CallbackMaxBodyBytes
	if s.callbackMaxBody <= 0 {
		s.callbackMaxBody = DefaultCallbackMaxBodyBytes
	}
	rate, burst := cfg.CallbackRate, cfg.CallbackBurst
	if rate < 0 {
		return
	}
	if rate == 0 {
		rate = DefaultCallbackRate
	}
	if burst <= 0 {
		burst = DefaultCallbackBurst
	}
	s.limiter = newRateLimiter(rate, burst, maxRateSources)
	s.refusedBudget = newRateLimiter(refusedRate, refusedBurst, 1)
}

func (s *Server) health(c *gin.Context) {
	if err := s.store.Ping(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"overall_status": "UNAVAILABLE", "detailed_status": gin.H{"database_status": "UNAVAILABLE"}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"overall_status": "OK", "detailed_status": gin.H{"database_status": "OK"}})
}
