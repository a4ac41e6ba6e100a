package paypal

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// debugIDHeader carries PayPal's correlation id on every API answer.
const debugIDHeader = "Paypal-Debug-Id"

// requestIDHeader is PayPal's idempotency header.
const requestIDHeader = "PayPal-Request-Id"

// statusWriter records the status of an answer in its Call before anything is written, so
// that a client that got an answer (or saw its connection closed) finds its call in Calls.
type statusWriter struct {
	http.ResponseWriter
	s      *Simulator
	call   *Call
	status int
}

// WriteHeader records the first status written.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.s.mu.Lock()
		w.call.Status = code
		w.s.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (to drop it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe records every request served by h in Calls, before h runs.
func (s *Simulator) observe(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		call := &Call{Method: r.Method, Path: r.URL.Path, RequestID: r.Header.Get(requestIDHeader), At: s.now()}
		s.mu.Lock()
		s.calls = append(s.calls, call)
		s.mu.Unlock()
		h(&statusWriter{ResponseWriter: w, s: s, call: call}, r)
	}
}

// api wraps a /v2 handler: a debug id, the latency knob (a request canceled meanwhile gets no
// answer and changes nothing), the bearer token check, and the FailNext knob.
func (s *Simulator) api(h http.HandlerFunc) http.HandlerFunc {
	return s.observe(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(debugIDHeader, newDebugID())
		// Read the body first: the server notices a client that gives up (and cancels the
		// request's context) only once the body has been read.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			s.fail(w, invalidRequest("MALFORMED_REQUEST_JSON", "", "The request body could not be read (or is larger than 1 MiB)."))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		latency := s.knobs.Latency
		s.mu.Unlock()
		if latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if reason := s.checkBearer(r); reason != "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": reason})
			return
		}
		if s.takeFailure() {
			s.log.Info("paypal simulator: simulated failure", "method", r.Method, "path", r.URL.Path)
			s.fail(w, serverError())
			return
		}
		h(w, r)
	})
}

// fail writes an error answer with the request's debug id.
func (s *Simulator) fail(w http.ResponseWriter, e *apiError) {
	writeAnswer(w, e.answer(w.Header().Get(debugIDHeader)))
}

// takeFailure consumes one FailNext and reports whether the request must fail.
func (s *Simulator) takeFailure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.knobs.FailNext <= 0 {
		return false
	}
	s.knobs.FailNext--
	return true
}

// checkBearer returns why the request's bearer token is refused, or "".
func (s *Simulator) checkBearer(r *http.Request) string {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return "No permission for the requested operation"
	}
	s.mu.Lock()
	expiry, known := s.tokens[token]
	s.mu.Unlock()
	switch {
	case !known:
		return "Token signature verification failed"
	case !s.now().Before(expiry):
		return "Access Token not found in cache"
	}
	return ""
}

// handleToken serves POST /v1/oauth2/token: the client credentials grant with HTTP Basic
// client authentication.
func (s *Simulator) handleToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || !s.credentialsMatch(id, secret) {
		s.log.Warn("paypal simulator: token refused", "client_id", id)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client Authentication failed"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "Grant Type is NULL or not client_credentials"})
		return
	}
	token := "A21AA" + rand.Text() + rand.Text()
	now := s.now()
	s.mu.Lock()
	s.tokens[token] = now.Add(s.cfg.TokenTTL)
	s.issued = append(s.issued, token)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"scope":        "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund https://uri.paypal.com/services/checkout/orders",
		"access_token": token, "token_type": "Bearer", "app_id": "APP-SIMULATOR",
		"expires_in": max(int(s.cfg.TokenTTL/time.Second), 1), "nonce": now.UTC().Format(timeLayout) + newDebugID(),
	})
}

// credentialsMatch compares client credentials in constant time. The OAuth2 spec has
// clients form-encode them before Basic auth, so both spellings are accepted.
func (s *Simulator) credentialsMatch(id, secret string) bool {
	if s.cfg.ClientID == "" || s.cfg.ClientSecret == "" {
		return false
	}
	same := func(got, want string) bool {
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
			return true
		}
		dec, err := url.QueryUnescape(got)
		return err == nil && subtle.ConstantTimeCompare([]byte(dec), []byte(want)) == 1
	}
	return same(id, s.cfg.ClientID) && same(secret, s.cfg.ClientSecret)
}

// RevokeTokens makes every access token issued so far invalid (as if they had expired), so
// that clients must get new ones.
func (s *Simulator) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// decodeBody decodes a JSON request body into v. An empty body is an error only when
// required.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, required bool) *apiError {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return invalidRequest("MALFORMED_REQUEST_JSON", "", "The request body could not be read (or is larger than 1 MiB).")
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		if required {
			return invalidRequest("MALFORMED_REQUEST_JSON", "", "The request JSON is not well formed.")
		}
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return &apiError{status: http.StatusUnsupportedMediaType, name: "UNSUPPORTED_MEDIA_TYPE",
			message: "The server does not support the request payload's media type.",
			details: []errorDetail{{Location: "header", Issue: "UNSUPPORTED_MEDIA_TYPE", Description: "Content-Type must be application/json."}}}
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if err := json.Unmarshal(raw, v); err != nil {
		desc := "The request JSON is not well formed."
		if errors.As(err, &typ) {
			desc = "Field " + typ.Field + " has the wrong type (amounts and quantities are strings)."
		} else if errors.As(err, &syntax) {
			desc = "The request JSON is not well formed: " + syntax.Error()
		}
		return invalidRequest("MALFORMED_REQUEST_JSON", "", desc)
	}
	return nil
}

// newDebugID returns a random debug id.
func newDebugID() string {
	var b [7]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])[:13]
}

// wantsRepresentation reports whether the client asked for the full resource in the answer.
func wantsRepresentation(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Prefer"), "return=representation")
}
