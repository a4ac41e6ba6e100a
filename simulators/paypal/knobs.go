package paypal

import (
	"net/http"
	"time"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// Knobs steer what the simulator does next. Counters ("...Next") are decremented each time
// they apply. A capture consumes DeclineNext first (and nothing else then); otherwise one of
// DeclinedCaptureNext and PendingCaptureNext (in that order), DoubleCaptureNext, and one of
// LoseAnswerNext and DropAnswerNext (in that order). A refund that does not repeat an earlier
// PayPal-Request-Id consumes RefuseRefundNext (and nothing else then), else LoseRefundAnswerNext
// if the refund is made. FailNext applies to every /v2 request, refunds included.
type Knobs struct {
	// DeclineNext: the next N captures are refused with 422 INSTRUMENT_DECLINED; nothing is
	// captured and the order stays approved.
	DeclineNext int
	// DeclinedCaptureNext: the next N captures create a capture with status DECLINED.
	DeclinedCaptureNext int
	// PendingCaptureNext: the next N captures create a capture with status PENDING
	// (reason PENDING_REVIEW).
	PendingCaptureNext int
	// DoubleCaptureNext: the next N captures take the money twice (two capture ids): the
	// second is an excessive payment.
	DoubleCaptureNext int
	// LoseAnswerNext: the next N captures happen, but the answer is a 500: the client must
	// find the capture by reading the order.
	LoseAnswerNext int
	// DropAnswerNext: the next N captures happen, but the connection is closed without an
	// answer.
	DropAnswerNext int
	// FailNext: the next N /v2 API requests answer 500 before doing anything.
	FailNext int
	// RefuseRefundNext: the next N refunds are refused with 422
	// REFUND_FAILED_INSUFFICIENT_FUNDS; nothing is refunded.
	RefuseRefundNext int
	// LoseRefundAnswerNext: the next N refunds happen, but the answer is a 500: the client
	// must send the same PayPal-Request-Id again to get the refund.
	LoseRefundAnswerNext int
	// Latency: every /v2 API request waits this long before it is handled; a request whose
	// client gives up meanwhile gets no answer and changes nothing.
	Latency time.Duration
}

// knobsJSON is the wire form of Knobs for /__sim/knobs; Latency is a Go duration string such
// as "2s".
type knobsJSON struct {
	DeclineNext         int    `json:"decline_next"`
	DeclinedCaptureNext int    `json:"declined_capture_next"`
	PendingCaptureNext  int    `json:"pending_capture_next"`
	DoubleCaptureNext   int    `json:"double_capture_next"`
	LoseAnswerNext      int    `json:"lose_answer_next"`
	DropAnswerNext      int    `json:"drop_answer_next"`
	FailNext            int    `json:"fail_next"`
	Latency             string `json:"latency"`

	RefuseRefundNext     int `json:"refuse_refund_next"`
	LoseRefundAnswerNext int `json:"lose_refund_answer_next"`
}

// knobsPatch is a partial update posted to /__sim/knobs: absent fields keep their value.
type knobsPatch struct {
	DeclineNext         *int    `json:"decline_next"`
	DeclinedCaptureNext *int    `json:"declined_capture_next"`
	PendingCaptureNext  *int    `json:"pending_capture_next"`
	DoubleCaptureNext   *int    `json:"double_capture_next"`
	LoseAnswerNext      *int    `json:"lose_answer_next"`
	DropAnswerNext      *int    `json:"drop_answer_next"`
	FailNext            *int    `json:"fail_next"`
	Latency             *string `json:"latency"`

	RefuseRefundNext     *int `json:"refuse_refund_next"`
	LoseRefundAnswerNext *int `json:"lose_refund_answer_next"`
}

// Knobs returns the current knobs.
func (s *Simulator) Knobs() Knobs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.knobs
}

// SetKnobs replaces all knobs.
func (s *Simulator) SetKnobs(k Knobs) { s.UpdateKnobs(func(cur *Knobs) { *cur = k }) }

// UpdateKnobs changes the knobs atomically with f.
func (s *Simulator) UpdateKnobs(f func(*Knobs)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.knobs)
}

// SetDeclineNext makes the next n captures fail with INSTRUMENT_DECLINED.
func (s *Simulator) SetDeclineNext(n int) { s.UpdateKnobs(func(k *Knobs) { k.DeclineNext = n }) }

// SetDeclinedCaptureNext makes the next n captures end in a DECLINED capture.
func (s *Simulator) SetDeclinedCaptureNext(n int) {
	s.UpdateKnobs(func(k *Knobs) { k.DeclinedCaptureNext = n })
}

// SetPendingCaptureNext makes the next n captures end in a PENDING capture.
func (s *Simulator) SetPendingCaptureNext(n int) {
	s.UpdateKnobs(func(k *Knobs) { k.PendingCaptureNext = n })
}

