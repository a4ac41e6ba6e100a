package cybersource

import (
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	payment "github.com/coursecommerce/commerce/payment/cybersource"
	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// DuplicateWindow is how long an (access_key, transaction_uuid) pair is
// remembered; a reuse within it is answered with ERROR, reason code 104.
// It is also how long a payment page session stays valid.
const DuplicateWindow = 15 * time.Minute

// defaultNotifyTimeout bounds a notification when Config.HTTPClient is nil.
const defaultNotifyTimeout = 10 * time.Second

// maxFormBytes bounds the size of a posted form.
const maxFormBytes = 1 << 20

// Config configures a Simulator.
type Config struct {
	// Profiles are the Secure Acceptance profiles the simulator knows; a
	// payment form must be signed by one of them, and the reply is signed
	// with the same one.
	Profiles []payment.Profile
	// RESTKeys are the REST API keys (merchant id, key id, shared secret) whose HTTP
	// Signature the REST endpoints (refunds) accept; none: every REST request gets a 401.
	RESTKeys []RESTKey
	// NotifyURL is the merchant POST URL that receives every reply server
	// to server (form-encoded), e.g.
	// http://127.0.0.1:8130/payment/cybersource/notify/. Empty: no notify.
	NotifyURL string
	// HTTPClient sends notifications; a client with a 10 s timeout if nil.
	HTTPClient *http.Client
	// Logger receives one line per request outcome; discarded if nil.
	Logger *slog.Logger
	// Now is the clock (time.Now if nil), settable to test the 15 minute
	// duplicate window.
	Now func() time.Time
}

// Simulator is the CyberSource Secure Acceptance simulator. It implements
// http.Handler and is safe for concurrent use.
type Simulator struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	now    func() time.Time
	mux    *http.ServeMux

	pending sync.WaitGroup // delayed notifications in flight

	mu       sync.Mutex
	knobs    Knobs
	sessions map[string]session
	used     map[string]time.Time // access_key + "\x00" + transaction_uuid
	replies  []map[string]string
	stats    NotifyStats
	txnSeq   uint64

	transactions   map[string]*transaction // accepted payments, by transaction id
	transactionIDs []string                // oldest first
	refunds        []*refund
	refundAnswers  map[string]refundAnswer // merchant id, payment id, idempotency key
}

// New returns a Simulator for cfg.
func New(cfg Config) *Simulator {
	s := &Simulator{
		cfg:      cfg,
		log:      cfg.Logger,
		client:   cfg.HTTPClient,
		now:      cfg.Now,
		sessions: map[string]session{},
		used:     map[string]time.Time{},
		txnSeq:   randomSeq(),

		transactions:  map[string]*transaction{},
		refundAnswers: map[string]refundAnswer{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: defaultNotifyTimeout}
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /pay", s.handlePay)
	s.mux.HandleFunc("POST /pay/confirm", s.handleConfirm)
	s.mux.HandleFunc("POST /pts/v2/payments/{id}/refunds", s.handleRefund)
	simhttp.HandleKnobs(s.mux, s.knobsJSON, s.applyKnobs)
	s.mux.HandleFunc("POST /__sim/reset", s.handleReset)
	s.mux.HandleFunc("GET /__sim/replies", s.handleReplies)
	s.mux.HandleFunc("GET /__sim/stats", s.handleStats)
	s.mux.HandleFunc("GET /__sim/refunds", s.handleRefunds)
	return s
}

// ServeHTTP serves the payment page, its confirmation, the REST refunds and
// the /__sim/ control endpoints.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Replies returns copies of every reply sent so far (after tampering, i.e.
// exactly what the browser and the merchant POST URL received), oldest first.
func (s *Simulator) Replies() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]string, len(s.replies))
	for i, r := range s.replies {
		out[i] = maps.Clone(r)
	}
	return out
}

// Reset clears the knobs, recorded replies, notification counts, open
// payment pages, remembered transaction uuids, known payments and refunds.
// Delayed notifications already scheduled are still sent.
func (s *Simulator) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs = Knobs{}
	s.sessions = map[string]session{}
	s.used = map[string]time.Time{}
	s.replies = nil
	s.stats = NotifyStats{}
	s.transactions, s.transactionIDs = map[string]*transaction{}, nil
	s.refunds, s.refundAnswers = nil, map[string]refundAnswer{}
}

// profile returns the configured profile with this access key and profile id.
func (s *Simulator) profile(accessKey, profileID string) (payment.Profile, bool) {
	for _, p := range s.cfg.Profiles {
		if p.AccessKey != "" && p.AccessKey == accessKey && p.ProfileID == profileID {
			return p, true
		}
	}
	return payment.Profile{}, false
}

// markUsed records (accessKey, uuid) as a processed transaction and reports
// whether one was already processed within DuplicateWindow.
func (s *Simulator) markUsed(accessKey, uuid string) (reused bool) {
	return s.checkUsed(accessKey, uuid, true)
}

// wasUsed reports whether (accessKey, uuid) was processed within
// DuplicateWindow, without recording anything: showing a payment page is not
// a transaction, so a learner may reload it.
func (s *Simulator) wasUsed(accessKey, uuid string) bool {
	return s.checkUsed(accessKey, uuid, false)
}

func (s *Simulator) checkUsed(accessKey, uuid string, mark bool) bool {
	now := s.now()
	key := accessKey + "\x00" + uuid
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, at := range s.used {
		if now.Sub(at) >= DuplicateWindow {
			delete(s.used, k)
		}
	}
	if _, ok := s.used[key]; ok {
		return true
	}
	if mark {
		s.used[key] = now
	}
	return false
}

// randomSeq returns a random starting point for transaction ids, so that a
// restarted simulator does not repeat the ids of a previous run.
func randomSeq() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return binary.BigEndian.Uint64(b[:])
}
