package cybersource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors of the Go driver.
var (
	// ErrRejected means the simulator refused a request (the status code
	// is in Result.StatusCode, the reason in the error text).
	ErrRejected = errors.New("cybersource simulator: request rejected")
	// ErrNoForm means an HTML page holds no form.
	ErrNoForm = errors.New("cybersource simulator: no form in page")
)

// Result is what the browser would be left with after a payment: the reply
// fields of the auto-submitting form and the merchant URL it posts them to.
type Result struct {
	// ReplyURL is the form action: the receipt page, or the cancel page.
	ReplyURL string
	// Reply holds the signed reply fields.
	Reply map[string]string
	// StatusCode is the HTTP status of the last simulator response.
	StatusCode int
}

// Pay drives a payment from Go along the browser's path: it posts form to
// /pay, presses the button named by action (ActionPay, ActionDecline or
// ActionCancel) with the prefilled card, and returns the reply the browser
// would post to the merchant. The notification, knobs and recording behave
// as for a browser. A rejected request yields ErrRejected with the status
// in Result.StatusCode; a reused transaction uuid yields the ERROR 104 reply
// straight away.
func (s *Simulator) Pay(ctx context.Context, form map[string]string, action string) (Result, error) {
	rec, err := s.serveForm(ctx, "/pay", form)
	if err != nil {
		return Result{}, err
	}
	res := Result{StatusCode: rec.status}
	if rec.status != http.StatusOK {
		return res, fmt.Errorf("%w: POST /pay: %d: %s", ErrRejected, rec.status, rec.header.Get(errorHeader))
	}
	page, err := parseFirstForm(rec.body.Bytes())
	if err != nil {
		return res, fmt.Errorf("payment page: %w", err)
	}
	if page.id == replyFormID {
		res.ReplyURL, res.Reply = page.action, page.fields
		return res, nil
	}
	confirm := page.fields
	confirm["action"] = action
	if rec, err = s.serveForm(ctx, "/pay/confirm", confirm); err != nil {
		return res, err
	}
	res.StatusCode = rec.status
	if rec.status != http.StatusOK {
		return res, fmt.Errorf("%w: POST /pay/confirm: %d: %s", ErrRejected, rec.status, rec.header.Get(errorHeader))
	}
	if res.ReplyURL, res.Reply, err = ParseAutoSubmitForm(rec.body.Bytes()); err != nil {
		return res, fmt.Errorf("reply page: %w", err)
	}
	return res, nil
}

// serveForm serves a form POST to path in process and records the response.
func (s *Simulator) serveForm(ctx context.Context, path string, form map[string]string) (*recorder, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader(encodeForm(form)))
	if err != nil {
		return nil, fmt.Errorf("build POST %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := &recorder{header: http.Header{}}
	s.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec, nil
}

// recorder is a minimal in-memory http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// Header returns the response header.
func (r *recorder) Header() http.Header { return r.header }

// WriteHeader records the first status written.
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// Write records body bytes.
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
