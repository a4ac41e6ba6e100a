package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// CSRF protection of cookie-authenticated mutations, as Django's double submit: a page gets a
// token from GET CSRFTokenPath (JSON csrfToken, and the same value in the CSRFCookieName cookie)
// and sends it back in the CSRFHeader of every POST, PUT, PATCH and DELETE it authenticates with
// the JWT cookies (authenticate checks it once the cookies are verified). Requests with an
// Authorization header, anonymous ones and processor callbacks carry no JWT cookie credential
// (see requestToken) and are not checked.
//
// A token is 32 random bytes (crypto/rand) and their HMAC-SHA256 under the service's CSRF key,
// so only this service can make one: a value of a sibling subdomain's own choosing is refused.
// That is not the main defence: anyone can fetch a valid token from the token endpoint, and the
// token is not bound to the user (the page may fetch it before it logs in). What keeps another
// origin from sending the header at all is CORS: a custom header needs a preflight the service
// only grants to CORS_ORIGINS.
//
// The service's own HTML forms (the basket page) cannot send a header: they carry the token in
// the CSRFFormField of their body instead, taken only from the service's own origin (see
// formToken).
const (
	// CSRFTokenPath serves {"csrfToken": "..."} and sets the cookie.
	CSRFTokenPath = "/csrf/api/v1/token"
	// CSRFCookieName is the double-submit cookie (HttpOnly: the page reads the JSON answer).
	CSRFCookieName = "ecommerce_csrftoken"
	// CSRFHeader carries the token on a mutation.
	CSRFHeader = "X-CSRFToken"

	csrfNonceBytes   = 32
	csrfCookieMaxAge = 365 * 24 * 60 * 60
	csrfMACLabel     = "commerce csrf token v1\x00"
)

// processCSRFKey keys the tokens of a process given no CSRF key: tokens then last as long as
// the process and are refused by other replicas.
var processCSRFKey = sync.OnceValue(func() []byte {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand aborts the program instead)
	return key
})

// csrfGuard issues and checks CSRF tokens.
type csrfGuard struct {
	key []byte
	// secure marks the cookie Secure (the service is served over https).
	secure bool
	// origin is the service's public origin (scheme://host[:port]); its form posts must come
	// from it. Empty: from the request's own host.
	origin string
}

// newCSRFGuard returns the guard cfg describes: its CSRF key (else the process's) and the
// scheme of its public URL.
func newCSRFGuard(cfg Config) csrfGuard {
	g := csrfGuard{key: []byte(cfg.CSRFSecretKey), secure: strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://"),
		origin: originOf(cfg.PublicURL)}
	if len(g.key) == 0 {
		g.key = processCSRFKey()
	}
	return g
}

// issueToken serves GET CSRFTokenPath: the token of the request's cookie if it is one of ours,
// else a new one, in the JSON answer and the cookie.
func (g csrfGuard) issueToken(c *gin.Context) {
	token := ""
	if ck, err := c.Request.Cookie(CSRFCookieName); err == nil && g.valid(ck.Value) {
		token = ck.Value
	} else {
		token = g.newToken()
	}
	g.setCookie(c, token)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"csrfToken": token})
}

// setCookie sets the double-submit cookie to token.
func (g csrfGuard) setCookie(c *gin.Context, token string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: CSRFCookieName, Value: token, Path: "/", MaxAge: csrfCookieMaxAge,
		HttpOnly: true, Secure: g.secure, SameSite: http.SameSiteLaxMode,
	})
}

// passesCSRF checks a request authenticated by the JWT cookies: a safe method needs no token;
// a mutation whose token fails check is answered 403 {"detail": "CSRF Failed: ..."} and false
// is returned.
func (s *Server) passesCSRF(c *gin.Context) bool {
	if safeMethod(c.Request.Method) {
		return true
	}
	reason := s.csrf.check(c.Request)
	if reason == "" {
		return true
	}
	s.log.InfoContext(c.Request.Context(), "csrf check failed", "method", c.Request.Method, "path", c.Request.URL.Path, "reason", reason)
	detail(c, http.StatusForbidden, "CSRF Failed: "+reason)
	return false
}

// check returns why r fails the double-submit check, or "" when it passes. The header (else a
// form post's field) and the cookie are compared in constant time.
func (g csrfGuard) check(r *http.Request) string {
	ck, err := r.Cookie(CSRFCookieName)
	if err != nil || ck.Value == "" {
		return "CSRF cookie not set."
	}
	header := r.Header.Get(CSRFHeader)
	if header == "" {
		var reason string
		if header, reason = g.formToken(r); reason != "" {
			return reason
		}
	}
	if header == "" {
		return "CSRF token missing."
	}
	if subtle.ConstantTimeCompare([]byte(header), []byte(ck.Value)) != 1 || !g.valid(ck.Value) {
		return "CSRF token incorrect."
	}
	return ""
}

// newToken returns a fresh token: base64url(nonce) "." base64url(HMAC(key, nonce)).
func (g csrfGuard) newToken() string {
	nonce := make([]byte, csrfNonceBytes)
	_, _ = rand.Read(nonce) // never fails (crypto/rand aborts the program instead)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(nonce) + "." + enc.EncodeToString(g.mac(nonce))
}

// valid reports whether token is one newToken made with this key.
func (g csrfGuard) valid(token string) bool {
	n, m, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	nonce, err1 := base64.RawURLEncoding.DecodeString(n)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	return err1 == nil && err2 == nil && len(nonce) == csrfNonceBytes && hmac.Equal(mac, g.mac(nonce))
}

func (g csrfGuard) mac(nonce []byte) []byte {
	h := hmac.New(sha256.New, g.key)
	h.Write([]byte(csrfMACLabel))
	h.Write(nonce)
	return h.Sum(nil)
}

// safeMethod reports whether method changes nothing (RFC 9110), so needs no CSRF token.
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}
