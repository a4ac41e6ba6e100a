package paypal

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/shopspring/decimal"
)

// Order statuses.
const (
	statusCreated             = "CREATED"
	statusPayerActionRequired = "PAYER_ACTION_REQUIRED"
	statusApproved            = "APPROVED"
	statusCompleted           = "COMPLETED"
)

// Capture and refund statuses.
const (
	captureCompleted         = "COMPLETED"
	captureDeclined          = "DECLINED"
	capturePending           = "PENDING"
	capturePartiallyRefunded = "PARTIALLY_REFUNDED"
	captureRefunded          = "REFUNDED"
	refundCompleted          = "COMPLETED"
)

// maxIDLength bounds invoice_id, custom_id and reference_id.
const maxIDLength = 127

// handleCreateOrder serves POST /v2/checkout/orders.
func (s *Simulator) handleCreateOrder(w http.ResponseWriter, r *http.Request) {
	var req orderRequest
	if e := decodeBody(w, r, &req, true); e != nil {
		s.fail(w, e)
		return
	}
	o, e := s.newOrder(req, r.Header.Get(requestIDHeader))
	if e != nil {
		s.log.Info("paypal simulator: order refused", "issue", e.details[0].Issue)
		s.fail(w, e)
		return
	}
	writeAnswer(w, s.storeOrder(o, s.baseURL(r), wantsRepresentation(r)))
}

// storeOrder keeps a new order and returns its answer, or returns the answer given to an
// earlier request with the same PayPal-Request-Id (and keeps nothing).
func (s *Simulator) storeOrder(o *order, base string, full bool) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := "create\x00" + o.requestID
	if a, ok := s.answers[key]; ok && o.requestID != "" {
		return a
	}
	s.orders[o.id] = o
	s.ordered = append(s.ordered, o.id)
	a := jsonAnswer(http.StatusCreated, s.orderView(o, base, full))
	if o.requestID != "" {
		s.answers[key] = a
	}
	s.log.Info("paypal simulator: order created", "order_id", o.id, "invoice_id", o.unit.InvoiceID, "amount", o.unit.Amount.Value)
	return a
}

// newOrder validates an order request as PayPal does and returns the new order.
func (s *Simulator) newOrder(req orderRequest, requestID string) (*order, *apiError) {
	if req.Intent != "CAPTURE" {
		return nil, invalidRequest("INVALID_PARAMETER_VALUE", "/intent", "The simulator supports intent CAPTURE only.")
	}
	if len(req.PurchaseUnits) != 1 {
		return nil, invalidRequest("INVALID_PARAMETER_VALUE", "/purchase_units", "The simulator takes exactly one purchase unit.")
	}
	unit := req.PurchaseUnits[0]
	for _, id := range []string{unit.InvoiceID, unit.CustomID, unit.ReferenceID} {
		if len(id) > maxIDLength {
			return nil, invalidRequest("INVALID_STRING_MAX_LENGTH", "/purchase_units/0", "An id is longer than 127 characters.")
		}
	}
	if e := checkAmount(unit); e != nil {
		return nil, e
	}
	ctx, payerAction := req.ApplicationContext, false
	if ps := req.PaymentSource; ps != nil && ps.PayPal != nil && ps.PayPal.ExperienceContext != nil {
		ctx, payerAction = ps.PayPal.ExperienceContext, true
	}
	if ctx == nil || ctx.ReturnURL == "" || ctx.CancelURL == "" {
		return nil, invalidRequest("MISSING_REQUIRED_PARAMETER", "/payment_source/paypal/experience_context/return_url",
			"The simulator needs return_url and cancel_url to send the buyer back.")
	}
	if !isHTTPURL(ctx.ReturnURL) || !isHTTPURL(ctx.CancelURL) {
		return nil, invalidRequest("INVALID_PARAMETER_SYNTAX", "/payment_source/paypal/experience_context/return_url",
			"return_url and cancel_url must be absolute http(s) URLs.")
	}
	now := s.now()
	o := &order{id: newID(17), status: statusCreated, requestID: requestID, unit: unit, returnURL: ctx.ReturnURL,
		cancelURL: ctx.CancelURL, payerAction: payerAction, created: now, updated: now}
	if payerAction {
		o.status = statusPayerActionRequired
	}
	return o, nil
}