// SetDoubleCaptureNext makes the next n captures take the money twice.
func (s *Simulator) SetDoubleCaptureNext(n int) {
	s.UpdateKnobs(func(k *Knobs) { k.DoubleCaptureNext = n })
}

// SetLoseAnswerNext makes the next n captures answer 500 after capturing.
func (s *Simulator) SetLoseAnswerNext(n int) { s.UpdateKnobs(func(k *Knobs) { k.LoseAnswerNext = n }) }

// SetDropAnswerNext makes the next n captures close the connection after capturing.
func (s *Simulator) SetDropAnswerNext(n int) { s.UpdateKnobs(func(k *Knobs) { k.DropAnswerNext = n }) }

// SetFailNext makes the next n /v2 API requests answer 500.
func (s *Simulator) SetFailNext(n int) { s.UpdateKnobs(func(k *Knobs) { k.FailNext = n }) }

// SetRefuseRefundNext makes the next n refunds be refused (422).
func (s *Simulator) SetRefuseRefundNext(n int) {
	s.UpdateKnobs(func(k *Knobs) { k.RefuseRefundNext = n })
}

// SetLoseRefundAnswerNext makes the next n refunds answer 500 after refunding.
func (s *Simulator) SetLoseRefundAnswerNext(n int) {
	s.UpdateKnobs(func(k *Knobs) { k.LoseRefundAnswerNext = n })
}

// SetLatency makes every /v2 API request wait d.
func (s *Simulator) SetLatency(d time.Duration) { s.UpdateKnobs(func(k *Knobs) { k.Latency = d }) }

// toJSON converts knobs to their wire form.
func (k Knobs) toJSON() knobsJSON {
	return knobsJSON{
		DeclineNext: k.DeclineNext, DeclinedCaptureNext: k.DeclinedCaptureNext, PendingCaptureNext: k.PendingCaptureNext,
		DoubleCaptureNext: k.DoubleCaptureNext, LoseAnswerNext: k.LoseAnswerNext, DropAnswerNext: k.DropAnswerNext,
		FailNext: k.FailNext, Latency: k.Latency.String(),
		RefuseRefundNext: k.RefuseRefundNext, LoseRefundAnswerNext: k.LoseRefundAnswerNext,
	}
}

// apply returns k updated with the fields present in p.
func (p knobsPatch) apply(k Knobs) (Knobs, error) {
	err := simhttp.SetCounters(
		simhttp.Counter{From: p.DeclineNext, To: &k.DeclineNext}, simhttp.Counter{From: p.DeclinedCaptureNext, To: &k.DeclinedCaptureNext},
		simhttp.Counter{From: p.PendingCaptureNext, To: &k.PendingCaptureNext}, simhttp.Counter{From: p.DoubleCaptureNext, To: &k.DoubleCaptureNext},
		simhttp.Counter{From: p.LoseAnswerNext, To: &k.LoseAnswerNext}, simhttp.Counter{From: p.DropAnswerNext, To: &k.DropAnswerNext},
		simhttp.Counter{From: p.FailNext, To: &k.FailNext}, simhttp.Counter{From: p.RefuseRefundNext, To: &k.RefuseRefundNext},
		simhttp.Counter{From: p.LoseRefundAnswerNext, To: &k.LoseRefundAnswerNext},
	)
	if err != nil {
		return k, err
	}
	return k, simhttp.SetDuration(&k.Latency, p.Latency, "latency")
}

// knobsJSON returns the current knobs in their wire form, for GET /__sim/knobs.
func (s *Simulator) knobsJSON() knobsJSON { return s.Knobs().toJSON() }

// applyKnobs applies a partial update posted to /__sim/knobs and returns the resulting knobs.
func (s *Simulator) applyKnobs(p knobsPatch) (knobsJSON, error) {
	k, err := simhttp.Update(&s.mu, &s.knobs, p.apply)
	if err != nil {
		return knobsJSON{}, err
	}
	s.log.Info("paypal simulator: knobs set", "knobs", k.toJSON())
	return k.toJSON(), nil
}

// handleReset serves POST /__sim/reset.
func (s *Simulator) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// handleRevokeTokens serves POST /__sim/revoke-tokens.
func (s *Simulator) handleRevokeTokens(w http.ResponseWriter, _ *http.Request) {
	s.RevokeTokens()
	w.WriteHeader(http.StatusNoContent)
}

// stateJSON is the wire form of GET /__sim/state.
type stateJSON struct {
	Orders   []Order   `json:"orders"`
	Captures []Capture `json:"captures"`
	Refunds  []Refund  `json:"refunds"`
}

// handleState serves GET /__sim/state: every order, capture and refund.
func (s *Simulator) handleState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, stateJSON{Orders: s.Orders(), Captures: s.Captures(), Refunds: s.Refunds()})
}

// handleCalls serves GET /__sim/calls: the requests served, oldest first.
func (s *Simulator) handleCalls(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Calls())
}
