package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// DefaultCallbackMaxBodyBytes bounds a processor callback's body: a CyberSource reply is a few
// KiB, so 64 KiB is ample for a processor and small for whoever else posts.
const DefaultCallbackMaxBodyBytes = 64 << 10

// oversizedPrefixBytes is how much of a callback body over the bound, or of a refused message,
// is recorded.
const oversizedPrefixBytes = 4 << 10

// refusedRate and refusedBurst bound, across all sources, the refused processor messages
// recorded each second: whoever rotates addresses still writes at most about 40 KiB a second.
const (
	refusedRate  = 10
	refusedBurst = 50
)

// refusedKeyBytes bounds the transaction id and order number recorded from a refused message.
const refusedKeyBytes = 128

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// refusedCallback throttles a processor message that is not authentic (per source, then across
// sources) and returns what of it may be recorded: at most oversizedPrefixBytes. It answers 429
// itself and returns false when the message is not to be recorded.
func (s *Server) refusedCallback(c *gin.Context, fields map[string]string) (map[string]string, bool) {
	if s.throttled(c, s.refusedBudget) {
		return nil, false
	}
	form := url.Values{}
	size := 0
	for k, v := range fields {
		form.Set(k, v)
		size += len(k) + len(v)
	}
	if size <= oversizedPrefixBytes {
		return fields, true
	}
	encoded := form.Encode()
	return map[string]string{"truncated_body": printable(encoded[:oversizedPrefixBytes])}, true
}

// readCallbackForm reads a processor callback's form body, at most s.callbackMaxBody bytes, and
// returns its fields (the first value of each). It answers the request itself and returns false
// when the body is too large (413, its first bytes recorded) or is not a form (400). Whatever
// the form holds is kept recordable: a NUL character or invalid UTF-8, which PostgreSQL refuses,
// becomes U+FFFD, so such a reply is recorded (a signed field so changed no longer verifies).
func (s *Server) readCallbackForm(c *gin.Context, processor, kind string) (map[string]string, bool) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, s.callbackMaxBody+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || int64(len(body)) > s.callbackMaxBody:
		if !s.throttled(c, s.refusedBudget) {
			s.recordOversized(c, processor, kind, body)
		}
		return nil, false
	case err != nil:
		detail(c, http.StatusBadRequest, "Could not read the request body.")
		return nil, false
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	if err := c.Request.ParseForm(); err != nil {
		detail(c, http.StatusBadRequest, "The body is not a form.")
		return nil, false
	}
	fields, replaced := formFields(c.Request.PostForm)
	if replaced > 0 {
		s.log.WarnContext(c.Request.Context(), "processor callback holds NUL characters or invalid UTF-8, replaced by U+FFFD",
			"processor", processor, "kind", kind, "fields", replaced)
	}
	return fields, true
}

// formFields returns the first value of each field of form, names and values made printable,
// and how many fields that changed.
func formFields(form url.Values) (map[string]string, int) {
	fields := make(map[string]string, len(form))
	replaced := 0
	for k, v := range form {
		if len(v) > 0 {
			key, value := printable(k), printable(v[0])
			if key != k || value != v[0] {
				replaced++
			}
			fields[key] = value
		}
	}
	return fields, replaced
}

// recordOversized records the first oversizedPrefixBytes of a callback body over the bound, as
// not authentic, then answers 413. Recording them is a bounded write (a few KiB a request, and
// the callbacks are rate-limited per source) that lets ops see what a processor, or whoever
// posted, sent; the order number and transaction id (CyberSource's req_reference_number and
// transaction_id) are read from the complete fields of that prefix. If the store fails the answer is still 413: sending the same body again cannot help.
func (s *Server) recordOversized(c *gin.Context, processor, kind string, body []byte) {
	ctx := c.Request.Context()
	prefix := string(body[:min(len(body), oversizedPrefixBytes)])
	partial := completeFields(prefix)
	authentic := false
	id, err := s.store.RecordProcessorResponse(ctx, commerce.ProcessorResponse{
		Processor: processor, Kind: kind, Authentic: &authentic,
		OrderNumber: printable(partial.Get("req_reference_number")), TransactionID: printable(partial.Get("transaction_id")),
		Body: map[string]string{"truncated_body": printable(prefix), "body_limit_bytes": fmt.Sprint(s.callbackMaxBody)},
	})
	if err != nil {
		s.log.ErrorContext(ctx, "record an oversized processor callback", "processor", processor, "kind", kind, "err", err)
	}
	s.log.WarnContext(ctx, "processor callback body over the limit: its first bytes were recorded as not authentic",
		"processor", processor, "kind", kind, "limit_bytes", s.callbackMaxBody, "recorded_bytes", len(prefix), "response_id", id)
	detail(c, http.StatusRequestEntityTooLarge, "Request body is larger than "+sizeText(s.callbackMaxBody)+".")
}

// completeFields parses the fields of a form prefix that end before its last "&" (the last one
// may be cut short); what does not parse is left out.
func completeFields(prefix string) url.Values {
	i := strings.LastIndexByte(prefix, '&')
	if i < 0 {
		return url.Values{}
	}
	fields, _ := url.ParseQuery(prefix[:i])
	return fields
}

// sizeText writes a byte count as people read it: "64 KiB", "1 MiB", "100 bytes".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
