package cybersource

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	payment "github.com/coursecommerce/commerce/payment/cybersource"
)

var transactionIDPattern = regexp.MustCompile(`^[0-9]{22}$`)

// openPage posts a form to /pay over HTTP and returns the page's fields.
func (h *harness) openPage(t *testing.T, f map[string]string) map[string]string {
	t.Helper()
	status, header, body := h.postForm(t, "/pay", f)
	if status != http.StatusOK {
		t.Fatalf("POST /pay: %d (%s)", status, header.Get(errorHeader))
	}
	_, page, err := ParseAutoSubmitForm(body)
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	return page
}

func TestPayOverHTTP(t *testing.T) {
	h := newHarness(t)
	f := form(t, profileA, "uuid-http")
	page := h.openPage(t, f)
	page["action"] = ActionPay
	status, header, body := h.postForm(t, "/pay/confirm", page)
	if status != http.StatusOK {
		t.Fatalf("POST /pay/confirm: %d (%s)", status, header.Get(errorHeader))
	}
	contains(t, body, `<form id="reply-form" method="post" action="`+receiptURL+`">`,
		`document.getElementById(`, `.submit()`, `<button type="submit">`)
	action, reply, err := ParseAutoSubmitForm(body)
	if err != nil {
		t.Fatalf("parse reply page: %v", err)
	}
	if action != receiptURL {
		t.Errorf("action = %q, want %q", action, receiptURL)
	}

	r := h.parse(t, reply)
	if r.Outcome != payment.OutcomeAccepted || r.Decision != payment.Accept || r.ReasonCode != "100" {
		t.Errorf("reply = %+v, want accepted 100", r)
	}
	if r.OrderNumber != "EDX-100001" || r.Amount.StringFixed(2) != "99.00" || r.Currency != "USD" ||
		r.AuthAmount == nil || r.AuthAmount.StringFixed(2) != "99.00" || r.PartialAuthorization {
		t.Errorf("amounts/reference = %+v", r)
	}
	if r.CardNumber != "xxxxxxxxxxxx1111" || r.CardType != "visa" || r.ProfileID != profileA.ProfileID {
		t.Errorf("card/profile = %q %q %q", r.CardNumber, r.CardType, r.ProfileID)
	}
	if !transactionIDPattern.MatchString(r.TransactionID) {
		t.Errorf("transaction_id = %q, want 22 digits", r.TransactionID)
	}
	for _, name := range []string{"auth_code", "auth_time", "message", "signed_date_time"} {
		if reply[name] == "" {
			t.Errorf("reply lacks %s", name)
		}
	}
	// Every signed request field is echoed as req_<name>; signing fields
	// and the security code are not.
	for k, v := range f {
		echoed, ok := reply["req_"+k]
		switch k {
		case "signature", "signed_field_names", "unsigned_field_names", "signed_date_time":
			if ok {
				t.Errorf("req_%s echoed", k)
			}
		default:
			if echoed != v {
				t.Errorf("req_%s = %q, want %q", k, echoed, v)
			}
		}
	}
	if _, ok := reply["req_card_cvn"]; ok {
		t.Errorf("security code echoed")
	}
	// signed_field_names lists every field but the signature.
	names := payment.SignedNames(reply["signed_field_names"])
	if len(names) != len(reply)-1 || slices.Contains(names, "signature") || !slices.Contains(names, "signed_field_names") {
		t.Errorf("signed_field_names %v does not cover the %d fields", names, len(reply))
	}

	// The merchant POST URL got exactly the same fields, once.
	got := h.merchant.notifications()
	if len(got) != 1 || !maps.Equal(got[0], reply) {
		t.Fatalf("notifications = %v, want one equal to the reply", got)
	}
	if replies := h.sim.Replies(); len(replies) != 1 || !maps.Equal(replies[0], reply) {
		t.Errorf("Replies() = %v", replies)
	}
	if s := h.sim.NotifyStats(); s != (NotifyStats{Attempts: 1, Delivered: 1}) {
		t.Errorf("stats = %+v", s)
	}

	// The session is one-time.
	if status, _, _ := h.postForm(t, "/pay/confirm", page); status != http.StatusNotFound {
		t.Errorf("second confirm: status %d, want 404", status)
	}
}

func TestDecline(t *testing.T) {
	h := newHarness(t)
	res := h.pay(t, form(t, profileA, "uuid-decline"), ActionDecline)
	if res.ReplyURL != receiptURL || res.StatusCode != http.StatusOK {
		t.Errorf("ReplyURL/status = %q/%d", res.ReplyURL, res.StatusCode)
	}
	r := h.parse(t, res.Reply)
	if r.Decision != payment.Decline || r.ReasonCode != "481" || r.Outcome != payment.OutcomeDeclined {
		t.Errorf("reply = %+v, want DECLINE 481", r)
	}
	if r.AuthAmount != nil || !transactionIDPattern.MatchString(r.TransactionID) {
		t.Errorf("decline: auth amount %v, transaction id %q", r.AuthAmount, r.TransactionID)
	}
	if got := h.merchant.notifications(); len(got) != 1 || !maps.Equal(got[0], res.Reply) {
		t.Errorf("notifications = %v", got)
	}
}

