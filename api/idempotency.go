package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// IdempotencyStore keeps the answers of requests sent with an Idempotency-Key; *db.Store
// implements it.
type IdempotencyStore interface {
	ClaimIdempotencyKey(ctx context.Context, k commerce.IdempotencyKey) (commerce.IdempotentAnswer, bool, error)
	FinishIdempotencyKey(ctx context.Context, k commerce.IdempotencyKey, a commerce.IdempotentAnswer) error
	ReleaseIdempotencyKey(ctx context.Context, k commerce.IdempotencyKey) error
}

// idempotencyKeyHeader names the header of the POSTs that create or pay (DESIGN.md §5).
const idempotencyKeyHeader = "Idempotency-Key"

// maxIdempotencyKey bounds a key's length.
const maxIdempotencyKey = 255

// idempotent makes a POST that creates or pays safe to retry: with an Idempotency-Key header, the
// user's first request with that key runs and its answer is kept for a day; a retry (same method,
// path and body) gets that answer again and changes nothing, a retry while the first is still
// running gets 409, and the key sent with another request gets 422. Only a success is kept: a
// refused request changed nothing (bad input never does), so its retry runs again, corrected or
// not. Without the header the request runs as usual. It runs after requireUser or requireStaff:
// keys are per user.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader(idempotencyKeyHeader)
	if key == "" {
		c.Next()
		return
	}
	if len(key) > maxIdempotencyKey || !visibleASCII(key) {
		s.fail(c, commerce.FieldError(idempotencyKeyHeader, "Use at most 255 visible ASCII characters."))
		return
	}
	user, _ := currentUser(c)
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.fail(c, commerce.Errorf(commerce.EInvalid, "The request body could not be read."))
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	hash := sha256.Sum256(body)
	k := commerce.IdempotencyKey{UserID: user.ID, Key: key, Method: c.Request.Method, Path: c.Request.URL.RequestURI(), RequestHash: hash[:]}
	ctx := c.Request.Context()
	prior, claimed, err := s.store.ClaimIdempotencyKey(ctx, k)
	switch {
	case err != nil:
		s.fail(c, err)
		return
	case !claimed && !prior.SameRequest:
		detail(c, http.StatusUnprocessableEntity, "This Idempotency-Key was used for another request; use a new key.")
		return
	case !claimed && prior.Status == 0:
		c.Header("Retry-After", "1")
		detail(c, http.StatusConflict, "A request with this Idempotency-Key is still being answered; retry in a moment.")
		return
	case !claimed:
		c.Data(prior.Status, prior.ContentType, prior.Body)
		c.Abort()
		return
	}
	w := &recordingWriter{ResponseWriter: c.Writer}
	c.Writer = w
	c.Next()
	status := w.Status()
	// The work is done (or not) whatever happens to the client: keep its answer regardless.
	ctx = context.WithoutCancel(ctx)
	if status >= http.StatusBadRequest {
		if err := s.store.ReleaseIdempotencyKey(ctx, k); err != nil {
			s.log.WarnContext(ctx, "cannot release an idempotency key", "err", err)
		}
		return
	}
	a := commerce.IdempotentAnswer{Status: status, ContentType: w.Header().Get("Content-Type"), Body: w.body.Bytes()}
	if err := s.store.FinishIdempotencyKey(ctx, k, a); err != nil {
		s.log.WarnContext(ctx, "cannot keep the answer of an idempotency key", "err", err)
	}
}

// recordingWriter copies what a handler writes, to keep it under its Idempotency-Key.
type recordingWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}

// visibleASCII reports whether s holds only printable ASCII characters, spaces excluded.
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}
