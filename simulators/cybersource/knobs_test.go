package cybersource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	payment "github.com/coursecommerce/commerce/payment/cybersource"
)

func TestKnobOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		set      func(*Simulator)
		outcomes []payment.Outcome // of consecutive presses of Pay
		reasons  []string
	}{
		{"decline next 2", func(s *Simulator) { s.SetDeclineNext(2) },
			[]payment.Outcome{payment.OutcomeDeclined, payment.OutcomeDeclined, payment.OutcomeAccepted}, []string{"481", "481", "100"}},
		{"partial auth next 1", func(s *Simulator) { s.SetPartialAuthNext(1) },
			[]payment.Outcome{payment.OutcomeDeclined, payment.OutcomeAccepted}, []string{"110", "100"}},
		{"review next 1", func(s *Simulator) { s.SetReviewNext(1) },
			[]payment.Outcome{payment.OutcomeReview, payment.OutcomeAccepted}, []string{"200", "100"}},
		{"error next 1", func(s *Simulator) { s.SetErrorNext(1) },
			[]payment.Outcome{payment.OutcomeError, payment.OutcomeAccepted}, []string{"150", "100"}},
		{"decline before partial", func(s *Simulator) { s.SetKnobs(Knobs{DeclineNext: 1, PartialAuthNext: 1}) },
			[]payment.Outcome{payment.OutcomeDeclined, payment.OutcomeDeclined, payment.OutcomeAccepted}, []string{"481", "110", "100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.set(h.sim)
			for i, want := range tt.outcomes {
				res := h.pay(t, form(t, profileA, fmt.Sprintf("uuid-knob-%d", i)), ActionPay)
				r := h.parse(t, res.Reply)
				if r.Outcome != want || r.ReasonCode != tt.reasons[i] {
					t.Errorf("payment %d: outcome %s reason %s, want %s %s", i, r.Outcome, r.ReasonCode, want, tt.reasons[i])
				}
			}
			if k := h.sim.Knobs(); k != (Knobs{}) {
				t.Errorf("knobs not used up: %+v", k)
			}
		})
	}
}

func TestKnobsDoNotAffectDeclineOrCancel(t *testing.T) {
	h := newHarness(t)
	h.sim.SetPartialAuthNext(1)
	if res := h.pay(t, form(t, profileA, "uuid-d"), ActionDecline); res.Reply["decision"] != "DECLINE" {
		t.Errorf("decline button: %q", res.Reply["decision"])
	}
	if res := h.pay(t, form(t, profileA, "uuid-c"), ActionCancel); res.Reply["decision"] != "CANCEL" {
		t.Errorf("cancel button: %q", res.Reply["decision"])
	}
	if h.sim.Knobs().PartialAuthNext != 1 {
		t.Errorf("buttons other than Pay consumed a knob")
	}
}

func TestPartialAuthReply(t *testing.T) {
	h := newHarness(t)
	h.sim.SetPartialAuthNext(1)
	res := h.pay(t, form(t, profileA, "uuid-partial"), ActionPay)
	r := h.parse(t, res.Reply)
	if r.Decision != payment.Accept || r.ReasonCode != "110" || !r.PartialAuthorization {
		t.Fatalf("reply = %+v, want ACCEPT 110 partial", r)
	}
	if res.Reply["auth_amount"] != "49.50" || res.Reply["req_amount"] != "99.00" {
		t.Errorf("auth_amount/req_amount = %s/%s, want 49.50/99.00", res.Reply["auth_amount"], res.Reply["req_amount"])
	}
}

func TestTamperNext(t *testing.T) {
	h := newHarness(t)
	h.sim.SetTamperNext(1)
	res := h.pay(t, form(t, profileA, "uuid-tamper"), ActionPay)
	if err := h.shop.VerifyReply(res.Reply); !errors.Is(err, payment.ErrInvalidSignature) {
		t.Fatalf("tampered reply verifies: %v", err)
	}
	if res.Reply["auth_amount"] != "100.00" {
		t.Errorf("auth_amount = %q, want the altered 100.00", res.Reply["auth_amount"])
	}
	got := h.merchant.notifications()
	if len(got) != 1 || !maps.Equal(got[0], res.Reply) {
		t.Fatalf("notification differs from the browser reply")
	}
	if err := h.shop.VerifyReply(got[0]); !errors.Is(err, payment.ErrInvalidSignature) {
		t.Errorf("tampered notification verifies: %v", err)
	}
	// Without auth_amount (cancel), req_amount is altered.
	h.sim.SetTamperNext(1)
	res = h.pay(t, form(t, profileA, "uuid-tamper-cancel"), ActionCancel)
	if res.Reply["req_amount"] != "100.00" || h.shop.VerifyReply(res.Reply) == nil {
		t.Errorf("tampered cancel: req_amount %q verifies anyway", res.Reply["req_amount"])
	}
	// The next reply is intact.
	h.parse(t, h.pay(t, form(t, profileA, "uuid-intact"), ActionPay).Reply)
}

func TestDuplicateNotify(t *testing.T) {
	h := newHarness(t)
	h.sim.SetDuplicateNotify(true)
	res := h.pay(t, form(t, profileA, "uuid-dupnotify"), ActionPay)
	got := h.merchant.notifications()
	if len(got) != 2 || !maps.Equal(got[0], res.Reply) || !maps.Equal(got[1], res.Reply) {
		t.Fatalf("notifications = %d, want the reply twice", len(got))
	}
	if s := h.sim.NotifyStats(); s != (NotifyStats{Attempts: 2, Delivered: 2}) {
		t.Errorf("stats = %+v", s)
	}
	if n := len(h.sim.Replies()); n != 1 {
		t.Errorf("%d replies recorded, want 1", n)
	}
}

