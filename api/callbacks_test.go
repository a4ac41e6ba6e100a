package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/internal/openapitest"
	"github.com/coursecommerce/commerce/payment/cybersource"
	"github.com/stretchr/testify/require"
)

// withConfig builds the harness's API with the callback settings of tune.
func (h *harness) withConfig(tune func(*api.Config)) http.Handler {
	verifier, err := auth.NewVerifier(testSecret, []string{testIssuer})
	require.NoError(h.t, err)
	proc := cybersource.Processor{Config: cybersource.Config{Profile: testProfile, PaymentPageURL: "http://pay.test/pay"}, PublicURL: "http://shop.test"}
	cfg := api.Config{
		Store: h.store, Verifier: verifier, PartnerShortCode: "EDX", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PublicURL: "http://shop.test", Checkouts: h.checkouts, Processors: []api.PaymentProcessor{proc}, CyberSource: proc,
	}
	tune(&cfg)
	return openapitest.Handler(h.t, api.NewHandler(cfg))
}

// postFrom posts a form to path from a client address ("203.0.113.7:4000"), with extra headers.
func postFrom(handler http.Handler, path, remoteAddr, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.RemoteAddr = remoteAddr
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec
}

// unsignedReply is a reply nobody signed for an unknown order: recorded, then refused.
func unsignedReply(number string) string {
	return url.Values{"req_reference_number": {number}, "decision": {"ACCEPT"}, "transaction_id": {number + "-TXN"}}.Encode()
}

func (h *harness) responsesFor(number string) int {
	return h.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1", number)
}

