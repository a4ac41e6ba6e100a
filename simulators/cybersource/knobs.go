package cybersource

import (
	"net/http"
	"time"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// Knobs steer what the simulator does with the next payments and refunds.
// Counters ("...Next") are decremented each time they apply. When several
// counters are set, a press of Pay consumes the first of DeclineNext,
// ErrorNext, ReviewNext, PartialAuthNext that is positive. An authentic
// refund request consumes FailRefundNext first (and nothing else then);
// otherwise, unless it repeats an idempotency key, RefuseRefundNext (and
// nothing else then), else LoseRefundAnswerNext if the refund is made.
type Knobs struct {
	// DeclineNext: the next N presses of Pay are declined (DECLINE, 481).
	DeclineNext int
	// PartialAuthNext: the next N presses of Pay are authorised for only
	// half the amount (ACCEPT, 110, auth_amount < req_amount).
	PartialAuthNext int
	// ReviewNext: the next N presses of Pay end in REVIEW (reason 200).
	ReviewNext int
	// ErrorNext: the next N presses of Pay end in ERROR (reason 150).
	ErrorNext int
	// TamperNext: the next N replies (of any kind) have a signed field
	// (auth_amount, else req_amount) altered after signing.
	TamperNext int
	// DuplicateNotify: every notification is sent twice.
	DuplicateNotify bool
	// NotifyDelay: notifications are sent in the background after this
	// delay (so after the browser got its reply); 0 sends them before the
	// browser is answered.
	NotifyDelay time.Duration
	// SkipNotify: no notification is sent.
	SkipNotify bool
	// FailRefundNext: the next N authentic refund requests answer 502
	// SERVER_ERROR before doing anything.
	FailRefundNext int
	// RefuseRefundNext: the next N refunds are refused with 400
	// INVALID_REQUEST, reason ACCOUNT_NOT_ALLOWED_CREDIT; nothing is refunded.
	RefuseRefundNext int
	// LoseRefundAnswerNext: the next N refunds are made, but answered 502
	// SERVER_ERROR (SERVER_TIMEOUT): the client must retry with the same
	// idempotency key.
	LoseRefundAnswerNext int
	// DuplicateRefundError: a refund repeating an earlier idempotency key is
	// answered 400 DUPLICATE_REQUEST (as CyberSource's duplicate check does)
	// instead of the first answer again.
	DuplicateRefundError bool
}

// knobsJSON is the wire form of Knobs for /__sim/knobs; NotifyDelay is a
// Go duration string such as "2s".
type knobsJSON struct {
	DeclineNext     int    `json:"decline_next"`
	PartialAuthNext int    `json:"partial_auth_next"`
	ReviewNext      int    `json:"review_next"`
	ErrorNext       int    `json:"error_next"`
	TamperNext      int    `json:"tamper_next"`
	DuplicateNotify bool   `json:"duplicate_notify"`
	NotifyDelay     string `json:"notify_delay"`
	SkipNotify      bool   `json:"skip_notify"`

	FailRefundNext       int  `json:"fail_refund_next"`
	RefuseRefundNext     int  `json:"refuse_refund_next"`
	LoseRefundAnswerNext int  `json:"lose_refund_answer_next"`
	DuplicateRefundError bool `json:"duplicate_refund_error"`
}

// knobsPatch is a partial update posted to /__sim/knobs: absent fields keep
// their value.
type knobsPatch struct {
	DeclineNext     *int    `json:"decline_next"`
	PartialAuthNext *int    `json:"partial_auth_next"`
	ReviewNext      *int    `json:"review_next"`
	ErrorNext       *int    `json:"error_next"`
	TamperNext      *int    `json:"tamper_next"`
	DuplicateNotify *bool   `json:"duplicate_notify"`
	NotifyDelay     *string `json:"notify_delay"`
	SkipNotify      *bool   `json:"skip_notify"`

	FailRefundNext       *int  `json:"fail_refund_next"`
	RefuseRefundNext     *int  `json:"refuse_refund_next"`
	LoseRefundAnswerNext *int  `json:"lose_refund_answer_next"`
	DuplicateRefundError *bool `json:"duplicate_refund_error"`
}

// Knobs returns the current knobs.
func (s *Simulator) Knobs() Knobs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.knobs
}

// SetKnobs replaces all knobs.
func (s *Simulator) SetKnobs(k Knobs) {
	s.UpdateKnobs(func(cur *Knobs) { *cur = k })
}

// UpdateKnobs changes the knobs atomically with f.
func (s *Simulator) UpdateKnobs(f func(*Knobs)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.knobs)
}

// SetDeclineNext makes the next n presses of Pay decline.
func (s *Simulator) SetDeclineNext(n int) { s.UpdateKnobs(func(k *Knobs) { k.DeclineNext = n }) }

// SetPartialAuthNext makes the next n presses of Pay partially authorised.
func (s *Simulator) SetPartialAuthNext(n int) {
	s.UpdateKnobs(func(k *Knobs) { k.PartialAuthNext = n })
}

// SetReviewNext makes the next n presses of Pay end in REVIEW.
func (s *Simulator) SetReviewNext(n int) { s.UpdateKnobs(func(k *Knobs) { k.ReviewNext = n }) }

