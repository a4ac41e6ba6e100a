package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// CORS for browser pages on other origins (edX's payment page): only the configured origins,
// always with credentials, since the page authenticates with the LMS's JWT cookies.
const (
	corsAllowMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	// corsAllowHeaders are what the payment page sends (use-jwt-cookie, x-csrftoken,
	// content-type), a header token, and the Idempotency-Key of creating and paying POSTs.
	corsAllowHeaders = "use-jwt-cookie, x-csrftoken, content-type, authorization, idempotency-key"
	// corsMaxAge is how long (seconds) a browser may reuse a preflight's answer.
	corsMaxAge = "600"
)

// ValidateOrigin checks one entry of CORS_ORIGINS: an exact origin, scheme "http" or "https",
// a host and an optional port, nothing else (no path, query, user or wildcard).
func ValidateOrigin(origin string) error {
	u, err := url.Parse(origin)
	switch {
	case err != nil:
		return fmt.Errorf("origin %q: %w", origin, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("origin %q: the scheme must be http or https", origin)
	case u.Host == "" || u.Hostname() == "" || strings.Contains(u.Host, "*"):
		return fmt.Errorf("origin %q: a host name is needed (no wildcard)", origin)
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(origin, "?") || strings.HasSuffix(origin, "#"):
		return fmt.Errorf("origin %q: only scheme://host[:port], without a path or a trailing slash", origin)
	case (u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443"):
		return fmt.Errorf("origin %q: leave out the default port, as browsers do", origin)
	case origin != u.Scheme+"://"+strings.ToLower(u.Host):
		return fmt.Errorf("origin %q: write it in lower case, as browsers send it", origin)
	}
	return nil
}

// withCORS answers CORS for origins around next, before authentication and routing, so that
// every path (with or without a trailing slash, existing or not) behaves the same:
//   - an OPTIONS preflight (Origin and Access-Control-Request-Method present) from an allowed
//     origin is answered 204 with the allowed methods and headers; from any other origin 403
//     without CORS headers (the browser then refuses the request). Neither reaches next.
//   - any other request from an allowed origin gets Access-Control-Allow-Origin (that origin)
//     and Access-Control-Allow-Credentials; from another origin, no CORS header.
//
// Every answer varies by Origin. No origins means no CORS: next alone.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		ok := origin != "" && allowed[origin]
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !ok {
				writeDetail(w, http.StatusForbidden, "CORS: origin not allowed.")
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		next.ServeHTTP(w, r)
	})
}

// writeDetail answers {"detail": msg} outside Gin (before routing).
func writeDetail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": msg})
}
