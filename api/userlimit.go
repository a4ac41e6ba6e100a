package api

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxRateUsers bounds the learners the per-user limit tracks at once (about 150 bytes each);
// beyond that an arbitrary one is forgotten, which only makes the limit more lenient to them.
const maxRateUsers = 100_000

// userLimit throttles authenticated learners as edX ecommerce does (DRF's UserRateThrottle at
// 75/minute, answered 429 {"detail"}): a token bucket per username that holds perMinute tokens
// and refills at perMinute a minute. edX's ServiceUserThrottle exempts its service users by
// username; here staff users (which edX's service users are) and tokens issued by one of
// serviceIssuers (such as ecommerce_worker) are exempt. Anonymous requests are not counted
// (processor callbacks have their own limit, see limitRate).
type userLimit struct {
	buckets        *rateLimiter
	serviceIssuers []string
}

// newUserLimit returns the limit of perMinute requests a minute, or nil (no limit) when
// perMinute is not positive.
func newUserLimit(perMinute int, serviceIssuers []string) *userLimit {
	if perMinute <= 0 {
		return nil
	}
	return &userLimit{buckets: newRateLimiter(float64(perMinute)/60, perMinute, maxRateUsers), serviceIssuers: serviceIssuers}
}

// limitUsers returns the middleware of cfg's per-user limit (see userLimit), which runs after
// authenticate: it answers 429, with Retry-After and a JSON detail, to an authenticated learner
// over UserRateLimit, and logs refusals once a minute per user. It lets everything through when
// UserRateLimit is not positive.
func (s *Server) limitUsers(cfg Config) gin.HandlerFunc {
	l := newUserLimit(cfg.UserRateLimit, cfg.ServiceIssuers)
	if l == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return func(c *gin.Context) {
		user, ok := currentUser(c)
		if !ok || user.IsStaff || l.isService(c.Request) {
			c.Next()
			return
		}
		v := l.buckets.take(user.Username, s.now())
		if v.allowed {
			c.Next()
			return
		}
		if v.logRefused > 0 {
			s.log.WarnContext(c.Request.Context(), "requests refused by the per-user rate limit", "username", user.Username,
				"path", c.Request.URL.Path, "refused_since_last_log", v.logRefused)
		}
		seconds := max(1, int(math.Ceil(v.retryAfter.Seconds())))
		c.Header("Retry-After", strconv.Itoa(seconds))
		detail(c, http.StatusTooManyRequests, "Request was throttled. Expected available in "+strconv.Itoa(seconds)+" seconds.")
	}
}

// isService reports whether the request's token, which authenticate has verified, was issued
// by a service issuer.
func (l *userLimit) isService(r *http.Request) bool {
	if len(l.serviceIssuers) == 0 {
		return false
	}
	token, _, _ := requestToken(r)
	return slices.Contains(l.serviceIssuers, tokenIssuer(token))
}

// tokenIssuer returns the iss claim of a JWT without checking it (the caller knows the token was
// verified), or "" when it has none.
func tokenIssuer(token string) string {
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	var claims struct {
		Issuer string `json:"iss"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	return claims.Issuer
}