// checkAmount checks that a purchase unit's amount is positive and that its breakdown and
// items add up, with PayPal's issues when they do not.
func checkAmount(unit purchaseUnitRequest) *apiError {
	a := unit.Amount
	if a == nil {
		return invalidRequest("MISSING_REQUIRED_PARAMETER", "/purchase_units/0/amount", "A required field / parameter is missing.")
	}
	currency := a.CurrencyCode
	total, e := parseMoney(&money{CurrencyCode: currency, Value: a.Value}, "/purchase_units/0/amount", "")
	if e != nil {
		return e
	}
	if !total.IsPositive() {
		return unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", "Must be greater than zero.")
	}
	if len(unit.Items) > 0 && (a.Breakdown == nil || a.Breakdown.ItemTotal == nil) {
		return unprocessable("ITEM_TOTAL_REQUIRED", "If item details are specified (items.unit_amount and items.quantity) corresponding amount.breakdown.item_total is required.")
	}
	if a.Breakdown == nil {
		return nil
	}
	b := a.Breakdown
	sum := decimal.Zero
	for _, part := range []struct {
		m    *money
		sign int64
	}{{b.ItemTotal, 1}, {b.Shipping, 1}, {b.Handling, 1}, {b.TaxTotal, 1}, {b.Insurance, 1}, {b.ShippingDiscount, -1}, {b.Discount, -1}} {
		if part.m == nil {
			continue
		}
		d, e := parseMoney(part.m, "/purchase_units/0/amount/breakdown", currency)
		if e != nil {
			return e
		}
		sum = sum.Add(d.Mul(decimal.NewFromInt(part.sign)))
	}
	if !sum.Equal(total) {
		return unprocessable("AMOUNT_MISMATCH", "Should equal item_total + tax_total + shipping + handling + insurance - shipping_discount - discount.")
	}
	return checkItems(unit.Items, b, currency)
}

// checkItems checks the items against the item total (and tax total).
func checkItems(items []item, b *breakdown, currency string) *apiError {
	if len(items) == 0 {
		return nil
	}
	itemTotal, tax := decimal.Zero, decimal.Zero
	for _, it := range items {
		if it.Name == "" {
			return invalidRequest("MISSING_REQUIRED_PARAMETER", "/purchase_units/0/items/name", "A required field / parameter is missing.")
		}
		if !quantityPattern.MatchString(it.Quantity) {
			return invalidRequest("INVALID_PARAMETER_VALUE", "/purchase_units/0/items/quantity", "The quantity is not a positive whole number.")
		}
		q, _ := decimal.NewFromString(it.Quantity)
		price, e := parseMoney(it.UnitAmount, "/purchase_units/0/items/unit_amount", currency)
		if e != nil {
			return e
		}
		itemTotal = itemTotal.Add(price.Mul(q))
		if it.Tax != nil {
			t, e := parseMoney(it.Tax, "/purchase_units/0/items/tax", currency)
			if e != nil {
				return e
			}
			tax = tax.Add(t.Mul(q))
		}
	}
	if want, _ := parseMoney(b.ItemTotal, "", currency); !itemTotal.Equal(want) {
		return unprocessable("ITEM_TOTAL_MISMATCH", "Should equal sum of (unit_amount * quantity) across all items for a given purchase_unit.")
	}
	if b.TaxTotal != nil {
		if want, _ := parseMoney(b.TaxTotal, "", currency); !tax.Equal(want) {
			return unprocessable("TAX_TOTAL_MISMATCH", "Should equal sum of (tax * quantity) across all items for a given purchase_unit.")
		}
	}
	return nil
}

