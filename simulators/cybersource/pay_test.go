package cybersource

import (
	"errors"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	payment "github.com/coursecommerce/commerce/payment/cybersource"
)

func TestPayPageShowsOrder(t *testing.T) {
	h := newHarness(t)
	status, header, body := h.postForm(t, "/pay", form(t, profileA, "uuid-page"))
	if status != http.StatusOK {
		t.Fatalf("status = %d (%s), want 200", status, header.Get(errorHeader))
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q", ct)
	}
	contains(t, body, "EDX-100001", "99.00 USD", "8CF08E5", "Démo &#34;course&#34; &amp; &lt;b&gt;seat&lt;/b&gt;",
		`value="4111 1111 1111 1111"`, `action="pay/confirm"`,
		`name="action" value="pay"`, `name="action" value="decline"`, `name="action" value="cancel"`)
	action, fields, err := ParseAutoSubmitForm(body)
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	if action != "pay/confirm" || fields["session"] == "" || fields["card_number"] != "4111 1111 1111 1111" {
		t.Fatalf("page form = %q %v", action, fields)
	}
	if _, ok := fields["action"]; ok {
		t.Errorf("buttons must not be parsed as fields")
	}
}

func TestPayRejectsBadForms(t *testing.T) {
	good := form(t, profileA, "uuid-bad")
	drop := func(f map[string]string, names ...string) map[string]string {
		f = maps.Clone(f)
		for _, n := range names {
			delete(f, n)
		}
		return f
	}
	set := func(f map[string]string, k, v string) map[string]string {
		f = maps.Clone(f)
		f[k] = v
		return f
	}
	unsign := func(name string) map[string]string {
		f := maps.Clone(good)
		var kept []string
		for _, n := range payment.SignedNames(f["signed_field_names"]) {
			if n != name {
				kept = append(kept, n)
			}
		}
		f["signed_field_names"] = strings.Join(kept, ",")
		return resign(f, profileA)
	}
	tests := []struct {
		name   string
		fields map[string]string
		status int
		reason string
	}{
		{"tampered amount", set(good, "amount", "9.00"), http.StatusForbidden, "signature does not match"},
		{"signed by another secret", resign(good, payment.Profile{SecretKey: "forged"}), http.StatusForbidden, "signature does not match"},
		{"unknown access key", set(good, "access_key", "nope"), http.StatusForbidden, "match no profile"},
		{"access key of another profile", set(good, "access_key", profileB.AccessKey), http.StatusForbidden, "match no profile"},
		{"no signature", drop(good, "signature"), http.StatusForbidden, "signature field is missing"},
		{"no signed_field_names", drop(good, "signed_field_names"), http.StatusForbidden, "signed_field_names"},
		{"signed field absent", drop(good, "item_0_sku"), http.StatusForbidden, `"item_0_sku" is not in the form`},
		{"amount not signed", unsign("amount"), http.StatusForbidden, `"amount" must be signed`},
		{"receipt page not signed", unsign("override_custom_receipt_page"), http.StatusForbidden, "must be signed"},
		{"no reference number", resign(drop(unsign("reference_number"), "reference_number"), profileA), http.StatusBadRequest, `"reference_number" is missing`},
		{"empty transaction uuid", resign(set(good, "transaction_uuid", ""), profileA), http.StatusBadRequest, `"transaction_uuid" is missing`},
		{"card field signed", resign(set(set(good, "card_number", "4111111111111111"), "signed_field_names", good["signed_field_names"]+",card_number"), profileA), http.StatusBadRequest, "card field"},
		{"bad transaction type", resign(set(good, "transaction_type", "refund"), profileA), http.StatusBadRequest, "transaction_type"},
		{"bad amount", resign(set(good, "amount", "-1.00"), profileA), http.StatusBadRequest, "amount"},
		{"bad currency", resign(set(good, "currency", "DOLLARS"), profileA), http.StatusBadRequest, "currency"},
		{"bad signed_date_time", resign(set(good, "signed_date_time", "yesterday"), profileA), http.StatusBadRequest, "signed_date_time"},
		{"script receipt page", resign(set(good, "override_custom_receipt_page", "javascript:alert(1)"), profileA), http.StatusBadRequest, "override_custom_receipt_page"},
		{"relative cancel page", resign(set(good, "override_custom_cancel_page", "/cancel"), profileA), http.StatusBadRequest, "override_custom_cancel_page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			status, header, body := h.postForm(t, "/pay", tt.fields)
			if status != tt.status {
				t.Fatalf("status = %d (%s), want %d", status, header.Get(errorHeader), tt.status)
			}
			if !strings.Contains(header.Get(errorHeader), tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", header.Get(errorHeader), tt.reason)
			}
			contains(t, body, "<h1>")
			if _, _, err := ParseAutoSubmitForm(body); !errors.Is(err, ErrNoForm) {
				t.Errorf("error page holds a form: %v", err)
			}
			h.assertNothingHappened(t)
			// The rejected attempt did not use up the transaction uuid.
			res := h.pay(t, good, ActionPay)
			if res.Reply["decision"] != "ACCEPT" {
				t.Errorf("valid form after rejection: decision %q", res.Reply["decision"])
			}
		})
	}
}

