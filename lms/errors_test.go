package lms_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/coursecommerce/commerce/lms"
)

func TestKind(t *testing.T) {
	t.Parallel()

	tests := []struct {
		kind       lms.Kind
		name       string
		lineStatus string
		retryable  bool
	}{
		{lms.KindServer, "server", "Fulfillment Server Error", true},
		{lms.KindClient, "client", "Fulfillment Server Error", false},
		{lms.KindNetwork, "network", "Fulfillment Network Error", true},
		{lms.KindTimeout, "timeout", "Fulfillment Timeout Error", true},
		{lms.Kind(0), "kind(0)", "Fulfillment Server Error", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.kind.String(); got != tt.name {
				t.Errorf("String = %q, want %q", got, tt.name)
			}
			if got := tt.kind.LineStatus(); got != tt.lineStatus {
				t.Errorf("LineStatus = %q, want %q", got, tt.lineStatus)
			}
			if got := (&lms.Error{Kind: tt.kind}).Retryable(); got != tt.retryable {
				t.Errorf("Retryable = %v, want %v", got, tt.retryable)
			}
		})
	}
}

func TestErrorMessageAndUnwrap(t *testing.T) {
	t.Parallel()

	answered := &lms.Error{Kind: lms.KindClient, StatusCode: 400, Message: "course not found"}
	if got, want := answered.Error(), "client error: status 400 Bad Request: course not found"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	transport := &lms.Error{Kind: lms.KindTimeout, Err: context.DeadlineExceeded}
	if got, want := transport.Error(), "timeout error: context deadline exceeded"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(fmt.Errorf("enroll: %w", transport), context.DeadlineExceeded) {
		t.Error("Unwrap does not expose the transport error")
	}
}

func TestLineStatusOf(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Nil", nil, "Complete"},
		{"NotConfigured", fmt.Errorf("x: %w", lms.ErrNotConfigured), "Fulfillment Configuration Error"},
		{"InvalidEnrollment", fmt.Errorf("x: %w", lms.ErrInvalidEnrollment), "Fulfillment Configuration Error"},
		{"WrappedNetwork", fmt.Errorf("x: %w", &lms.Error{Kind: lms.KindNetwork}), "Fulfillment Network Error"},
		{"Other", errors.New("boom"), "Fulfillment Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := lms.LineStatusOf(tt.err); got != tt.want {
				t.Fatalf("LineStatusOf = %q, want %q", got, tt.want)
			}
		})
	}
}
