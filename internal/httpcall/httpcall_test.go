package httpcall_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/internal/httpcall"
)

func TestWithTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout  time.Duration
		bounded  bool
		wantLeft time.Duration
	}{{0, true, time.Minute}, {time.Second, true, time.Second}, {-1, false, 0}} {
		ctx, cancel := httpcall.WithTimeout(context.Background(), tc.timeout, time.Minute)
		deadline, ok := ctx.Deadline()
		cancel()
		if ok != tc.bounded {
			t.Fatalf("timeout %s: bounded %v, want %v", tc.timeout, ok, tc.bounded)
		}
		if ok && (time.Until(deadline) > tc.wantLeft || time.Until(deadline) < tc.wantLeft-time.Second) {
			t.Fatalf("timeout %s: %s left, want about %s", tc.timeout, time.Until(deadline), tc.wantLeft)
		}
	}
}

func TestIsTimeout(t *testing.T) {
	netTimeout := &net.OpError{Op: "dial", Err: timeoutError{}}
	for err, want := range map[error]bool{
		fmt.Errorf("send: %w", context.DeadlineExceeded): true,
		netTimeout:                       true,
		context.Canceled:                 false,
		errors.New("connection refused"): false,
	} {
		if got := httpcall.IsTimeout(err); got != want {
			t.Errorf("IsTimeout(%v) = %v, want %v", err, got, want)
		}
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