func TestCancel(t *testing.T) {
	h := newHarness(t)
	res := h.pay(t, form(t, profileA, "uuid-cancel"), ActionCancel)
	if res.ReplyURL != cancelURL {
		t.Errorf("ReplyURL = %q, want cancel page %q", res.ReplyURL, cancelURL)
	}
	r := h.parse(t, res.Reply)
	if r.Decision != payment.Cancel || r.Outcome != payment.OutcomeCancelled {
		t.Errorf("reply = %+v, want CANCEL", r)
	}
	for _, absent := range []string{"transaction_id", "auth_amount", "req_card_number"} {
		if _, ok := res.Reply[absent]; ok {
			t.Errorf("cancel reply has %s", absent)
		}
	}
	if got := h.merchant.notifications(); len(got) != 1 || got[0]["decision"] != "CANCEL" {
		t.Errorf("notifications = %v", got)
	}
}

func TestCancelWithoutCancelPageGoesToReceipt(t *testing.T) {
	h := newHarness(t)
	f := form(t, profileA, "uuid-nocancel")
	delete(f, "override_custom_cancel_page")
	f["signed_field_names"] = strings.Replace(f["signed_field_names"], "override_custom_cancel_page,", "", 1)
	res := h.pay(t, resign(f, profileA), ActionCancel)
	if res.ReplyURL != receiptURL || res.Reply["decision"] != "CANCEL" {
		t.Fatalf("result = %q %q, want CANCEL to the receipt page", res.ReplyURL, res.Reply["decision"])
	}
}

func TestReplySignedWithRequestProfile(t *testing.T) {
	h := newHarness(t)
	res := h.pay(t, form(t, profileB, "uuid-b"), ActionPay)
	if r := h.parse(t, res.Reply); r.ProfileID != profileB.ProfileID {
		t.Errorf("profile = %q", r.ProfileID)
	}
	onlyA := payment.Config{Profile: profileA}
	if err := onlyA.VerifyReply(res.Reply); !errors.Is(err, payment.ErrUnknownProfile) {
		t.Errorf("merchant without profile B: %v, want ErrUnknownProfile", err)
	}
	if err := (payment.Config{Profile: payment.Profile{ProfileID: profileB.ProfileID, AccessKey: profileB.AccessKey, SecretKey: "other"}}).VerifyReply(res.Reply); !errors.Is(err, payment.ErrInvalidSignature) {
		t.Errorf("wrong secret for B: %v, want ErrInvalidSignature", err)
	}
}

func TestConfirmCardForm(t *testing.T) {
	tests := []struct {
		number, wantType, wantMasked string
	}{
		{"5555 5555 5555 4444", "002", "xxxxxxxxxxxx4444"},
		{"3782-822463-10005", "003", "xxxxxxxxxxx0005"},
		{"6011111111111117", "004", "xxxxxxxxxxxx1117"},
	}
	for _, tt := range tests {
		t.Run(tt.wantType, func(t *testing.T) {
			h := newHarness(t)
			page := h.openPage(t, form(t, profileA, "uuid-card"))
			page["action"], page["card_number"], page["card_expiry_date"] = ActionPay, tt.number, "01-2031"
			status, header, body := h.postForm(t, "/pay/confirm", page)
			if status != http.StatusOK {
				t.Fatalf("status %d (%s)", status, header.Get(errorHeader))
			}
			_, reply, err := ParseAutoSubmitForm(body)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if reply["req_card_type"] != tt.wantType || reply["req_card_number"] != tt.wantMasked || reply["req_card_expiry_date"] != "01-2031" {
				t.Errorf("card = %q %q %q", reply["req_card_type"], reply["req_card_number"], reply["req_card_expiry_date"])
			}
			if strings.Contains(string(body), strings.ReplaceAll(strings.ReplaceAll(tt.number, " ", ""), "-", "")) {
				t.Errorf("full card number leaked into the reply page")
			}
		})
	}
}