func TestPayDriverReportsRejection(t *testing.T) {
	h := newHarness(t)
	f := form(t, profileA, "uuid-forged")
	f["amount"] = "1.00"
	res, err := h.sim.Pay(t.Context(), f, ActionPay)
	if !errors.Is(err, ErrRejected) || res.StatusCode != http.StatusForbidden || res.Reply != nil {
		t.Fatalf("Pay(forged) = %+v, %v; want 403 and ErrRejected", res, err)
	}
	h.assertNothingHappened(t)
}

func TestReusedTransactionUUID(t *testing.T) {
	h := newHarness(t)
	f := form(t, profileA, "uuid-reused")
	first := h.pay(t, f, ActionPay)
	if h.parse(t, first.Reply).Outcome != payment.OutcomeAccepted {
		t.Fatalf("first payment not accepted: %v", first.Reply)
	}

	// Over HTTP, the second POST /pay answers with the ERROR reply at once.
	status, _, body := h.postForm(t, "/pay", f)
	if status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	action, reply, err := ParseAutoSubmitForm(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if action != receiptURL {
		t.Errorf("action = %q, want receipt page", action)
	}
	r := h.parse(t, reply)
	if r.Decision != payment.Error || r.ReasonCode != "104" || !r.Duplicate || r.Outcome != payment.OutcomeDuplicate {
		t.Errorf("reply = %+v, want ERROR 104 duplicate", r)
	}
	if _, ok := reply["transaction_id"]; ok {
		t.Errorf("ERROR reply carries a transaction id")
	}
	if reply["req_transaction_uuid"] != "uuid-reused" || reply["req_reference_number"] != "EDX-100001" {
		t.Errorf("request not echoed: %v", reply)
	}

	// The Go driver sees the same.
	again := h.pay(t, f, ActionPay)
	if again.Reply["decision"] != "ERROR" || again.Reply["reason_code"] != "104" || again.ReplyURL != receiptURL {
		t.Errorf("driver reuse = %+v", again)
	}
	if n := len(h.merchant.notifications()); n != 3 {
		t.Errorf("%d notifications, want 3 (accept and two duplicates)", n)
	}

	// Another access key may use the same uuid.
	if other := h.pay(t, form(t, profileB, "uuid-reused"), ActionPay); other.Reply["decision"] != "ACCEPT" {
		t.Errorf("other access key: decision %q", other.Reply["decision"])
	}
	// After 15 minutes the uuid is free again.
	h.clock.advance(DuplicateWindow)
	if later := h.pay(t, f, ActionPay); later.Reply["decision"] != "ACCEPT" {
		t.Errorf("after the window: decision %q", later.Reply["decision"])
	}
}

func TestSessionExpires(t *testing.T) {
	h := newHarness(t)
	_, _, body := h.postForm(t, "/pay", form(t, profileA, "uuid-expire"))
	_, page, err := ParseAutoSubmitForm(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	h.clock.advance(DuplicateWindow + time.Second)
	page["action"] = ActionPay
	if status, _, _ := h.postForm(t, "/pay/confirm", page); status != http.StatusNotFound {
		t.Fatalf("expired session: status %d, want 404", status)
	}
	if n := len(h.sim.Replies()); n != 0 {
		t.Fatalf("%d replies after an expired session", n)
	}
}

func TestPaymentPageCanBeReloadedUntilConfirmed(t *testing.T) {
	h := newHarness(t)
	f := form(t, profileA, "uuid-reload")
	var sessions []string
	for i := 0; i < 2; i++ {
		status, _, body := h.postForm(t, "/pay", f)
		if status != http.StatusOK {
			t.Fatalf("load %d: status %d", i, status)
		}
		m := regexp.MustCompile(`name="session" value="([^"]+)"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("load %d: no payment page: %s", i, body)
		}
		sessions = append(sessions, string(m[1]))
	}
	decisions := []string{}
	for _, id := range sessions {
		_, _, body := h.postForm(t, "/pay/confirm", map[string]string{"session": id, "action": ActionPay})
		_, reply, err := ParseAutoSubmitForm(body)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		decisions = append(decisions, reply["decision"]+"/"+reply["reason_code"])
	}
	if decisions[0] != "ACCEPT/100" || decisions[1] != "ERROR/104" {
		t.Errorf("decisions = %v, want the first paid and the second a duplicate", decisions)
	}
}
