package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

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

// authenticate reads "Authorization: JWT <token>" (or Bearer), verifies it and creates or
// updates the user it names. No header leaves the request anonymous; a bad token is a 401 even
// on endpoints open to anonymous callers.
func (s *Server) authenticate(c *gin.Context) {
	header := c.GetHeader("Authorization")
	if header == "" {
		c.Next()
		return
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || token == "" || (!strings.EqualFold(scheme, "JWT") && !strings.EqualFold(scheme, "Bearer")) {
		unauthorized(c, "Invalid Authorization header. Expected \"JWT <token>\" or \"Bearer <token>\".")
		return
	}
	claims, err := s.tokens.Verify(token)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		unauthorized(c, msg)
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
