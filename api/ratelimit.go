package api

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Default limits of the unauthenticated callback routes, per source. A processor's
// server-to-server notifications come from a few addresses, and a load run sends about 20
// purchases a second (a notification and a redirect each) from one address: 100 a second with
// bursts of 200 leaves that more than twice its peak while bounding what one source can write.
const (
	DefaultCallbackRate  = 100
	DefaultCallbackBurst = 200
	// maxRateSources bounds the sources tracked at once (about 100 bytes each).
	maxRateSources = 10000
	// refusalLogInterval is how often refusals of one source are logged.
	refusalLogInterval = time.Minute
)

// rateLimiter is a token bucket per source: each holds up to burst tokens, refilled at rate a
// second, and a request takes one. Memory is bounded: a source idle long enough to have a full
// bucket again is forgotten (nothing is lost), and at most max sources are tracked; beyond that
// an arbitrary one is forgotten, which only makes the limiter more lenient to that source.
type rateLimiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	max     int
	idle    time.Duration
	swept   time.Time
	sources map[string]*bucket
}

type bucket struct {
	tokens  float64
	seen    time.Time
	refused int       // refusals not logged yet
	logged  time.Time // when refusals were last logged
}

// verdict is the limiter's answer to one request.
type verdict struct {
	allowed bool
	// retryAfter is how long until the next request of the source would be allowed.
	retryAfter time.Duration
	// logRefused, when positive, is the number of refusals to log now (once per source per
	// refusalLogInterval).
	logRefused int
}

// newRateLimiter returns a limiter of rate requests a second with bursts of burst, tracking at
// most maxSources sources.
func newRateLimiter(rate float64, burst, maxSources int) *rateLimiter {
	idle := time.Duration(float64(burst) / rate * float64(time.Second))
	return &rateLimiter{rate: rate, burst: float64(burst), max: maxSources, idle: max(idle, refusalLogInterval),
		sources: map[string]*bucket{}}
}

// take spends a token of source at now, if it has one.
func (l *rateLimiter) take(source string, now time.Time) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= l.idle {
		l.sweep(now)
	}
	b, ok := l.sources[source]
	if !ok {
		l.makeRoom(now)
		b = &bucket{tokens: l.burst, seen: now}
		l.sources[source] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.seen).Seconds()*l.rate)
	b.seen = now
	if b.tokens >= 1 {
		b.tokens--
		return verdict{allowed: true}
	}
	v := verdict{retryAfter: time.Duration((1 - b.tokens) / l.rate * float64(time.Second))}
	b.refused++
	if now.Sub(b.logged) >= refusalLogInterval {
		v.logRefused, b.refused, b.logged = b.refused, 0, now
	}
	return v
}

// sweep forgets the sources idle for l.idle: their buckets are full again.
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.sources {
		if now.Sub(b.seen) >= l.idle {
			delete(l.sources, k)
		}
	}
	l.swept = now
}

// makeRoom makes room for one more source: it sweeps (at most once a second) and, if the
// limiter is still full, forgets arbitrary sources.
func (l *rateLimiter) makeRoom(now time.Time) {
	if len(l.sources) < l.max {
		return
	}
	if now.Sub(l.swept) >= time.Second {
		l.sweep(now)
	}
	for k := range l.sources {
		if len(l.sources) < l.max {
			break
		}
		delete(l.sources, k)
	}
}

// tracked is the number of sources the limiter remembers.
func (l *rateLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sources)
}

// sourceKey names the source of a request for rate limiting from its client IP (gin's
// ClientIP: X-Forwarded-For counts only from the configured trusted proxies). IPv6 addresses are
// grouped by their /64, which one client usually holds whole.
func sourceKey(clientIP string) string {
	ip := net.ParseIP(clientIP)
	if ip == nil || ip.To4() != nil {
		return clientIP
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// limitRate answers 429, with Retry-After, to a source calling faster than the limiter allows;
// the request is not read nor recorded. Refusals are logged once a minute per source.
func (s *Server) limitRate(c *gin.Context) {
	if s.throttled(c) {
		return
	}
	c.Next()
}

// throttled spends a token of the request's source (and, for refused processor messages, of
// the global budget); when there is none it answers 429 with Retry-After and returns true.
func (s *Server) throttled(c *gin.Context, budgets ...*rateLimiter) bool {
	source := sourceKey(c.ClientIP())
	now := time.Now()
	for _, l := range append([]*rateLimiter{s.limiter}, budgets...) {
		if l == nil {
			continue
		}
		key := source
		if l != s.limiter {
			key = "all sources"
		}
		v := l.take(key, now)
		if v.allowed {
			continue
		}
		if v.logRefused > 0 {
			s.log.WarnContext(c.Request.Context(), "requests refused by the rate limit", "source", source, "limit", key,
				"path", c.Request.URL.Path, "refused_since_last_log", v.logRefused)
		}
		seconds := max(1, int(math.Ceil(v.retryAfter.Seconds())))
		c.Header("Retry-After", strconv.Itoa(seconds))
		detail(c, http.StatusTooManyRequests, "Request was throttled. Expected available in "+strconv.Itoa(seconds)+" seconds.")
		return true
	}
	return false
}
