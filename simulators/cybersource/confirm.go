package cybersource

import (
	"net/http"
	"strings"
)

// Actions posted by the payment page buttons.
const (
	ActionPay     = "pay"
	ActionDecline = "decline"
	ActionCancel  = "cancel"
)

// DefaultCardNumber is the test Visa number prefilled on the payment page.
const DefaultCardNumber = "4111111111111111"

// DefaultCardExpiry is the expiry date prefilled on the payment page.
const DefaultCardExpiry = "12-2030"

// handleConfirm serves POST /pay/confirm: one press of Pay, Decline or
// Cancel on a payment page. It builds, records and notifies the signed reply
// and answers the browser with a form that posts it to the merchant.
func (s *Simulator) handleConfirm(w http.ResponseWriter, r *http.Request) {
	fields, rej := readForm(w, r)
	var c *card
	if rej == nil {
		c, rej = readConfirm(fields)
	}
	var sess session
	if rej == nil {
		var ok bool
		if sess, ok = s.takeSession(fields["session"]); !ok {
			rej = reject(http.StatusNotFound, "unknown, expired or already used payment session")
		}
	}
	if rej != nil {
		s.log.Warn("cybersource simulator: confirmation rejected", "status", rej.status, "reason", rej.message)
		writeError(w, rej)
		return
	}
	action := fields["action"]
	if s.markUsed(sess.request["access_key"], sess.request["transaction_uuid"]) {
		// Another page of the same transaction was confirmed first.
		s.deliver(r, w, s.buildReply(sess.profile, sess.request, duplicateOutcome, nil), sess.request["override_custom_receipt_page"])
		return
	}
	out := s.decide(action)
	target := sess.request["override_custom_receipt_page"]
	if action == ActionCancel {
		c = nil
		if page := sess.request["override_custom_cancel_page"]; page != "" {
			target = page
		}
	}
	reply := s.buildReply(sess.profile, sess.request, out, c)
	s.deliver(r, w, reply, target)
}

// readConfirm validates the action and the card form of a confirmation.
func readConfirm(fields map[string]string) (*card, *rejection) {
	switch fields["action"] {
	case ActionPay, ActionDecline, ActionCancel:
	default:
		return nil, reject(http.StatusBadRequest, "action %q is not pay, decline or cancel", fields["action"])
	}
	number := fields["card_number"]
	if number == "" {
		number = DefaultCardNumber
	}
	digits := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case r == ' ' || r == '-':
			return -1
		}
		return 'x'
	}, number)
	if strings.Contains(digits, "x") || len(digits) < 12 || len(digits) > 19 {
		return nil, reject(http.StatusBadRequest, "card number must be 12 to 19 digits")
	}
	kind := cardType(digits)
	if kind == "" {
		return nil, reject(http.StatusBadRequest, "card brand not supported (use Visa 4…, Mastercard 5…, Amex 34/37…, Discover 6…)")
	}
	expiry := fields["card_expiry_date"]
	if expiry == "" {
		expiry = DefaultCardExpiry
	}
	return &card{number: digits, kind: kind, expiry: expiry}, nil
}

// decide picks the outcome of a button press, consuming knobs for Pay.
func (s *Simulator) decide(action string) outcome {
	switch action {
	case ActionCancel:
		return cancelOutcome
	case ActionDecline:
		return declineOutcome
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := &s.knobs
	switch {
	case k.DeclineNext > 0:
		k.DeclineNext--
		return declineOutcome
	case k.ErrorNext > 0:
		k.ErrorNext--
		return errorOutcome
	case k.ReviewNext > 0:
		k.ReviewNext--
		return reviewOutcome
	case k.PartialAuthNext > 0:
		k.PartialAuthNext--
		return partialOutcome
	}
	return acceptOutcome
}
