package cybersource

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/shopspring/decimal"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// correlationHeader carries CyberSource's id of every REST answer.
const correlationHeader = "v-c-correlation-id"

// submitTimeLayout is the layout of submitTimeUtc.
const submitTimeLayout = "2006-01-02T15:04:05Z"

// transaction is a payment the simulator produced: an accepted Secure Acceptance reply.
type transaction struct {
	id, orderNumber, currency string
	amount, refunded          decimal.Decimal
	// captured is set for a sale; an authorization alone cannot be refunded.
	captured bool
	created  time.Time
}

// refund is one refund the simulator carried out.
type refund struct {
	id, paymentID, orderNumber, idempotencyKey, merchantID string
	amount                                                 decimal.Decimal
	currency                                               string
	created                                                time.Time
}

// refundAnswer is a stored 201 answer, given again for a request that repeats an idempotency
// key (clientReferenceInformation.transactionId) with the same amount, currency and code.
type refundAnswer struct {
	body                  []byte
	amount                decimal.Decimal
	currency, orderNumber string
}

// restAnswer is a status and a JSON body.
type restAnswer struct {
	status int
	body   any
}

// refundBody is the JSON of a refund request.
type refundBody struct {
	ClientReferenceInformation *struct {
		Code          string `json:"code"`
		TransactionID string `json:"transactionId"`
	} `json:"clientReferenceInformation"`
	OrderInformation *struct {
		AmountDetails *struct {
			TotalAmount string `json:"totalAmount"`
			Currency    string `json:"currency"`
		} `json:"amountDetails"`
	} `json:"orderInformation"`
}

// refundRequest is a parsed refund request.
type refundRequest struct {
	orderNumber, key, currency string
	amount                     decimal.Decimal
}

// amountFormat is the shape of a totalAmount.
var amountFormat = regexp.MustCompile(`^[0-9]{1,15}(\.[0-9]{1,2})?$`)

// handleRefund serves POST /pts/v2/payments/{id}/refunds: it authenticates the request (401
// otherwise), applies FailRefundNext (502), validates the body (400 MISSING_FIELD or
// INVALID_DATA) and refunds, or replays the answer to an earlier request with the same
// idempotency key; LoseRefundAnswerNext turns the answer of a refund made into a 502.
func (s *Simulator) handleRefund(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(correlationHeader, newCorrelationID())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		s.writeREST(w, invalidRequest("INVALID_DATA", "", "The request body could not be read (or is larger than 1 MiB)."))
		return
	}
	key, why := s.authenticate(r, body)
	if why != "" {
		s.log.Warn("cybersource simulator: REST request not authenticated", "path", r.URL.Path, "reason", why)
		s.writeREST(w, restAnswer{status: http.StatusUnauthorized, body: map[string]any{"response": map[string]string{"rmsg": "Authentication Failed"}}})
		return
	}
	if s.takeKnob(func(k *Knobs) *int { return &k.FailRefundNext }) {
		s.log.Info("cybersource simulator: simulated refund failure", "path", r.URL.Path)
		s.writeREST(w, serverError("SYSTEM_ERROR"))
		return
	}
	req, bad := parseRefund(body)
	if bad != nil {
		s.writeREST(w, *bad)
		return
	}
	a, lost := s.refund(key.MerchantID, r.PathValue("id"), req)
	if lost {
		a = serverError("SERVER_TIMEOUT")
	}
	s.writeREST(w, a)
}

// parseRefund decodes and validates a refund request body.
func parseRefund(body []byte) (refundRequest, *restAnswer) {
	var b refundBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&b); err != nil {
		a := invalidRequest("INVALID_DATA", "", "Declined - The request JSON is not well formed.")
		return refundRequest{}, &a
	}
	var req refundRequest
	if c := b.ClientReferenceInformation; c != nil {
		req.orderNumber, req.key = c.Code, c.TransactionID
	}
	if b.OrderInformation == nil || b.OrderInformation.AmountDetails == nil || b.OrderInformation.AmountDetails.TotalAmount == "" {
		a := invalidRequest("MISSING_FIELD", "orderInformation.amountDetails.totalAmount", "Declined - The request is missing one or more fields")
		return refundRequest{}, &a
	}
	d := b.OrderInformation.AmountDetails
	if d.Currency == "" {
		a := invalidRequest("MISSING_FIELD", "orderInformation.amountDetails.currency", "Declined - The request is missing one or more fields")
		return refundRequest{}, &a
	}
	if !amountFormat.MatchString(d.TotalAmount) {
		a := invalidRequest("INVALID_DATA", "orderInformation.amountDetails.totalAmount", "Declined - One or more fields in the request contains invalid data")
		return refundRequest{}, &a
	}
	req.amount, req.currency = decimal.RequireFromString(d.TotalAmount), d.Currency
	if !req.amount.IsPositive() {
		a := invalidRequest("INVALID_AMOUNT", "orderInformation.amountDetails.totalAmount", "Declined - The amount must be greater than zero")
		return refundRequest{}, &a
	}
	return req, nil
}

