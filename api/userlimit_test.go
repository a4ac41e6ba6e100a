package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

const (
	limitSecret  = "user-limit-secret"
	limitIssuer  = "http://lms.test/oauth2"
	limitService = "ecommerce_worker"
)

// limitedAPI is the API with a per-user limit of perMinute (service issuer ecommerce_worker) on
// a clock the test moves.
type limitedAPI struct {
	t       *testing.T
	handler http.Handler
	mu      sync.Mutex
	now     time.Time
}

func newLimitedAPI(t *testing.T, perMinute int) *limitedAPI {
	t.Helper()
	verifier, err := auth.NewVerifier(limitSecret, []string{limitIssuer, limitService})
	require.NoError(t, err)
	a := &limitedAPI{t: t, now: time.Now()}
	a.handler = NewHandler(Config{
		Store: dbtest.Store(t), Verifier: verifier, PartnerShortCode: "EDX", PublicURL: "http://shop.test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: a.clock,
		UserRateLimit: perMinute, ServiceIssuers: []string{limitService},
	})
	return a
}

func (a *limitedAPI) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *limitedAPI) advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

// token mints a token for username from issuer.
func (a *limitedAPI) token(username, issuer string, staff bool) string {
	a.t.Helper()
	tok, err := auth.Mint(limitSecret, auth.TokenOptions{Username: username, Email: username + "@example.com", Admin: staff, Issuer: issuer})
	require.NoError(a.t, err)
	return tok
}

// get sends GET path with token (anonymous when empty).
func (a *limitedAPI) get(path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "JWT "+token)
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// served sends n requests with token and returns how many were answered 200.
func (a *limitedAPI) served(n int, token string) int {
	ok := 0
	for range n {
		if a.get("/api/v2/orders/", token).Code == http.StatusOK {
			ok++
		}
	}
	return ok
}

func TestUserRateLimitThrottlesTheSeventySixthRequestOfALearner(t *testing.T) {
	t.Parallel()
	a := newLimitedAPI(t, 75)
	learner := a.token(dbtest.Unique("learner-"), limitIssuer, false)
	require.Equal(t, 75, a.served(75, learner))

	rec := a.get("/api/v2/orders/", learner)
	require.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
	require.Equal(t, "1", rec.Header().Get("Retry-After"), "a token every 0.8 s")
	require.Contains(t, rec.Header().Get("Content-Type"), "application/json")
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.Equal(t, map[string]any{"detail": "Request was throttled. Expected available in 1 seconds."}, body)

	require.Equal(t, 5, a.served(5, a.token(dbtest.Unique("other-"), limitIssuer, false)), "another learner is served")
	a.advance(time.Second)
	require.Equal(t, 1, a.served(2, learner), "after Retry-After, one more (75 a minute)")
	a.advance(time.Minute)
	require.Equal(t, 75, a.served(80, learner), "a minute later, the whole burst again, no more")
}

func TestUserRateLimitExemptsStaffServiceUsersAndAnonymousRequests(t *testing.T) {
	t.Parallel()
	a := newLimitedAPI(t, 75)
	require.Equal(t, 100, a.served(100, a.token(dbtest.Unique("staff-"), limitIssuer, true)), "staff")
	require.Equal(t, 100, a.served(100, a.token(limitService, limitService, false)), "a service user (issuer ecommerce_worker)")
	for i := range 100 {
		require.Equal(t, http.StatusOK, a.get("/api/v2/products/", "").Code, "anonymous request %d", i)
	}
}

func TestUserRateLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	a := newLimitedAPI(t, 3)
	require.Equal(t, 3, a.served(5, a.token(dbtest.Unique("learner-"), limitIssuer, false)))
	rec := a.get("/api/v2/orders/", a.token(dbtest.Unique("learner-"), limitIssuer, false))
	require.Equal(t, http.StatusOK, rec.Code)

	off := newLimitedAPI(t, 0)
	require.Equal(t, 200, off.served(200, off.token(dbtest.Unique("learner-"), limitIssuer, false)), "0 turns the limit off")
}

func TestUserRateLimitNeverThrottlesThePaymentPage(t *testing.T) {
	t.Parallel()
	a := newLimitedAPI(t, 75)
	learner := a.token(dbtest.Unique("learner-"), limitIssuer, false)
	// edX's payment page: a dozen BFF calls a minute, in bursts, for ten minutes.
	for minute := range 10 {
		require.Equal(t, 12, a.served(12, learner), "minute %d", minute)
		a.advance(time.Minute)
	}
}

func TestUserLimitNeverThrottlesALoadRunOfDistinctLearners(t *testing.T) {
	t.Parallel()
	l := newUserLimit(75, nil)
	now := time.Unix(1_000_000, 0)
	// 200 purchases a second for five minutes, each by a new learner making 20 calls at once.
	for second := range 300 {
		at := now.Add(time.Duration(second) * time.Second)
		for p := range 200 {
			learner := fmt.Sprintf("load-%d-%d", second, p)
			for call := range 20 {
				require.True(t, l.buckets.take(learner, at).allowed, "learner %s call %d", learner, call)
			}
		}
		require.LessOrEqual(t, l.buckets.tracked(), maxRateUsers, "memory is bounded")
	}
	require.Nil(t, newUserLimit(0, nil), "0 means no limit")
}

func TestTokenIssuer(t *testing.T) {
	t.Parallel()
	tok, err := auth.Mint(limitSecret, auth.TokenOptions{Username: "w", Issuer: limitService})
	require.NoError(t, err)
	require.Equal(t, limitService, tokenIssuer(tok))
	for _, bad := range []string{"", "a.b.c", "x.!!.y", "only"} {
		require.Empty(t, tokenIssuer(bad), bad)
	}
}
