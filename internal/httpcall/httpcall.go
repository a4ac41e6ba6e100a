// Package httpcall holds what the service's HTTP clients of other systems (the LMS, CyberSource's
// REST API, PayPal) share about a call's time: its bound, and whether a failure was a timeout.
package httpcall

import (
	"context"
	"errors"
	"net"
	"time"
)

// WithTimeout bounds ctx by timeout: by def when timeout is zero, not at all when it is negative
// (the caller's context still applies).
func WithTimeout(ctx context.Context, timeout, def time.Duration) (context.Context, context.CancelFunc) {
	switch {
	case timeout < 0:
		return ctx, func() {}
	case timeout == 0:
		timeout = def
	}
	return context.WithTimeout(ctx, timeout)
}

// IsTimeout reports whether err is a deadline that passed or a network timeout.
func IsTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}
