package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// UserStore is what the handlers of middleware.go need from the store: the users mirrored from the LMS (authentication); *db.Store implements it.
type UserStore interface {
	UpsertUser(ctx context.Context, c commerce.UserClaims) (commerce.User, error)
	UserByUsername(ctx context.Context, username string) (commerce.User, error)
}

const userKey = "commerce.user"

// recoverJSON turns a panic into a logged 500 with a JSON body.
func (s *Server) recoverJSON(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.fail(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

// logRequests logs each request at debug level, or at error level when it answered 5xx.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := "debug"
	args := []any{"method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "duration", time.Since(start)}
	if status >= 500 {
		level = "error"
	}
	if level == "error" {
		s.log.ErrorContext(c.Request.Context(), "http request", args...)
	} else {
		s.log.DebugContext(c.Request.Context(), "http request", args...)
	}
}

// limitBody caps request bodies at MaxBodyBytes; a declared larger body is refused at once.
func limitBody(c *gin.Context) {
	if c.Request.ContentLength > MaxBodyBytes {
		detail(c, http.StatusRequestEntityTooLarge, "Request body is larger than 1 MiB.")
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	}
	c.Next()
}

// credential is where a request's JWT comes from.
type credential int

const (
	// noCredential: the request is anonymous.
	noCredential credential = iota
	// headerCredential: "Authorization: JWT <token>" (or Bearer).
	headerCredential
	// cookieCredential: edX's split JWT cookies, joined; such mutations need a CSRF token.
	cookieCredential
)

// cookielessPrefix is where processor callbacks live: their requests are never authenticated
// by the JWT cookies, so a browser that carries stale cookies on a processor's redirect
// (same-site in development) is neither refused (401) nor asked for a CSRF token. A route
// under it that needs the learner must take another credential.
const cookielessPrefix = "/payment/"

// requestToken returns the JWT a request presents and where it comes from. An Authorization
// header wins: its token is returned as is (empty, with problem set, when the header is
// malformed). Without one, both JWT cookies make a token; only one of them leaves the request
// anonymous, as in edX (the page then refreshes its cookies at the LMS).
func requestToken(r *http.Request) (token string, from credential, problem string) {
	if header := r.Header.Get("Authorization"); header != "" {
		scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
		token = strings.TrimSpace(token)
		if !ok || token == "" || (!strings.EqualFold(scheme, "JWT") && !strings.EqualFold(scheme, "Bearer")) {
			return "", headerCredential, "Invalid Authorization header. Expected \"JWT <token>\" or \"Bearer <token>\"."
		}
		return token, headerCredential, ""
	}
	if strings.HasPrefix(r.URL.Path, cookielessPrefix) {
		return "", noCredential, ""
	}
	headerPayload, err1 := r.Cookie(auth.HeaderPayloadCookie)
	signature, err2 := r.Cookie(auth.SignatureCookie)
	if err1 != nil || err2 != nil || headerPayload.Value == "" || signature.Value == "" {
		return "", noCredential, ""
	}
	return auth.JoinCookies(headerPayload.Value, signature.Value), cookieCredential, ""
}

// authenticate verifies the request's JWT (see requestToken: the Authorization header, else the
// LMS's JWT cookies, on XHRs and navigations alike) and creates or updates the user it names.
// No credential leaves the request anonymous; a bad token, from a header or the cookies, is a
// 401 even on endpoints open to anonymous callers. A mutation authenticated by the cookies must
// also carry the CSRF token (see csrfGuard), else 403, before the user is touched.
func (s *Server) authenticate(c *gin.Context) {
	token, from, problem := requestToken(c.Request)
	if problem != "" {
		unauthorized(c, problem)
		return
	}
	if from == noCredential {
		c.Next()
		return
	}
	claims, err := s.tokens.Verify(token)
	if err != nil && from == cookieCredential && isNavigation(c.Request) {
		// An expired or stale cookie on a page the learner navigates to (a link from the LMS,
		// which cannot refresh cookies first): treat as logged out, so the page sends the learner
		// to the LMS login with next, instead of a JSON 401 dead end.
		c.Next()
		return
	}
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		unauthorized(c, msg)
		return
	}
	if from == cookieCredential && !s.passesCSRF(c) {
		return
	}
	user, err := s.store.UpsertUser(c.Request.Context(), claims)
	if err != nil {
		s.fail(c, fmt.Errorf("provision user %q: %w", claims.Username, err))
		return
	}
	c.Set(userKey, user)
	c.Next()
}

func unauthorized(c *gin.Context, msg string) {
	c.Header("WWW-Authenticate", `JWT realm="api"`)
	detail(c, http.StatusUnauthorized, msg)
}

// currentUser returns the authenticated user, if any.
func currentUser(c *gin.Context) (commerce.User, bool) {
	v, ok := c.Get(userKey)
	if !ok {
		return commerce.User{}, false
	}
	u, ok := v.(commerce.User)
	return u, ok
}

// requireUser refuses anonymous requests with 401.
func requireUser(c *gin.Context) {
	if _, ok := currentUser(c); !ok {
		unauthorized(c, "Authentication credentials were not provided.")
		return
	}
	c.Next()
}

// requireStaff refuses anonymous requests with 401 and non-staff with 403.
func requireStaff(c *gin.Context) {
	u, ok := currentUser(c)
	if !ok {
		unauthorized(c, "Authentication credentials were not provided.")
		return
	}
	if !u.IsStaff {
		detail(c, http.StatusForbidden, "You do not have permission to perform this action.")
		return
	}
	c.Next()
}

// isNavigation reports whether a request is a browser navigation to a page: a GET or HEAD that
// accepts HTML. Such a request cannot add headers or refresh cookies first.
func isNavigation(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// noStore forbids caching every answer: they are personal (baskets, orders, CSRF tokens) or
// change with every call, and a browser restoring the payment page with Back must not show a
// basket from its cache (e.g. one that has since been frozen for payment).
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}