// refund carries out a refund of payment paymentID, or answers a repeated idempotency key; it
// reports whether the answer must be lost (LoseRefundAnswerNext).
func (s *Simulator) refund(merchantID, paymentID string, req refundRequest) (restAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dupKey := merchantID + "\x00" + paymentID + "\x00" + req.key
	if prev, ok := s.refundAnswers[dupKey]; ok && req.key != "" {
		if s.knobs.DuplicateRefundError || !prev.amount.Equal(req.amount) || prev.currency != req.currency || prev.orderNumber != req.orderNumber {
			return invalidRequest("DUPLICATE_REQUEST", "", "Declined - The merchantReferenceCode sent with this request has already been used"), false
		}
		return restAnswer{status: http.StatusCreated, body: json.RawMessage(prev.body)}, false
	}
	if s.knobs.RefuseRefundNext > 0 {
		s.knobs.RefuseRefundNext--
		return invalidRequest("ACCOUNT_NOT_ALLOWED_CREDIT", "", "Declined - The account does not accept credits"), false
	}
	tx, ok := s.transactions[paymentID]
	switch {
	case !ok:
		return restAnswer{status: http.StatusNotFound, body: map[string]string{
			"submitTimeUtc": s.now().UTC().Format(submitTimeLayout), "status": "NOT_FOUND",
			"message": "The requested resource does not exist"}}, false
	case !tx.captured:
		return invalidRequest("INVALID_DATA", "id", "Declined - The payment was authorized but not captured"), false
	case req.currency != tx.currency:
		return invalidRequest("INVALID_DATA", "orderInformation.amountDetails.currency", "Declined - The currency does not match the payment's"), false
	case req.amount.GreaterThan(tx.amount.Sub(tx.refunded)):
		return invalidRequest("INVALID_AMOUNT", "orderInformation.amountDetails.totalAmount",
			fmt.Sprintf("Declined - The refund amount exceeds what is left of the payment (%s %s)", tx.amount.Sub(tx.refunded).StringFixed(2), tx.currency)), false
	}
	now := s.now()
	s.txnSeq++
	rf := &refund{id: fmt.Sprintf("%010d%012d", now.Unix()%1e10, s.txnSeq%1e12), paymentID: paymentID,
		orderNumber: req.orderNumber, idempotencyKey: req.key, merchantID: merchantID,
		amount: req.amount, currency: req.currency, created: now}
	tx.refunded = tx.refunded.Add(req.amount)
	s.refunds = append(s.refunds, rf)
	body, _ := json.Marshal(refundView(rf)) // plain maps and strings: never fails
	if req.key != "" {
		s.refundAnswers[dupKey] = refundAnswer{body: body, amount: req.amount, currency: req.currency, orderNumber: req.orderNumber}
	}
	lost := s.knobs.LoseRefundAnswerNext > 0
	if lost {
		s.knobs.LoseRefundAnswerNext--
	}
	s.log.Info("cybersource simulator: payment refunded", "payment_id", paymentID, "refund_id", rf.id,
		"amount", rf.amount.StringFixed(2), "currency", rf.currency, "answer_lost", lost)
	return restAnswer{status: http.StatusCreated, body: json.RawMessage(body)}, lost
}

// refundView is the 201 answer to a refund.
func refundView(rf *refund) map[string]any {
	self := "/pts/v2/refunds/" + url.PathEscape(rf.id)
	ref := map[string]string{"code": rf.orderNumber}
	if rf.idempotencyKey != "" {
		ref["transactionId"] = rf.idempotencyKey
	}
	return map[string]any{
		"_links": map[string]any{
			"self": map[string]string{"href": self, "method": "GET"},
			"void": map[string]string{"href": self + "/voids", "method": "POST"},
		},
		"id":                         rf.id,
		"submitTimeUtc":              rf.created.UTC().Format(submitTimeLayout),
		"status":                     "PENDING",
		"reconciliationId":           rf.id[len(rf.id)-16:],
		"clientReferenceInformation": ref,
		"refundAmountDetails":        map[string]string{"refundAmount": rf.amount.StringFixed(2), "currency": rf.currency},
		"orderInformation":           map[string]any{"amountDetails": map[string]string{"currency": rf.currency}},
	}
}

// invalidRequest is a 400 INVALID_REQUEST answer with reason, naming field if not empty.
func invalidRequest(reason, field, message string) restAnswer {
	body := map[string]any{"submitTimeUtc": time.Now().UTC().Format(submitTimeLayout), "status": "INVALID_REQUEST",
		"reason": reason, "message": message}
	if field != "" {
		body["details"] = []map[string]string{{"field": field, "reason": reason}}
	}
	return restAnswer{status: http.StatusBadRequest, body: body}
}