func TestOversizedCallbackIs413AndItsFirstBytesAreRecorded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	number, txn := dbtest.Unique("EDX-BIG-"), dbtest.Unique("TXN-BIG-")
	form := "req_reference_number=" + number + "&transaction_id=" + txn + "&padding=" + strings.Repeat("x", 65<<10) + "&decision=ACCEPT"

	rec := postFrom(h.handler, "/payment/cybersource/notify/", "192.0.2.10:1000", form)
	body := requireStatus(t, rec, http.StatusRequestEntityTooLarge)
	require.Equal(t, "Request body is larger than 64 KiB.", body["detail"])
	require.Equal(t, 1, h.count(`SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND transaction_id = $2
		AND NOT authentic AND kind = 'notification' AND length(response->>'truncated_body') = 4096
		AND response->>'body_limit_bytes' = '65536' AND NOT response ? 'decision'`, number, txn))
	_, notified, _ := h.checkouts.counts()
	require.Zero(t, notified)

	t.Run("AtTheLimitIsReadAsAForm", func(t *testing.T) {
		number := dbtest.Unique("EDX-LIMIT-")
		form := unsignedReply(number) + "&padding="
		form += strings.Repeat("y", 64<<10-len(form))
		requireStatus(t, postFrom(h.handler, "/payment/cybersource/redirect/", "192.0.2.10:1000", form), http.StatusBadRequest)
		// Read and refused as not authentic; a refused message is recorded, truncated to 4 KiB.
		require.Equal(t, 1, h.count(`SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND NOT authentic
			AND kind = 'redirect' AND length(response->>'truncated_body') = 4096`, number))
	})
	t.Run("DeclaredOverOneMiBIsRefusedUnread", func(t *testing.T) {
		number := dbtest.Unique("EDX-HUGE-")
		req := httptest.NewRequest("POST", "/payment/cybersource/notify/", strings.NewReader(unsignedReply(number)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.ContentLength = 2 << 20
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		requireStatus(t, rec, http.StatusRequestEntityTooLarge)
		require.Zero(t, h.responsesFor(number))
	})
	t.Run("TheLimitIsConfigurable", func(t *testing.T) {
		small := h.withConfig(func(c *api.Config) { c.CallbackMaxBodyBytes = 100 })
		number := dbtest.Unique("EDX-SMALL-")
		body := requireStatus(t, postFrom(small, "/payment/cybersource/notify/", "192.0.2.10:1000", unsignedReply(number)+"&pad="+strings.Repeat("z", 100)), http.StatusRequestEntityTooLarge)
		require.Equal(t, "Request body is larger than 100 bytes.", body["detail"])
		require.Equal(t, 1, h.responsesFor(number))
	})
}

func TestCallbackWithNULOrInvalidUTF8IsRecordedAsNotAuthentic(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	number, txn := dbtest.Unique("EDX-NUL-"), dbtest.Unique("TXN-")
	form := url.Values{"req_reference_number": {number}, "transaction_id": {txn + "\x00"}, "decision": {"ACCEPT\xff"},
		"bad\x00key": {"v"}, "req_amount": {"1.00\x00"}}
	rec := postFrom(h.handler, "/payment/cybersource/notify/", "192.0.2.11:1000", form.Encode())
	requireStatus(t, rec, http.StatusBadRequest)
	require.Equal(t, 1, h.count(`SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND transaction_id = $2
		AND NOT authentic AND response->>'decision' = $3 AND response ? $4`, number, txn+"\uFFFD", "ACCEPT\uFFFD", "bad\uFFFDkey"))
	_, notified, _ := h.checkouts.counts()
	require.Zero(t, notified)
}

func TestCallbacksAreRateLimitedPerSource(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	limited := h.withConfig(func(c *api.Config) { c.CallbackRate, c.CallbackBurst = 0.01, 3 })
	a, b := dbtest.Unique("EDX-RL-A-"), dbtest.Unique("EDX-RL-B-")
	const sourceA, sourceB = "203.0.113.7:40000", "198.51.100.9:40000"

	for i := 0; i < 3; i++ {
		requireStatus(t, postFrom(limited, "/payment/cybersource/notify/", sourceA, unsignedReply(a)), http.StatusBadRequest)
	}
	for _, path := range []string{"/payment/cybersource/notify/", "/payment/cybersource/redirect/"} {
		rec := postFrom(limited, path, sourceA, unsignedReply(a))
		body := requireStatus(t, rec, http.StatusTooManyRequests)
		retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		require.NoError(t, err, rec.Header())
		require.GreaterOrEqual(t, retry, 1)
		require.Contains(t, body["detail"], "throttled")
	}
	require.Equal(t, 3, h.responsesFor(a), "refused requests are not recorded")

	t.Run("AnotherSourceIsServed", func(t *testing.T) {
		requireStatus(t, postFrom(limited, "/payment/cybersource/notify/", sourceB, unsignedReply(b)), http.StatusBadRequest)
		require.Equal(t, 1, h.responsesFor(b))
	})
	t.Run("XForwardedForIsNotTrustedByDefault", func(t *testing.T) {
		rec := postFrom(limited, "/payment/cybersource/notify/", sourceA, unsignedReply(a), "X-Forwarded-For", "192.0.2.99", "X-Real-IP", "192.0.2.98")
		requireStatus(t, rec, http.StatusTooManyRequests)
		require.Equal(t, 3, h.responsesFor(a))
	})
	t.Run("OtherRoutesAreNotLimited", func(t *testing.T) {
		requireStatus(t, postFrom(limited, "/api/v2/courses/", sourceA, ""), http.StatusMethodNotAllowed)
		req := httptest.NewRequest("GET", "/api/v2/courses/", nil)
		req.RemoteAddr = sourceA
		rec := httptest.NewRecorder()
		limited.ServeHTTP(rec, req)
		requireStatus(t, rec, http.StatusOK)
	})
	t.Run("BehindATrustedProxyTheForwardedClientIsTheSource", func(t *testing.T) {
		proxied := h.withConfig(func(c *api.Config) {
			c.CallbackRate, c.CallbackBurst, c.TrustedProxies = 0.01, 1, []string{"10.0.0.0/8"}
		})
		c1, c2 := dbtest.Unique("EDX-RL-C1-"), dbtest.Unique("EDX-RL-C2-")
		requireStatus(t, postFrom(proxied, "/payment/cybersource/notify/", "10.1.2.3:5000", unsignedReply(c1), "X-Forwarded-For", "203.0.113.50"), http.StatusBadRequest)
		requireStatus(t, postFrom(proxied, "/payment/cybersource/notify/", "10.1.2.3:5000", unsignedReply(c1), "X-Forwarded-For", "203.0.113.50"), http.StatusTooManyRequests)
		requireStatus(t, postFrom(proxied, "/payment/cybersource/notify/", "10.1.2.3:5000", unsignedReply(c2), "X-Forwarded-For", "203.0.113.51"), http.StatusBadRequest)
		require.Equal(t, 1, h.responsesFor(c1))
		require.Equal(t, 1, h.responsesFor(c2))
	})
	t.Run("ANegativeRateTurnsTheLimitOff", func(t *testing.T) {
		off := h.withConfig(func(c *api.Config) { c.CallbackRate, c.CallbackBurst = -1, 1 })
		for i := 0; i < 5; i++ {
			requireStatus(t, postFrom(off, "/payment/cybersource/notify/", sourceA, unsignedReply(b)), http.StatusBadRequest)
		}
	})
}

// An authentic processor message is never throttled: the per-source limit only bounds what
// nobody signed, so a burst of forgeries from the processor's address cannot make us drop a
// real payment.
func TestAuthenticCallbacksAreNeverThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	limited := h.withConfig(func(c *api.Config) { c.CallbackRate, c.CallbackBurst = 0.01, 1 })
	const processorIP = "203.0.113.80:443"
	forged := dbtest.Unique("EDX-FORGED-")
	requireStatus(t, postFrom(limited, "/payment/cybersource/notify/", processorIP, unsignedReply(forged)), http.StatusBadRequest)
	requireStatus(t, postFrom(limited, "/payment/cybersource/notify/", processorIP, unsignedReply(forged)), http.StatusTooManyRequests)
	for i := 0; i < 5; i++ {
		number := fmt.Sprintf("EDX-%d", 900000+i)
		reply := signedReply(acceptReply(number, "49.00", fmt.Sprintf("%d", 7000+i)))
		rec := postFrom(limited, "/payment/cybersource/notify/", processorIP, reply.Encode())
		requireStatus(t, rec, http.StatusOK)
		require.Equal(t, 1, h.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND authentic", number))
	}
}

// Refused messages from many sources share one global budget, so rotating addresses does not
// make recording unbounded.
func TestRefusedCallbacksShareAGlobalBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	prefix := dbtest.Unique("EDX-ROT-")
	recorded, throttled := 0, 0
	for i := 0; i < 80; i++ {
		source := fmt.Sprintf("198.18.%d.%d:1000", i/250, i%250+1)
		rec := postFrom(h.handler, "/payment/cybersource/notify/", source, unsignedReply(fmt.Sprintf("%s-%d", prefix, i)))
		switch rec.Code {
		case http.StatusBadRequest:
			recorded++
		case http.StatusTooManyRequests:
			throttled++
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
	}
	require.Positive(t, throttled, "80 sources at once exceed the global budget")
	require.LessOrEqual(t, recorded, 60)
	require.Equal(t, recorded, h.count("SELECT count(*) FROM payment_processor_responses WHERE order_number LIKE $1", prefix+"-%"))
}
