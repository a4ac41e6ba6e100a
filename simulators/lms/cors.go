package lms

import (
	"encoding/json"
	"net/http"
)

// CORS as the LMS answers it to edX's payment page (django-cors-headers with credentials):
// the allowed methods and the headers the page sends.
const (
	corsAllowMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	corsAllowHeaders = "use-jwt-cookie, x-csrftoken, content-type, authorization"
)

// answerCORS adds CORS headers for the WithCORSOrigins origins and answers preflights itself,
// before any route: 204 with the allowed methods and headers for an allowed origin, 403
// without CORS headers for any other. It reports whether it answered. Without origins it
// does nothing.
func (s *Simulator) answerCORS(w http.ResponseWriter, r *http.Request) bool {
	if len(s.corsOrigins) == 0 {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	allowed := origin != "" && s.corsOrigins[origin]
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method != http.MethodOptions || origin == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	if !allowed {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]string{"detail": "CORS: origin not allowed."})
		return true
	}
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}