// serverError is a 502 SERVER_ERROR answer.
func serverError(reason string) restAnswer {
	return restAnswer{status: http.StatusBadGateway, body: map[string]string{
		"submitTimeUtc": time.Now().UTC().Format(submitTimeLayout), "status": "SERVER_ERROR", "reason": reason,
		"message": "Error - General system failure."}}
}

// writeREST writes a REST answer as CyberSource does (application/hal+json).
func (s *Simulator) writeREST(w http.ResponseWriter, a restAnswer) {
	var buf bytes.Buffer
	if raw, ok := a.body.(json.RawMessage); ok {
		buf.Write(raw)
	} else if err := json.NewEncoder(&buf).Encode(a.body); err != nil {
		http.Error(w, "encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/hal+json")
	w.WriteHeader(a.status)
	_, _ = w.Write(buf.Bytes())
}

// takeKnob consumes one unit of the counter field returns and reports whether there was one.
func (s *Simulator) takeKnob(field func(*Knobs) *int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := field(&s.knobs)
	if *n <= 0 {
		return false
	}
	*n--
	return true
}

// rememberTransaction keeps an accepted reply's transaction so that it can be refunded;
// s.mu is held.
func (s *Simulator) rememberTransaction(reply map[string]string) {
	id := reply["transaction_id"]
	if id == "" || reply["decision"] != "ACCEPT" {
		return
	}
	amount, err := decimal.NewFromString(reply["auth_amount"])
	if err != nil {
		if amount, err = decimal.NewFromString(reply["req_amount"]); err != nil {
			return
		}
	}
	s.transactions[id] = &transaction{id: id, orderNumber: reply["req_reference_number"], currency: reply["req_currency"],
		amount: amount, captured: reply["req_transaction_type"] == "sale", created: s.now()}
	s.transactionIDs = append(s.transactionIDs, id)
}

// AddSale makes the simulator know a captured payment it did not produce through the payment
// page (e.g. to seed a refund test), and returns its transaction id.
func (s *Simulator) AddSale(orderNumber string, amount decimal.Decimal, currency string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.txnSeq++
	id := fmt.Sprintf("%010d%012d", now.Unix()%1e10, s.txnSeq%1e12)
	s.transactions[id] = &transaction{id: id, orderNumber: orderNumber, currency: currency, amount: amount, captured: true, created: now}
	s.transactionIDs = append(s.transactionIDs, id)
	return id
}

// Transaction is a payment the simulator knows, as observed.
type Transaction struct {
	ID          string `json:"id"`
	OrderNumber string `json:"order_number"`
	Currency    string `json:"currency"`
	Amount      string `json:"amount"`
	Refunded    string `json:"refunded"`
	Captured    bool   `json:"captured"`
}

// Refund is a refund the simulator carried out, as observed.
type Refund struct {
	ID             string    `json:"id"`
	PaymentID      string    `json:"payment_id"`
	OrderNumber    string    `json:"order_number"`
	IdempotencyKey string    `json:"idempotency_key"`
	MerchantID     string    `json:"merchant_id"`
	Amount         string    `json:"amount"`
	Currency       string    `json:"currency"`
	At             time.Time `json:"at"`
}

// Transactions returns the payments the simulator knows, oldest first.
func (s *Simulator) Transactions() []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Transaction, 0, len(s.transactionIDs))
	for _, id := range s.transactionIDs {
		t := s.transactions[id]
		out = append(out, Transaction{ID: t.id, OrderNumber: t.orderNumber, Currency: t.currency,
			Amount: t.amount.StringFixed(2), Refunded: t.refunded.StringFixed(2), Captured: t.captured})
	}
	return out
}

// Refunds returns the refunds carried out, oldest first (a replayed answer adds none).
func (s *Simulator) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Refund, 0, len(s.refunds))
	for _, r := range s.refunds {
		out = append(out, Refund{ID: r.id, PaymentID: r.paymentID, OrderNumber: r.orderNumber, IdempotencyKey: r.idempotencyKey,
			MerchantID: r.merchantID, Amount: r.amount.StringFixed(2), Currency: r.currency, At: r.created})
	}
	return out
}

// handleRefunds serves GET /__sim/refunds: the refunds carried out and the payments known.
func (s *Simulator) handleRefunds(w http.ResponseWriter, _ *http.Request) {
	simhttp.WriteJSON(w, http.StatusOK, map[string]any{"refunds": s.Refunds(), "transactions": s.Transactions()})
}

// newCorrelationID returns a random UUID-shaped correlation id.
func newCorrelationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
