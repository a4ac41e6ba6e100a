package paypal

import (
	"net/http"
	"net/url"
)

// handleGetCapture serves GET /v2/payments/captures/{id}.
func (s *Simulator) handleGetCapture(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	c, ok := s.captures[id]
	var view captureJSON
	if ok {
		view = captureView(c, s.baseURL(r))
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, notFound("capture_id", id))
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// handleRefund serves POST /v2/payments/captures/{id}/refund.
func (s *Simulator) handleRefund(w http.ResponseWriter, r *http.Request) {
	var req refundRequest
	if e := decodeBody(w, r, &req, false); e != nil {
		s.fail(w, e)
		return
	}
	a, lost, e := s.refund(r.PathValue("id"), r.Header.Get(requestIDHeader), req, s.baseURL(r))
	switch {
	case e != nil:
		s.fail(w, e)
	case lost:
		s.fail(w, serverError())
	default:
		writeAnswer(w, a)
	}
}

// refund refunds (part of) a capture, or replays the answer given to an earlier request with
// the same PayPal-Request-Id (knobs apart). Only successful answers are stored. RefuseRefundNext
// refuses a refund that is not a replay; LoseRefundAnswerNext reports a refund made as lost.
func (s *Simulator) refund(captureID, requestID string, req refundRequest, base string) (answer, bool, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := "refund\x00" + captureID + "\x00" + requestID
	if a, ok := s.answers[key]; ok && requestID != "" {
		return a, false, nil
	}
	if s.knobs.RefuseRefundNext > 0 {
		s.knobs.RefuseRefundNext--
		s.log.Info("paypal simulator: refund refused (REFUND_FAILED_INSUFFICIENT_FUNDS)", "capture_id", captureID)
		return answer{}, false, unprocessable("REFUND_FAILED_INSUFFICIENT_FUNDS",
			"Capture could not be refunded due to insufficient funds. Please check to see if you have sufficient funds in your PayPal account or if the bank account linked to your PayPal account is verified and has sufficient funds.")
	}
	c, ok := s.captures[captureID]
	switch {
	case !ok:
		return answer{}, false, notFound("capture_id", captureID)
	case c.status == captureRefunded:
		return answer{}, false, unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
	case c.status != captureCompleted && c.status != capturePartiallyRefunded:
		return answer{}, false, unprocessable("REFUND_NOT_ALLOWED", "A capture in status "+c.status+" cannot be refunded.")
	}
	left := c.amount.Sub(c.refunded)
	amount := left
	if req.Amount != nil {
		d, e := parseMoney(req.Amount, "/amount", "")
		switch {
		case e != nil:
			return answer{}, false, e
		case req.Amount.CurrencyCode != c.currency:
			return answer{}, false, unprocessable("REFUND_CURRENCY_MISMATCH", "The refund must be in the currency of the capture ("+c.currency+").")
		case !d.IsPositive():
			return answer{}, false, unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", "Must be greater than zero.")
		case d.GreaterThan(left):
			return answer{}, false, unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount that has not yet been refunded.")
		}
		amount = d
	}
	now := s.now()
	rf := &refund{id: newID(17), captureID: c.id, status: refundCompleted, amount: amount, currency: c.currency,
		invoiceID: firstNonEmpty(req.InvoiceID, c.invoiceID), noteToPayer: req.NoteToPayer, created: now}
	s.refunds[rf.id] = rf
	s.refunded = append(s.refunded, rf.id)
	c.refundIDs = append(c.refundIDs, rf.id)
	c.refunded, c.updated = c.refunded.Add(amount), now
	c.status = capturePartiallyRefunded
	if c.refunded.Equal(c.amount) {
		c.status = captureRefunded
	}
	a := jsonAnswer(http.StatusCreated, refundView(rf, base))
	if requestID != "" {
		s.answers[key] = a
	}
	lost := s.knobs.LoseRefundAnswerNext > 0
	if lost {
		s.knobs.LoseRefundAnswerNext--
	}
	s.log.Info("paypal simulator: capture refunded", "capture_id", c.id, "refund_id", rf.id, "amount", formatValue(amount, c.currency),
		"answer_lost", lost)
	return a, lost, nil
}

// refundView renders a refund.
func refundView(rf *refund, base string) refundJSON {
	self := base + "/v2/payments/refunds/" + url.PathEscape(rf.id)
	return refundJSON{ID: rf.id, Status: rf.status, Amount: money{CurrencyCode: rf.currency, Value: formatValue(rf.amount, rf.currency)},
		InvoiceID: rf.invoiceID, NoteToPayer: rf.noteToPayer,
		CreateTime: rf.created.UTC().Format(timeLayout), UpdateTime: rf.created.UTC().Format(timeLayout),
		Links: []link{{Href: self, Rel: "self", Method: "GET"},
			{Href: base + "/v2/payments/captures/" + url.PathEscape(rf.captureID), Rel: "up", Method: "GET"}}}
}

// firstNonEmpty returns the first value that is not "".
func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
