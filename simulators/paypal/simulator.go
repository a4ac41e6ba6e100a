package paypal

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// DefaultTokenTTL is the lifetime of an access token when Config.TokenTTL is zero (PayPal's
// tokens last about nine hours).
const DefaultTokenTTL = 9 * time.Hour

// DefaultPayerEmail is the email of the simulated buyer when Config.PayerEmail is empty.
const DefaultPayerEmail = "buyer@example.com"

// maxBodyBytes bounds a request body.
const maxBodyBytes = 1 << 20

// Config configures a Simulator.
type Config struct {
	// ClientID and ClientSecret are the only credentials the token endpoint accepts.
	ClientID     string
	ClientSecret string
	// TokenTTL is the lifetime of the access tokens issued (DefaultTokenTTL when zero).
	TokenTTL time.Duration
	// PublicURL is the base of the links in answers, e.g. http://localhost:8140; when empty,
	// http(s)://<Host of the request>.
	PublicURL string
	// PayerEmail is the email of the buyer who approves orders (DefaultPayerEmail when empty).
	PayerEmail string
	// Logger receives one line per notable event; discarded if nil.
	Logger *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Simulator is the PayPal simulator. It implements http.Handler and is safe for concurrent use.
type Simulator struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	mux *http.ServeMux

	mu       sync.Mutex
	knobs    Knobs
	tokens   map[string]time.Time // access token -> expiry
	issued   []string
	orders   map[string]*order
	ordered  []string // order ids, oldest first
	captures map[string]*capture
	captured []string
	refunds  map[string]*refund
	refunded []string
	answers  map[string]answer // idempotency scope + "\x00" + PayPal-Request-Id
	calls    []*Call
}

// order is the state of one order.
type order struct {
	id, status, requestID string
	unit                  purchaseUnitRequest
	returnURL, cancelURL  string
	payerAction           bool // created with payment_source: PAYER_ACTION_REQUIRED, payer-action link
	payerID               string
	captureIDs            []string
	created, updated      time.Time
}

// capture is the state of one capture.
type capture struct {
	id, orderID, status, reason string
	amount, refunded            decimal.Decimal
	currency                    string
	invoiceID, customID         string
	refundIDs                   []string
	created, updated            time.Time
}

// refund is the state of one refund.
type refund struct {
	id, captureID, status string
	amount                decimal.Decimal
	currency, invoiceID   string
	noteToPayer           string
	created               time.Time
}

// answer is a stored answer, replayed for a repeated PayPal-Request-Id.
type answer struct {
	status int
	body   []byte
}

// New returns a Simulator for cfg.
func New(cfg Config) *Simulator {
	s := &Simulator{cfg: cfg, log: cfg.Logger, now: cfg.Now, tokens: map[string]time.Time{}}
	s.clear()
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.cfg.TokenTTL <= 0 {
		s.cfg.TokenTTL = DefaultTokenTTL
	}
	if s.cfg.PayerEmail == "" {
		s.cfg.PayerEmail = DefaultPayerEmail
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/oauth2/token", s.observe(s.handleToken))
	s.mux.HandleFunc("POST /v2/checkout/orders", s.api(s.handleCreateOrder))
	s.mux.HandleFunc("GET /v2/checkout/orders/{id}", s.api(s.handleGetOrder))
	s.mux.HandleFunc("POST /v2/checkout/orders/{id}/capture", s.api(s.handleCapture))
	s.mux.HandleFunc("GET /v2/payments/captures/{id}", s.api(s.handleGetCapture))
	s.mux.HandleFunc("POST /v2/payments/captures/{id}/refund", s.api(s.handleRefund))
	s.mux.HandleFunc("GET /checkoutnow", s.observe(s.handleCheckoutPage))
	s.mux.HandleFunc("POST /checkoutnow", s.observe(s.handleCheckoutPage))
	s.mux.HandleFunc("POST /__sim/approve", s.handleSimApprove)
	simhttp.HandleKnobs(s.mux, s.knobsJSON, s.applyKnobs)
	s.mux.HandleFunc("POST /__sim/reset", s.handleReset)
	s.mux.HandleFunc("POST /__sim/revoke-tokens", s.handleRevokeTokens)
	s.mux.HandleFunc("GET /__sim/state", s.handleState)
	s.mux.HandleFunc("GET /__sim/calls", s.handleCalls)
	return s
}

// ServeHTTP serves the API, the approval page and the /__sim/ control endpoints.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Reset forgets orders, captures, refunds, stored idempotent answers and calls, and clears the
// knobs. Issued access tokens stay valid.
func (s *Simulator) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
}