// handleGetOrder serves GET /v2/checkout/orders/{id}.
func (s *Simulator) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	o, ok := s.orders[id]
	var view orderJSON
	if ok {
		view = s.orderView(o, s.baseURL(r), true)
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, notFound("order_id", id))
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// fate is what happens to the answer of a capture that was made.
type fate int

const (
	deliver    fate = iota // the answer is sent
	loseAnswer             // a 500 is sent instead
	dropAnswer             // the connection is closed without an answer
)

// handleCapture serves POST /v2/checkout/orders/{id}/capture.
func (s *Simulator) handleCapture(w http.ResponseWriter, r *http.Request) {
	var ignored map[string]any // a payment_source may be sent; the simulator does not need it
	if e := decodeBody(w, r, &ignored, false); e != nil {
		s.fail(w, e)
		return
	}
	a, f, e := s.capture(r.PathValue("id"), r.Header.Get(requestIDHeader), s.baseURL(r))
	switch {
	case e != nil:
		s.fail(w, e)
	case f == loseAnswer:
		s.fail(w, serverError())
	case f == dropAnswer:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
		s.fail(w, serverError())
	default:
		writeAnswer(w, a)
	}
}

// capture captures an approved order, steered by the knobs, or replays the answer given to an
// earlier request with the same PayPal-Request-Id. Only successful answers are stored, so a
// request refused (not approved yet, declined) can be made again with the same id.
func (s *Simulator) capture(id, requestID, base string) (answer, fate, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := "capture\x00" + id + "\x00" + requestID
	if a, ok := s.answers[key]; ok && requestID != "" {
		return a, deliver, nil
	}
	o, ok := s.orders[id]
	switch {
	case !ok:
		return answer{}, deliver, notFound("order_id", id)
	case o.status == statusCreated || o.status == statusPayerActionRequired:
		return answer{}, deliver, unprocessable("ORDER_NOT_APPROVED",
			"Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request.")
	case o.status == statusCompleted:
		return answer{}, deliver, unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.")
	}
	k := &s.knobs
	if k.DeclineNext > 0 {
		k.DeclineNext--
		s.log.Info("paypal simulator: capture declined (INSTRUMENT_DECLINED)", "order_id", id)
		return answer{}, deliver, unprocessable("INSTRUMENT_DECLINED",
			"The instrument presented  was either declined by the processor or bank, or it can't be used for this payment.")
	}
	status, reason, count := captureCompleted, "", 1
	switch {
	case k.DeclinedCaptureNext > 0:
		k.DeclinedCaptureNext--
		status = captureDeclined
	case k.PendingCaptureNext > 0:
		k.PendingCaptureNext--
		status, reason = capturePending, "PENDING_REVIEW"
	}
	if k.DoubleCaptureNext > 0 {
		k.DoubleCaptureNext--
		count = 2
	}
	s.addCaptures(o, status, reason, count)
	a := jsonAnswer(http.StatusCreated, s.orderView(o, base, true))
	if requestID != "" {
		s.answers[key] = a
	}
	f := deliver
	switch {
	case k.LoseAnswerNext > 0:
		k.LoseAnswerNext--
		f = loseAnswer
	case k.DropAnswerNext > 0:
		k.DropAnswerNext--
		f = dropAnswer
	}
	s.log.Info("paypal simulator: order captured", "order_id", id, "status", status, "captures", count, "answer_lost", f != deliver)
	return a, f, nil
}

// addCaptures captures the order's amount count times; s.mu is held.
func (s *Simulator) addCaptures(o *order, status, reason string, count int) {
	now := s.now()
	amount, _ := decimal.NewFromString(o.unit.Amount.Value)
	for range count {
		c := &capture{id: newID(17), orderID: o.id, status: status, reason: reason, amount: amount,
			currency: o.unit.Amount.CurrencyCode, invoiceID: o.unit.InvoiceID, customID: o.unit.CustomID, created: now, updated: now}
		s.captures[c.id] = c
		s.captured = append(s.captured, c.id)
		o.captureIDs = append(o.captureIDs, c.id)
	}
	o.status, o.updated = statusCompleted, now
}