func TestConfirmRejects(t *testing.T) {
	tests := []struct {
		name   string
		change map[string]string
		status int
	}{
		{"unknown action", map[string]string{"action": "steal"}, http.StatusBadRequest},
		{"no action", map[string]string{"action": ""}, http.StatusBadRequest},
		{"letters in card number", map[string]string{"card_number": "4111 abcd 1111 1111"}, http.StatusBadRequest},
		{"short card number", map[string]string{"card_number": "4111"}, http.StatusBadRequest},
		{"unsupported brand", map[string]string{"card_number": "9111111111111111"}, http.StatusBadRequest},
		{"unknown session", map[string]string{"session": "nope"}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			page := h.openPage(t, form(t, profileA, "uuid-confirm"))
			bad := maps.Clone(page)
			bad["action"] = ActionPay
			maps.Copy(bad, tt.change)
			if status, _, _ := h.postForm(t, "/pay/confirm", bad); status != tt.status {
				t.Fatalf("status = %d, want %d", status, tt.status)
			}
			if n := len(h.sim.Replies()) + len(h.merchant.notifications()); n != 0 {
				t.Fatalf("a rejected confirmation produced %d replies/notifications", n)
			}
			// The session survives a rejected confirmation.
			page["action"] = ActionPay
			if status, _, _ := h.postForm(t, "/pay/confirm", page); status != http.StatusOK {
				t.Fatalf("valid confirm after rejection: %d", status)
			}
		})
	}
}

func TestTransactionIDsUnique(t *testing.T) {
	h := newHarness(t)
	seen := map[string]bool{}
	for i := range 50 {
		res := h.pay(t, form(t, profileA, fmt.Sprintf("uuid-many-%d", i)), ActionPay)
		id := res.Reply["transaction_id"]
		if !transactionIDPattern.MatchString(id) || seen[id] {
			t.Fatalf("transaction_id %q is not 22 digits or repeats", id)
		}
		seen[id] = true
	}
}

func TestNotifyFailureDoesNotStopPayment(t *testing.T) {
	h := newHarness(t)
	h.merchant.status.Store(http.StatusInternalServerError)
	res := h.pay(t, form(t, profileA, "uuid-500"), ActionPay)
	if res.Reply["decision"] != "ACCEPT" {
		t.Fatalf("decision = %q", res.Reply["decision"])
	}
	if s := h.sim.NotifyStats(); s != (NotifyStats{Attempts: 1, Failed: 1}) {
		t.Errorf("stats after 500 = %+v", s)
	}

	h.merchant.srv.Close()
	h.pay(t, form(t, profileA, "uuid-down"), ActionPay)
	if s := h.sim.NotifyStats(); s != (NotifyStats{Attempts: 2, Failed: 2}) {
		t.Errorf("stats after connection refused = %+v", s)
	}
}

func TestNoNotifyURL(t *testing.T) {
	m := newMerchant(t)
	sim := New(Config{Profiles: []payment.Profile{profileA}})
	res, err := sim.Pay(t.Context(), form(t, profileA, "uuid-silent"), ActionPay)
	if err != nil || res.Reply["decision"] != "ACCEPT" {
		t.Fatalf("Pay = %v, %v", res.Reply["decision"], err)
	}
	if s := sim.NotifyStats(); s != (NotifyStats{}) || len(m.notifications()) != 0 {
		t.Errorf("notified without a NotifyURL: %+v", s)
	}
}

func TestUnsignedCardFieldsSOPStyle(t *testing.T) {
	h := newHarness(t)
	f := form(t, profileA, "uuid-sop")
	f["unsigned_field_names"] = "card_cvn,card_expiry_date,card_number,card_type"
	f = resign(f, profileA)
	f["card_number"], f["card_cvn"], f["card_type"], f["card_expiry_date"] = "5555555555554444", "999", "002", "01-2031"
	page := h.openPage(t, f)
	if page["card_number"] != "5555 5555 5555 4444" {
		t.Errorf("page card number = %q, want the posted card", page["card_number"])
	}
	page["action"] = ActionPay
	_, _, body := h.postForm(t, "/pay/confirm", page)
	_, reply, err := ParseAutoSubmitForm(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	h.parse(t, reply)
	if _, ok := reply["req_card_cvn"]; ok {
		t.Errorf("security code echoed")
	}
	if reply["req_card_number"] != "xxxxxxxxxxxx4444" || reply["req_card_type"] != "002" {
		t.Errorf("card = %q %q", reply["req_card_number"], reply["req_card_type"])
	}
}

func TestUnsignedCardNumberMaskedOnCancel(t *testing.T) {
	h := newHarness(t)
	f := form(t, profileA, "uuid-sop-cancel")
	f["unsigned_field_names"] = "card_number"
	f = resign(f, profileA)
	f["card_number"] = "4111 1111 1111 1111"
	res := h.pay(t, f, ActionCancel)
	if got := res.Reply["req_card_number"]; got != "xxxxxxxxxxxx1111" {
		t.Fatalf("req_card_number = %q, want it masked", got)
	}
	h.parse(t, res.Reply)
}