func TestSkipNotify(t *testing.T) {
	h := newHarness(t)
	h.sim.SetSkipNotify(true)
	res := h.pay(t, form(t, profileA, "uuid-skip"), ActionPay)
	if res.Reply["decision"] != "ACCEPT" {
		t.Fatalf("decision = %q", res.Reply["decision"])
	}
	if n := len(h.merchant.notifications()); n != 0 {
		t.Errorf("%d notifications, want 0", n)
	}
	if s := h.sim.NotifyStats(); s != (NotifyStats{}) {
		t.Errorf("stats = %+v", s)
	}
}

func TestNotifyDelay(t *testing.T) {
	h := newHarness(t)
	h.sim.SetNotifyDelay(500 * time.Millisecond)
	res := h.pay(t, form(t, profileA, "uuid-delay"), ActionPay)
	if n := len(h.merchant.notifications()); n != 0 {
		t.Fatalf("notified before the browser was answered (%d)", n)
	}
	if err := h.sim.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got := h.merchant.notifications(); len(got) != 1 || !maps.Equal(got[0], res.Reply) {
		t.Fatalf("after Flush: %d notifications", len(got))
	}
}

func TestKnobsOverHTTP(t *testing.T) {
	h := newHarness(t)
	get := func() knobsJSON {
		t.Helper()
		resp, err := http.Get(h.srv.URL + "/__sim/knobs")
		if err != nil {
			t.Fatalf("GET knobs: %v", err)
		}
		defer resp.Body.Close()
		var k knobsJSON
		if err := json.NewDecoder(resp.Body).Decode(&k); err != nil {
			t.Fatalf("decode knobs: %v", err)
		}
		return k
	}
	post := func(body string) int {
		t.Helper()
		resp, err := http.Post(h.srv.URL+"/__sim/knobs", "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatalf("POST knobs: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if k := get(); k != (knobsJSON{NotifyDelay: "0s"}) {
		t.Fatalf("default knobs = %+v", k)
	}
	if status := post(`{"decline_next":1,"tamper_next":2,"duplicate_notify":true,"notify_delay":"1.5s"}`); status != http.StatusOK {
		t.Fatalf("POST status %d", status)
	}
	want := Knobs{DeclineNext: 1, TamperNext: 2, DuplicateNotify: true, NotifyDelay: 1500 * time.Millisecond}
	if k := h.sim.Knobs(); k != want {
		t.Fatalf("knobs = %+v, want %+v", k, want)
	}
	// A partial update keeps the other knobs.
	if status := post(`{"skip_notify":true,"notify_delay":"0s","tamper_next":0}`); status != http.StatusOK {
		t.Fatalf("POST status %d", status)
	}
	want = Knobs{DeclineNext: 1, DuplicateNotify: true, SkipNotify: true}
	if k := h.sim.Knobs(); k != want {
		t.Fatalf("knobs = %+v, want %+v", k, want)
	}
	if k := get(); k != (knobsJSON{DeclineNext: 1, DuplicateNotify: true, SkipNotify: true, NotifyDelay: "0s"}) {
		t.Errorf("GET knobs = %+v", k)
	}
	for _, bad := range []string{`{"decline_next":-1}`, `{"notify_delay":"soon"}`, `{"notify_delay":"-1s"}`, `{"unknown":1}`, `not json`} {
		if status := post(bad); status != http.StatusBadRequest {
			t.Errorf("POST %s: status %d, want 400", bad, status)
		}
	}
	if k := h.sim.Knobs(); k != want {
		t.Errorf("rejected updates changed the knobs: %+v", k)
	}
	// The HTTP knob steers the next payment.
	if r := h.parse(t, h.pay(t, form(t, profileA, "uuid-httpknob"), ActionPay).Reply); r.Outcome != payment.OutcomeDeclined {
		t.Errorf("outcome = %s, want declined", r.Outcome)
	}
}

func TestResetAndInspectionEndpoints(t *testing.T) {
	h := newHarness(t)
	f := form(t, profileA, "uuid-reset")
	h.sim.SetKnobs(Knobs{ReviewNext: 3, SkipNotify: false})
	res := h.pay(t, f, ActionPay)

	resp, err := http.Get(h.srv.URL + "/__sim/replies")
	if err != nil {
		t.Fatalf("GET replies: %v", err)
	}
	var replies []map[string]string
	err = json.NewDecoder(resp.Body).Decode(&replies)
	resp.Body.Close()
	if err != nil || len(replies) != 1 || !maps.Equal(replies[0], res.Reply) {
		t.Fatalf("GET replies = %v, %v", replies, err)
	}
	resp, err = http.Get(h.srv.URL + "/__sim/stats")
	if err != nil {
		t.Fatalf("GET stats: %v", err)
	}
	var stats NotifyStats
	err = json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if err != nil || stats != (NotifyStats{Attempts: 1, Delivered: 1}) {
		t.Fatalf("GET stats = %+v, %v", stats, err)
	}

	resp, err = http.Post(h.srv.URL+"/__sim/reset", "", nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST reset: %v %v", resp, err)
	}
	resp.Body.Close()
	if k := h.sim.Knobs(); k != (Knobs{}) {
		t.Errorf("knobs after reset = %+v", k)
	}
	if len(h.sim.Replies()) != 0 || h.sim.NotifyStats() != (NotifyStats{}) {
		t.Errorf("replies or stats survive reset")
	}
	// The transaction uuid is forgotten too.
	if r := h.parse(t, h.pay(t, f, ActionPay).Reply); r.Outcome != payment.OutcomeAccepted {
		t.Errorf("after reset: %s, want accepted", r.Outcome)
	}
}