// SetErrorNext makes the next n presses of Pay end in ERROR (reason 150).
func (s *Simulator) SetErrorNext(n int) { s.UpdateKnobs(func(k *Knobs) { k.ErrorNext = n }) }

// SetTamperNext makes the next n replies fail signature verification.
func (s *Simulator) SetTamperNext(n int) { s.UpdateKnobs(func(k *Knobs) { k.TamperNext = n }) }

// SetDuplicateNotify makes every notification be sent twice (or once).
func (s *Simulator) SetDuplicateNotify(on bool) {
	s.UpdateKnobs(func(k *Knobs) { k.DuplicateNotify = on })
}

// SetNotifyDelay delays notifications by d (sent in the background).
func (s *Simulator) SetNotifyDelay(d time.Duration) {
	s.UpdateKnobs(func(k *Knobs) { k.NotifyDelay = d })
}

// SetSkipNotify turns notifications off (or back on).
func (s *Simulator) SetSkipNotify(on bool) { s.UpdateKnobs(func(k *Knobs) { k.SkipNotify = on }) }

// SetFailRefundNext makes the next n refund requests answer 502.
func (s *Simulator) SetFailRefundNext(n int) { s.UpdateKnobs(func(k *Knobs) { k.FailRefundNext = n }) }

// SetRefuseRefundNext makes the next n refunds be refused (400).
func (s *Simulator) SetRefuseRefundNext(n int) {
	s.UpdateKnobs(func(k *Knobs) { k.RefuseRefundNext = n })
}

// SetLoseRefundAnswerNext makes the next n refunds answer 502 after refunding.
func (s *Simulator) SetLoseRefundAnswerNext(n int) {
	s.UpdateKnobs(func(k *Knobs) { k.LoseRefundAnswerNext = n })
}

// SetDuplicateRefundError makes a repeated idempotency key be answered 400
// DUPLICATE_REQUEST (or, off, with the first answer again).
func (s *Simulator) SetDuplicateRefundError(on bool) {
	s.UpdateKnobs(func(k *Knobs) { k.DuplicateRefundError = on })
}

// toJSON converts knobs to their wire form.
func (k Knobs) toJSON() knobsJSON {
	return knobsJSON{
		DeclineNext: k.DeclineNext, PartialAuthNext: k.PartialAuthNext,
		ReviewNext: k.ReviewNext, ErrorNext: k.ErrorNext, TamperNext: k.TamperNext,
		DuplicateNotify: k.DuplicateNotify, NotifyDelay: k.NotifyDelay.String(),
		SkipNotify: k.SkipNotify, FailRefundNext: k.FailRefundNext, RefuseRefundNext: k.RefuseRefundNext,
		LoseRefundAnswerNext: k.LoseRefundAnswerNext, DuplicateRefundError: k.DuplicateRefundError,
	}
}

// apply returns k updated with the fields present in p.
func (p knobsPatch) apply(k Knobs) (Knobs, error) {
	err := simhttp.SetCounters(
		simhttp.Counter{From: p.DeclineNext, To: &k.DeclineNext}, simhttp.Counter{From: p.PartialAuthNext, To: &k.PartialAuthNext},
		simhttp.Counter{From: p.ReviewNext, To: &k.ReviewNext}, simhttp.Counter{From: p.ErrorNext, To: &k.ErrorNext},
		simhttp.Counter{From: p.TamperNext, To: &k.TamperNext}, simhttp.Counter{From: p.FailRefundNext, To: &k.FailRefundNext},
		simhttp.Counter{From: p.RefuseRefundNext, To: &k.RefuseRefundNext},
		simhttp.Counter{From: p.LoseRefundAnswerNext, To: &k.LoseRefundAnswerNext},
	)
	if err != nil {
		return k, err
	}
	if p.DuplicateNotify != nil {
		k.DuplicateNotify = *p.DuplicateNotify
	}
	if p.SkipNotify != nil {
		k.SkipNotify = *p.SkipNotify
	}
	if p.DuplicateRefundError != nil {
		k.DuplicateRefundError = *p.DuplicateRefundError
	}
	return k, simhttp.SetDuration(&k.NotifyDelay, p.NotifyDelay, "notify_delay")
}

// knobsJSON returns the current knobs in their wire form, for GET
// /__sim/knobs.
func (s *Simulator) knobsJSON() knobsJSON { return s.Knobs().toJSON() }

// applyKnobs applies a partial update posted to /__sim/knobs and returns
// the resulting knobs.
func (s *Simulator) applyKnobs(p knobsPatch) (knobsJSON, error) {
	k, err := simhttp.Update(&s.mu, &s.knobs, p.apply)
	if err != nil {
		return knobsJSON{}, err
	}
	s.log.Info("cybersource simulator: knobs set", "knobs", k.toJSON())
	return k.toJSON(), nil
}

// handleReset serves POST /__sim/reset.
func (s *Simulator) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// handleReplies serves GET /__sim/replies: every reply sent, oldest first.
func (s *Simulator) handleReplies(w http.ResponseWriter, _ *http.Request) {
	simhttp.WriteJSON(w, http.StatusOK, s.Replies())
}

// handleStats serves GET /__sim/stats: notification delivery counts.
func (s *Simulator) handleStats(w http.ResponseWriter, _ *http.Request) {
	simhttp.WriteJSON(w, http.StatusOK, s.NotifyStats())
}
