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
	a, e := s.refund(r.PathValue("id"), r.Header.Get(requestIDHeader), req, s.baseURL(r))
	if e != nil {
		s.fail(w, e)
		return
	}
	writeAnswer(w, a)
}

// refund refunds (part of) a capture, or replays the answer given to an earlier request with
// the same PayPal-Request-Id. Only successful answers are stored.
func (s *Simulator) refund(captureID, requestID string, req refundRequest, base string) (answer, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := "refund\x00" + captureID + "\x00" + requestID
	if a, ok := s.answers[key]; ok && requestID != "" {
		return a, nil
	}
	c, ok := s.captures[captureID]
	switch {
	case !ok:
		return answer{}, notFound("capture_id", captureID)
	case c.status == captureRefunded:
		return answer{}, unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
	case c.status != captureCompleted && c.status != capturePartiallyRefunded:
		return answer{}, unprocessable("REFUND_NOT_ALLOWED", "A capture in status "+c.status+" cannot be refunded.")
	}
	left := c.amount.Sub(c.refunded)
	amount := left
	if req.Amount != nil {
		d, e := parseMoney(req.Amount, "/amount", "")
		switch {
		case e != nil:
			return answer{}, e
		case req.Amount.CurrencyCode != c.currency:
			return answer{}, unprocessable("REFUND_CURRENCY_MISMATCH", "The refund must be in the currency of the capture ("+c.currency+").")
		case !d.IsPositive():
			return answer{}, unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", "Must be greater than zero.")
		case d.GreaterThan(left):
			return answer{}, unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount that has not yet been refunded.")
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
	s.log.Info("paypal simulator: capture refunded", "capture_id", c.id, "refund_id", rf.id, "amount", formatValue(amount, c.currency))
	return a, nil
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
