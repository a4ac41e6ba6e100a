package paypal

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/coursecommerce/commerce/payment"
)

// refundRequest refunds amount of capture c of the test checkout with key.
func refundRequest(captureID, key, amount string) payment.RefundRequest {
	return payment.RefundRequest{OrderNumber: "EDX-100042", Reference: captureID, Amount: dec(amount), Currency: "USD", IdempotencyKey: key}
}

// refundCalls returns the PayPal-Request-Ids of the refund calls the simulator served.
func (h *harness) refundCalls() []string {
	var out []string
	for _, c := range h.sim.Calls() {
		if strings.HasSuffix(c.Path, "/refund") {
			out = append(out, c.RequestID)
		}
	}
	return out
}

func TestRefunderRefundsACapture(t *testing.T) {
	h := newHarness(t)
	_, c := h.capturedOrder(t)
	f := Processor{Client: h.client, RequestIDPrefix: "test-"}.Refunder()
	res, err := f.Refund(context.Background(), refundRequest(c.ID, "refund-7", "39.20"))
	refunds := h.sim.Refunds()
	if err != nil || res.ID == "" || res.Pending || res.AlreadyRefunded || len(refunds) != 1 || refunds[0].ID != res.ID ||
		refunds[0].Amount != "39.20" || refunds[0].CaptureID != c.ID {
		t.Fatalf("Refund = %+v, %v; refunds %+v", res, err, refunds)
	}
	if calls := h.refundCalls(); len(calls) != 1 || calls[0] != "test-refund-refund-7" {
		t.Fatalf("PayPal-Request-Ids = %q", calls)
	}
	ex := h.recorded()
	if last := ex[len(ex)-1]; last.Kind != KindRefundCapture || last.OrderNumber != "EDX-100042" || last.RefundID != res.ID {
		t.Fatalf("recorded %+v", last)
	}
}

func TestRefunderAlreadyRefunded(t *testing.T) {
	h := newHarness(t)
	_, c := h.capturedOrder(t)
	f := h.processor().Refunder()
	if _, err := f.Refund(context.Background(), refundRequest(c.ID, "refund-1", "89.20")); err != nil {
		t.Fatalf("first refund: %v", err)
	}
	// Another key (e.g. a refund recreated after its first record was lost): PayPal answers
	// CAPTURE_FULLY_REFUNDED.
	res, err := f.Refund(context.Background(), refundRequest(c.ID, "refund-2", "89.20"))
	if err != nil || !res.AlreadyRefunded || res.ID != "" || res.Pending {
		t.Fatalf("second refund = %+v, %v; want AlreadyRefunded", res, err)
	}
	if n := len(h.sim.Refunds()); n != 1 {
		t.Fatalf("%d refunds, want 1", n)
	}
}

func TestRefunderRetryAfterALostAnswer(t *testing.T) {
	h := newHarness(t)
	_, c := h.capturedOrder(t)
	f := h.processor().Refunder()
	h.sim.SetLoseRefundAnswerNext(1)
	_, err := f.Refund(context.Background(), refundRequest(c.ID, "refund-1", "89.20"))
	if err == nil || errors.Is(err, payment.ErrRefundRefused) {
		t.Fatalf("lost answer: err = %v, want a transient error", err)
	}
	res, err := f.Refund(context.Background(), refundRequest(c.ID, "refund-1", "89.20"))
	refunds := h.sim.Refunds()
	if err != nil || len(refunds) != 1 || res.ID != refunds[0].ID || res.AlreadyRefunded {
		t.Fatalf("retry = %+v, %v; refunds %+v", res, err, refunds)
	}
}

