// Package simhttp holds the HTTP plumbing the simulators share: JSON and HTML answers and the
// /__sim/knobs endpoints.
package simhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sync"
	"time"
)

// MaxBodyBytes bounds the body of a POST /__sim/knobs.
const MaxBodyBytes = 1 << 20

// WriteJSON answers with status and v encoded as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteHTML renders t with data into a buffer first, so that a template error becomes a 500
// instead of a half-written page, then answers with status and the page (not to be cached).
func WriteHTML(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// HandleKnobs registers GET and POST /__sim/knobs on mux. GET answers get(), the knobs in
// their wire form J. POST decodes the body as a partial update P (unknown fields and bodies
// over MaxBodyBytes are refused with 400 {"error":"decode knobs: ..."}) and answers the knobs
// that apply returns, or 400 {"error": ...} if apply fails. apply must change the knobs
// atomically, and not at all when it fails (see Update).
func HandleKnobs[P, J any](mux *http.ServeMux, get func() J, apply func(P) (J, error)) {
	mux.HandleFunc("GET /__sim/knobs", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, get())
	})
	mux.HandleFunc("POST /__sim/knobs", func(w http.ResponseWriter, r *http.Request) {
		var patch P
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&patch); err != nil {
			WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "decode knobs: " + err.Error()})
			return
		}
		k, err := apply(patch)
		if err != nil {
			WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		WriteJSON(w, http.StatusOK, k)
	})
}

// Update replaces *knobs, guarded by mu, with change(*knobs) and returns the new value; if
// change fails, *knobs is left as it was and the error is returned.
func Update[K any](mu *sync.Mutex, knobs *K, change func(K) (K, error)) (K, error) {
	mu.Lock()
	defer mu.Unlock()
	k, err := change(*knobs)
	if err != nil {
		return k, err
	}
	*knobs = k
	return k, nil
}

// ErrNegativeKnob refuses a negative counter or duration in a knobs update.
var ErrNegativeKnob = errors.New("knob values must not be negative")

// Counter is one counter of a knobs update: the value posted (nil: left as it is) and the knob
// it sets.
type Counter struct {
	From *int
	To   *int
}

// SetCounters copies each posted counter into its knob; a negative one is ErrNegativeKnob.
func SetCounters(counters ...Counter) error {
	for _, c := range counters {
		if c.From == nil {
			continue
		}
		if *c.From < 0 {
			return ErrNegativeKnob
		}
		*c.To = *c.From
	}
	return nil
}

// SetDuration parses a posted duration (nil: left as it is) into *to; name prefixes a parse
// error, and a negative duration is ErrNegativeKnob.
func SetDuration(to *time.Duration, from *string, name string) error {
	if from == nil {
		return nil
	}
	d, err := time.ParseDuration(*from)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if d < 0 {
		return ErrNegativeKnob
	}
	*to = d
	return nil
}
