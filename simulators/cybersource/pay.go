package cybersource

import (
	"crypto/hmac"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	payment "github.com/coursecommerce/commerce/payment/cybersource"
)

// requiredFields must be present and signed in every payment form.
var requiredFields = []string{
	"access_key", "profile_id", "transaction_uuid", "signed_field_names", "signed_date_time",
	"locale", "transaction_type", "reference_number", "amount", "currency",
	"override_custom_receipt_page",
}

// transactionTypes are the transaction_type values the simulator handles.
var transactionTypes = []string{"sale", "authorization"}

// notEchoed are request fields never echoed as req_<name> in the reply.
var notEchoed = []string{
	payment.FieldSignature, payment.FieldSignedFieldNames, payment.FieldUnsignedFieldNames,
	"signed_date_time", "card_cvn",
}

// session is an open payment page, waiting for one press of a button.
type session struct {
	profile payment.Profile
	request map[string]string // the signed and listed unsigned request fields
	created time.Time
}

// rejection is a request the simulator refuses, with the HTTP status and a
// message that says what is wrong.
type rejection struct {
	status  int
	message string
}

// reject builds a rejection.
func reject(status int, format string, args ...any) *rejection {
	return &rejection{status: status, message: fmt.Sprintf(format, args...)}
}

// handlePay serves POST /pay: it checks the signed payment form and renders
// the payment page, or answers a reused transaction uuid with ERROR 104.
func (s *Simulator) handlePay(w http.ResponseWriter, r *http.Request) {
	fields, rej := readForm(w, r)
	var profile payment.Profile
	if rej == nil {
		profile, rej = s.checkPayment(fields)
	}
	if rej != nil {
		s.log.Warn("cybersource simulator: payment form rejected", "status", rej.status, "reason", rej.message)
		writeError(w, rej)
		return
	}
	request := echoedFields(fields)
	if s.wasUsed(fields["access_key"], fields["transaction_uuid"]) {
		reply := s.buildReply(profile, request, duplicateOutcome, nil)
		s.deliver(r, w, reply, fields["override_custom_receipt_page"])
		return
	}
	id := s.openSession(profile, request)
	s.log.Info("cybersource simulator: payment page", "reference", fields["reference_number"], "amount", fields["amount"])
	writePayPage(w, payPageData(id, fields))
}

// readForm parses a posted form into a map holding the first value of each
// field.
func readForm(w http.ResponseWriter, r *http.Request) (map[string]string, *rejection) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, reject(http.StatusBadRequest, "cannot parse form: %v", err)
	}
	fields := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		if len(v) > 0 {
			fields[k] = v[0]
		}
	}
	return fields, nil
}

// checkPayment verifies the access key, profile and signature of a payment
// form (403 when wrong), then its required fields and values (400).
func (s *Simulator) checkPayment(fields map[string]string) (payment.Profile, *rejection) {
	profile, ok := s.profile(fields["access_key"], fields["profile_id"])
	if !ok {
		return profile, reject(http.StatusForbidden, "access_key %q and profile_id %q match no profile", fields["access_key"], fields["profile_id"])
	}
	signature := fields[payment.FieldSignature]
	names := payment.SignedNames(fields[payment.FieldSignedFieldNames])
	switch {
	case signature == "":
		return profile, reject(http.StatusForbidden, "the signature field is missing")
	case len(names) == 0:
		return profile, reject(http.StatusForbidden, "the signed_field_names field is missing")
	}
	for _, name := range names {
		if _, ok := fields[name]; !ok {
			return profile, reject(http.StatusForbidden, "signed field %q is not in the form", name)
		}
	}
	if !hmac.Equal([]byte(payment.SignFields(fields, profile.SecretKey)), []byte(signature)) {
		return profile, reject(http.StatusForbidden, "the signature does not match the signed fields (signed with another secret key, or a field was changed)")
	}
	for _, name := range requiredFields {
		if fields[name] == "" {
			return profile, reject(http.StatusBadRequest, "required field %q is missing", name)
		}
		if !slices.Contains(names, name) {
			return profile, reject(http.StatusForbidden, "field %q must be signed", name)
		}
	}
	for _, card := range payment.CardFields {
		if slices.Contains(names, card) {
			return profile, reject(http.StatusBadRequest, "card field %q must not be signed by the merchant", card)
		}
	}
	return profile, checkValues(fields)
}

// checkValues validates the values of the required fields.
func checkValues(fields map[string]string) *rejection {
	if !slices.Contains(transactionTypes, fields["transaction_type"]) {
		return reject(http.StatusBadRequest, "transaction_type %q is not one of %v", fields["transaction_type"], transactionTypes)
	}
	amount, err := decimal.NewFromString(fields["amount"])
	if err != nil || amount.IsNegative() {
		return reject(http.StatusBadRequest, "amount %q is not a non-negative decimal", fields["amount"])
	}
	if c := fields["currency"]; len(c) != 3 {
		return reject(http.StatusBadRequest, "currency %q is not a 3-letter code", c)
	}
	if _, err := time.Parse(payment.SignedDateTimeLayout, fields["signed_date_time"]); err != nil {
		return reject(http.StatusBadRequest, "signed_date_time %q is not like 2006-01-02T15:04:05Z", fields["signed_date_time"])
	}
	for _, name := range []string{"override_custom_receipt_page", "override_custom_cancel_page"} {
		if v, ok := fields[name]; ok && !isHTTPURL(v) {
			return reject(http.StatusBadRequest, "%s %q is not an absolute http(s) URL", name, v)
		}
	}
	return nil
}

// isHTTPURL reports whether s is an absolute http or https URL.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// echoedFields returns the request fields echoed in the reply: the signed
// ones and those listed in unsigned_field_names, minus the signing fields
// and the card security code, with the card number masked.
func echoedFields(fields map[string]string) map[string]string {
	names := payment.SignedNames(fields[payment.FieldSignedFieldNames])
	names = append(names, payment.SignedNames(fields[payment.FieldUnsignedFieldNames])...)
	out := make(map[string]string, len(names))
	for _, name := range names {
		if v, ok := fields[name]; ok && !slices.Contains(notEchoed, name) {
			out[name] = v
		}
	}
	if v, ok := out["card_number"]; ok {
		out["card_number"] = maskCard(v)
	}
	return out
}

// openSession stores a payment page session and returns its one-time id.
func (s *Simulator) openSession(profile payment.Profile, request map[string]string) string {
	id := rand.Text()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, old := range s.sessions {
		if now.Sub(old.created) >= DuplicateWindow {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = session{profile: profile, request: request, created: now}
	return id
}

// takeSession removes and returns a session that has not expired.
func (s *Simulator) takeSession(id string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	delete(s.sessions, id)
	if !ok || s.now().Sub(sess.created) >= DuplicateWindow {
		return session{}, false
	}
	return sess, true
}

// lineItems returns the line items named in a payment form, for display.
func lineItems(fields map[string]string) []lineView {
	n, err := strconv.Atoi(fields["line_item_count"])
	if err != nil || n < 0 {
		return nil
	}
	n = min(n, 200)
	out := make([]lineView, 0, n)
	for i := range n {
		p := "item_" + strconv.Itoa(i) + "_"
		out = append(out, lineView{
			Name: fields[p+"name"], SKU: fields[p+"sku"], Quantity: fields[p+"quantity"],
			UnitPrice: fields[p+"unit_price"], Discount: fields[p+"discount_amount"], Total: fields[p+"total_amount"],
		})
	}
	return out
}