// orderView renders an order: id, status and links only (PayPal's return=minimal), or all of
// it; s.mu is held.
func (s *Simulator) orderView(o *order, base string, full bool) orderJSON {
	v := orderJSON{ID: o.id, Status: o.status, Links: orderLinks(o, base)}
	if !full {
		return v
	}
	v.Intent = "CAPTURE"
	v.CreateTime, v.UpdateTime = o.created.UTC().Format(timeLayout), o.updated.UTC().Format(timeLayout)
	unit := purchaseUnitJSON{purchaseUnitRequest: o.unit}
	unit.Payee.EmailAddress, unit.Payee.MerchantID = merchantEmail, merchantID
	if len(o.captureIDs) > 0 {
		unit.Payments = &paymentsJSON{}
		for _, cid := range o.captureIDs {
			c := s.captures[cid]
			unit.Payments.Captures = append(unit.Payments.Captures, captureView(c, base))
			for _, rid := range c.refundIDs {
				unit.Payments.Refunds = append(unit.Payments.Refunds, refundView(s.refunds[rid], base))
			}
		}
	}
	v.PurchaseUnits = []purchaseUnitJSON{unit}
	if o.payerID != "" {
		p := &payerJSON{Name: payerName{GivenName: payerGivenName, Surname: payerSurname}, EmailAddress: s.cfg.PayerEmail, PayerID: o.payerID}
		p.Address.CountryCode = "US"
		v.Payer = p
		v.PaymentSource = map[string]any{"paypal": map[string]any{
			"email_address": s.cfg.PayerEmail, "account_id": o.payerID, "account_status": "VERIFIED", "name": p.Name,
		}}
	}
	return v
}

// orderLinks are the HATEOAS links of an order in its status.
func orderLinks(o *order, base string) []link {
	self := base + "/v2/checkout/orders/" + url.PathEscape(o.id)
	links := []link{{Href: self, Rel: "self", Method: "GET"}}
	switch o.status {
	case statusCreated:
		links = append(links, link{Href: approvalURL(o, base), Rel: "approve", Method: "GET"})
	case statusPayerActionRequired:
		links = append(links, link{Href: approvalURL(o, base), Rel: "payer-action", Method: "GET"})
	}
	if slices.Contains([]string{statusCreated, statusPayerActionRequired, statusApproved}, o.status) {
		links = append(links, link{Href: self, Rel: "update", Method: "PATCH"}, link{Href: self + "/capture", Rel: "capture", Method: "POST"})
	}
	return links
}

// approvalURL is the buyer's approval page of an order.
func approvalURL(o *order, base string) string {
	return base + "/checkoutnow?token=" + url.QueryEscape(o.id)
}

// captureView renders a capture.
func captureView(c *capture, base string) captureJSON {
	self := base + "/v2/payments/captures/" + url.PathEscape(c.id)
	v := captureJSON{ID: c.id, Status: c.status, Amount: money{CurrencyCode: c.currency, Value: formatValue(c.amount, c.currency)},
		InvoiceID: c.invoiceID, CustomID: c.customID, FinalCapture: true,
		CreateTime: c.created.UTC().Format(timeLayout), UpdateTime: c.updated.UTC().Format(timeLayout),
		Links: []link{{Href: self, Rel: "self", Method: "GET"}, {Href: self + "/refund", Rel: "refund", Method: "POST"},
			{Href: base + "/v2/checkout/orders/" + url.PathEscape(c.orderID), Rel: "up", Method: "GET"}}}
	v.SellerProtection.Status = "ELIGIBLE"
	if c.reason != "" {
		v.StatusDetails = &statusDetails{Reason: c.reason}
	}
	return v
}

// isHTTPURL reports whether s is an absolute http or https URL.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