// clear empties the state; s.mu is held (or s is new).
func (s *Simulator) clear() {
	s.knobs = Knobs{}
	s.orders, s.ordered = map[string]*order{}, nil
	s.captures, s.captured = map[string]*capture{}, nil
	s.refunds, s.refunded = map[string]*refund{}, nil
	s.answers = map[string]answer{}
	s.calls = nil
}

// baseURL is the base of the links in an answer to r.
func (s *Simulator) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// idChars are the characters of PayPal's ids.
const idChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newID returns a random PayPal-like id of n characters, e.g. 5O190127TN364715T.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b)
}

// Observation types: what tests and scripts see of the state. Amounts are strings with the
// currency's decimals, as on the wire.
type (
	// Order is an order as the simulator holds it.
	Order struct {
		ID          string   `json:"id"`
		Status      string   `json:"status"`
		RequestID   string   `json:"request_id"`
		ReferenceID string   `json:"reference_id"`
		InvoiceID   string   `json:"invoice_id"`
		CustomID    string   `json:"custom_id"`
		Currency    string   `json:"currency"`
		Amount      string   `json:"amount"`
		PayerID     string   `json:"payer_id"`
		ReturnURL   string   `json:"return_url"`
		CancelURL   string   `json:"cancel_url"`
		CaptureIDs  []string `json:"capture_ids"`
	}
	// Capture is a capture as the simulator holds it.
	Capture struct {
		ID        string   `json:"id"`
		OrderID   string   `json:"order_id"`
		Status    string   `json:"status"`
		Currency  string   `json:"currency"`
		Amount    string   `json:"amount"`
		Refunded  string   `json:"refunded"`
		InvoiceID string   `json:"invoice_id"`
		RefundIDs []string `json:"refund_ids"`
	}
	// Refund is a refund as the simulator holds it.
	Refund struct {
		ID        string `json:"id"`
		CaptureID string `json:"capture_id"`
		Status    string `json:"status"`
		Currency  string `json:"currency"`
		Amount    string `json:"amount"`
	}
	// Call is one request served (the /__sim/ endpoints excepted).
	Call struct {
		Method string `json:"method"`
		Path   string `json:"path"`
		// RequestID is the PayPal-Request-Id header.
		RequestID string `json:"request_id"`
		// Status is the status answered, 0 when the connection was dropped or the client gave
		// up first.
		Status int       `json:"status"`
		At     time.Time `json:"at"`
	}
)

// Orders returns every order, oldest first.
func (s *Simulator) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.ordered))
	for _, id := range s.ordered {
		out = append(out, s.orders[id].view())
	}
	return out
}

// Order returns the order with this id, and whether it exists.
func (s *Simulator) Order(id string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, false
	}
	return o.view(), true
}

// Captures returns every capture, oldest first.
func (s *Simulator) Captures() []Capture {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Capture, 0, len(s.captured))
	for _, id := range s.captured {
		out = append(out, s.captures[id].view())
	}
	return out
}

// Refunds returns every refund, oldest first.
func (s *Simulator) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Refund, 0, len(s.refunded))
	for _, id := range s.refunded {
		r := s.refunds[id]
		out = append(out, Refund{ID: r.id, CaptureID: r.captureID, Status: r.status, Currency: r.currency,
			Amount: formatValue(r.amount, r.currency)})
	}
	return out
}

// Calls returns the requests served so far, oldest first.
func (s *Simulator) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
	}
	return out
}

// IssuedTokens returns every access token issued, oldest first (so that tests can check that
// they never leak).
func (s *Simulator) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// view converts an order for observation.
func (o *order) view() Order {
	v := Order{ID: o.id, Status: o.status, RequestID: o.requestID, ReferenceID: o.unit.ReferenceID,
		InvoiceID: o.unit.InvoiceID, CustomID: o.unit.CustomID, PayerID: o.payerID, ReturnURL: o.returnURL,
		CancelURL: o.cancelURL, CaptureIDs: slices.Clone(o.captureIDs)}
	if o.unit.Amount != nil {
		v.Currency, v.Amount = o.unit.Amount.CurrencyCode, o.unit.Amount.Value
	}
	return v
}

// view converts a capture for observation.
func (c *capture) view() Capture {
	return Capture{ID: c.id, OrderID: c.orderID, Status: c.status, Currency: c.currency,
		Amount: formatValue(c.amount, c.currency), Refunded: formatValue(c.refunded, c.currency),
		InvoiceID: c.invoiceID, RefundIDs: slices.Clone(c.refundIDs)}
}