func TestRefunderRefusals(t *testing.T) {
	h := newHarness(t)
	_, c := h.capturedOrder(t)
	f := h.processor().Refunder()
	ctx := context.Background()

	h.sim.SetRefuseRefundNext(1)
	if _, err := f.Refund(ctx, refundRequest(c.ID, "refund-1", "10.00")); !errors.Is(err, payment.ErrRefundRefused) || !hasIssue(err, "REFUND_FAILED_INSUFFICIENT_FUNDS") {
		t.Fatalf("refused refund: err = %v", err)
	}
	if _, err := f.Refund(ctx, refundRequest(c.ID, "refund-2", "89.21")); !errors.Is(err, payment.ErrRefundRefused) || !hasIssue(err, "REFUND_AMOUNT_EXCEEDED") {
		t.Fatalf("refund above the capture: err = %v", err)
	}
	if _, err := f.Refund(ctx, refundRequest("NOSUCHCAPTURE", "refund-3", "1.00")); !errors.Is(err, payment.ErrRefundRefused) || !IsNotFound(err) {
		t.Fatalf("unknown capture: err = %v", err)
	}
	sent := len(h.refundCalls())
	for name, r := range map[string]payment.RefundRequest{
		"no key":          refundRequest(c.ID, "", "1.00"),
		"no capture":      refundRequest("", "refund-4", "1.00"),
		"zero amount":     {OrderNumber: "EDX-100042", Reference: c.ID, Amount: decimal.Zero, Currency: "USD", IdempotencyKey: "refund-5"},
		"bad currency":    {OrderNumber: "EDX-100042", Reference: c.ID, Amount: dec("1.00"), Currency: "usd", IdempotencyKey: "refund-6"},
		"three decimals":  refundRequest(c.ID, "refund-7", "1.005"),
		"negative amount": refundRequest(c.ID, "refund-8", "-1.00"),
	} {
		if _, err := f.Refund(ctx, r); !errors.Is(err, payment.ErrRefundRefused) || !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := (Refunder{}).Refund(ctx, refundRequest(c.ID, "refund-9", "1.00")); !errors.Is(err, payment.ErrRefundRefused) || !errors.Is(err, ErrNotConfigured) {
		t.Errorf("no client: err = %v", err)
	}
	if n := len(h.refundCalls()); n != sent {
		t.Errorf("invalid refunds were sent: %d calls, want %d", n, sent)
	}
	if n := len(h.sim.Refunds()); n != 0 {
		t.Fatalf("%d refunds made", n)
	}
	// After the refusals the same keys still work.
	if res, err := f.Refund(ctx, refundRequest(c.ID, "refund-1", "10.00")); err != nil || res.ID == "" {
		t.Fatalf("refund after a refusal: %+v, %v", res, err)
	}
}

func TestRefunderTransientErrors(t *testing.T) {
	h := newHarness(t)
	_, c := h.capturedOrder(t)
	f := h.processor().Refunder()
	h.sim.SetFailNext(2)
	for i := range 2 {
		_, err := f.Refund(context.Background(), refundRequest(c.ID, "refund-1", "89.20"))
		if err == nil || errors.Is(err, payment.ErrRefundRefused) || !IsRetryable(err) {
			t.Fatalf("attempt %d: err = %v, want a plain retryable error", i+1, err)
		}
	}
	res, err := f.Refund(context.Background(), refundRequest(c.ID, "refund-1", "89.20"))
	if err != nil || res.ID == "" || len(h.sim.Refunds()) != 1 {
		t.Fatalf("third attempt: %+v, %v", res, err)
	}
}

func TestRefunderUnrecordedAnswerIsRetried(t *testing.T) {
	h := newHarness(t)
	_, c := h.capturedOrder(t)
	f := h.processor().Refunder()
	h.mu.Lock()
	h.recordFails = 1
	h.mu.Unlock()
	_, err := f.Refund(context.Background(), refundRequest(c.ID, "refund-1", "89.20"))
	if !errors.Is(err, ErrNotRecorded) || errors.Is(err, payment.ErrRefundRefused) {
		t.Fatalf("unrecorded answer: err = %v", err)
	}
	res, err := f.Refund(context.Background(), refundRequest(c.ID, "refund-1", "89.20"))
	refunds := h.sim.Refunds()
	if err != nil || len(refunds) != 1 || res.ID != refunds[0].ID {
		t.Fatalf("retry = %+v, %v; refunds %+v", res, err, refunds)
	}
}

func TestRefundResultOfEachStatus(t *testing.T) {
	tests := []struct {
		status  RefundStatus
		pending bool
		refused bool
		fails   bool
	}{
		{RefundCompleted, false, false, false},
		{RefundPending, true, false, false},
		{RefundFailed, false, true, true},
		{RefundCancelled, false, true, true},
		{"SOMETHING_NEW", false, false, true},
	}
	for _, tt := range tests {
		res, err := refundResult(Refund{ID: "1JU08902781691411", Status: tt.status})
		if (err != nil) != tt.fails || errors.Is(err, payment.ErrRefundRefused) != tt.refused {
			t.Errorf("%s: err = %v", tt.status, err)
			continue
		}
		if err == nil && (res.ID != "1JU08902781691411" || res.Pending != tt.pending || res.AlreadyRefunded) {
			t.Errorf("%s: result %+v", tt.status, res)
		}
	}
}
