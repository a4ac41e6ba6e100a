package paypal

import (
	"net/http"
	"strings"
	"testing"
)

// capturedOrder creates, approves and captures an order of 89.20 USD and returns its capture id.
func (h *harness) capturedOrder(t *testing.T) string {
	t.Helper()
	id := h.approvedOrder(t)
	status, o := h.api(t, http.MethodPost, "/v2/checkout/orders/"+id+"/capture", "", nil)
	capID, _ := dig(o, "purchase_units", 0, "payments", "captures", 0, "id").(string)
	if status != http.StatusCreated || capID == "" {
		t.Fatalf("capture: %d %v", status, o)
	}
	return capID
}

func TestRefundKnobs(t *testing.T) {
	h := newHarness(t)
	path := "/v2/payments/captures/" + h.capturedOrder(t) + "/refund"
	body := map[string]any{"amount": map[string]any{"currency_code": "USD", "value": "10.00"}}

	// A refused refund changes nothing, and the same request id may be sent again.
	h.sim.SetRefuseRefundNext(1)
	status, got := h.api(t, http.MethodPost, path, "r1", body)
	if status != http.StatusUnprocessableEntity || issue(got) != "REFUND_FAILED_INSUFFICIENT_FUNDS" || len(h.sim.Refunds()) != 0 {
		t.Fatalf("refused refund: %d %v, refunds %+v", status, got, h.sim.Refunds())
	}
	// A transient failure changes nothing either.
	h.sim.SetFailNext(1)
	if status, got := h.api(t, http.MethodPost, path, "r1", body); status != http.StatusInternalServerError || len(h.sim.Refunds()) != 0 {
		t.Fatalf("failed refund: %d %v", status, got)
	}
	// A lost answer: the refund is made, and the same request id gets it.
	h.sim.SetLoseRefundAnswerNext(1)
	if status, got := h.api(t, http.MethodPost, path, "r1", body); status != http.StatusInternalServerError || len(h.sim.Refunds()) != 1 {
		t.Fatalf("lost answer: %d %v, refunds %+v", status, got, h.sim.Refunds())
	}
	h.sim.SetRefuseRefundNext(1) // a replay is not a new refund: the knob waits for one
	status, got = h.api(t, http.MethodPost, path, "r1", body)
	refunds := h.sim.Refunds()
	if status != http.StatusCreated || len(refunds) != 1 || got["id"] != refunds[0].ID || refunds[0].Amount != "10.00" {
		t.Fatalf("retry: %d %v, refunds %+v", status, got, refunds)
	}
	if k := h.sim.Knobs(); k.RefuseRefundNext != 1 || k.LoseRefundAnswerNext != 0 || k.FailNext != 0 {
		t.Fatalf("knobs = %+v", k)
	}
	if status, got := h.api(t, http.MethodPost, path, "r2", body); status != http.StatusUnprocessableEntity || len(h.sim.Refunds()) != 1 {
		t.Fatalf("second refund with the refusal knob: %d %v", status, got)
	}
}

func TestRefundKnobsOverHTTP(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/__sim/knobs", strings.NewReader(`{"refuse_refund_next": 2, "lose_refund_answer_next": 1}`))
	if status, raw := h.send(t, req); status != http.StatusOK {
		t.Fatalf("post knobs: %d %s", status, raw)
	}
	if k := h.sim.Knobs(); k != (Knobs{RefuseRefundNext: 2, LoseRefundAnswerNext: 1}) {
		t.Fatalf("knobs = %+v", k)
	}
	req, _ = http.NewRequest(http.MethodPost, h.srv.URL+"/__sim/knobs", strings.NewReader(`{"refuse_refund_next": -1}`))
	if status, _ := h.send(t, req); status != http.StatusBadRequest {
		t.Fatalf("negative knob: %d", status)
	}
}
