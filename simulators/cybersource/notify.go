package cybersource

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NotifyStats counts server-to-server notifications to Config.NotifyURL.
type NotifyStats struct {
	// Attempts is the number of POSTs tried.
	Attempts int `json:"attempts"`
	// Delivered is the number answered with a 2xx status.
	Delivered int `json:"delivered"`
	// Failed is the number that could not be sent or got another status.
	Failed int `json:"failed"`
}

// NotifyStats returns the notification counts so far.
func (s *Simulator) NotifyStats() NotifyStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Flush waits until delayed notifications already scheduled have been sent,
// or ctx is done.
func (s *Simulator) Flush(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush notifications: %w", ctx.Err())
	}
}

// notify sends reply to the merchant POST URL as the knobs say: not at all,
// once or twice, now or in the background after a delay. Failures are
// logged and counted, never returned: the browser flow goes on regardless.
func (s *Simulator) notify(ctx context.Context, reply map[string]string, k Knobs) {
	if s.cfg.NotifyURL == "" || k.SkipNotify {
		return
	}
	times := 1
	if k.DuplicateNotify {
		times = 2
	}
	body := encodeForm(reply)
	if k.NotifyDelay <= 0 {
		ctx = context.WithoutCancel(ctx)
		for range times {
			s.post(ctx, body)
		}
		return
	}
	s.pending.Add(1)
	go func() {
		defer s.pending.Done()
		time.Sleep(k.NotifyDelay)
		for range times {
			s.post(context.Background(), body)
		}
	}()
}

// post sends one form-encoded notification and counts the result.
func (s *Simulator) post(ctx context.Context, body string) {
	err := s.postOnce(ctx, body)
	s.mu.Lock()
	s.stats.Attempts++
	if err != nil {
		s.stats.Failed++
	} else {
		s.stats.Delivered++
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("cybersource simulator: notification failed", "url", s.cfg.NotifyURL, "error", err)
		return
	}
	s.log.Info("cybersource simulator: notification delivered", "url", s.cfg.NotifyURL)
}

// postOnce POSTs body to the notify URL and requires a 2xx answer.
func (s *Simulator) postOnce(ctx context.Context, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.NotifyURL, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("build notification: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxFormBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post notification: status %d", resp.StatusCode)
	}
	return nil
}

// encodeForm form-encodes fields.
func encodeForm(fields map[string]string) string {
	v := make(url.Values, len(fields))
	for k, val := range fields {
		v.Set(k, val)
	}
	return v.Encode()
}
