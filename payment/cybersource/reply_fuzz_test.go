package cybersource

import (
	"errors"
	"maps"
	"net/url"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
)

// The fuzz targets below check the reply parser against the rules of DESIGN §6, stated here
// again rather than read from the package's own tables: a reply is trusted only for what its
// signature covers, and a payment request can never pass as a reply. Their seeds are in
// testdata/fuzz/<name>/: the test vector, a reply of each decision, a partial authorisation,
// requests posted back, unsigned and re-split fields.

// fuzzReadFields are the fields whose values reach the checkout: an accepted reply signs each
// of them that it carries.
var fuzzReadFields = []string{
	"decision", "reason_code", "transaction_id", "req_reference_number", "req_amount", "req_currency",
	"req_profile_id", "req_access_key", "auth_amount", "message", "req_card_number", "req_card_type",
}

// fuzzRequestFields are signed by the payment requests we send; a message signing one of them
// is a request and never a reply.
var fuzzRequestFields = []string{"access_key", "profile_id", "reference_number", "amount", "currency", "transaction_uuid", "transaction_type"}

// formFields reads a urlencoded form as a callback does: the first value of each field.
func formFields(form string) map[string]string {
	values, _ := url.ParseQuery(form)
	fields := make(map[string]string, len(values))
	for k, v := range values {
		fields[k] = v[0]
	}
	return fields
}

// FuzzParseReply feeds arbitrary forms, signed with the profile's secret when resign is set (so
// that the fuzzer gets past the signature), to VerifyReply, ParseReply and Notification: none of
// them panics, they agree, and a reply they accept passes checkAcceptedReply.
func FuzzParseReply(f *testing.F) {
	cfg := testConfig()
	f.Fuzz(func(t *testing.T, form string, resign bool) {
		fields := formFields(form)
		if resign {
			fields[FieldSignature] = SignFields(fields, vectorSecret)
		}
		verifyErr := cfg.VerifyReply(fields)
		r, err := cfg.ParseReply(fields)
		if verifyErr != nil && (err == nil || errors.Is(err, ErrInvalidSignature) != errors.Is(verifyErr, ErrInvalidSignature)) {
			t.Fatalf("VerifyReply refused (%v) but ParseReply answered %v", verifyErr, err)
		}
		if err != nil && IsForgery(err) != (verifyErr != nil) {
			t.Fatalf("ParseReply error %v is a forgery: %v, VerifyReply: %v", err, IsForgery(err), verifyErr)
		}
		n, notifyErr := Processor{Config: cfg}.Notification(fields)
		if (notifyErr == nil) != (err == nil) {
			t.Fatalf("Notification error %v, ParseReply error %v", notifyErr, err)
		}
		if err != nil {
			if r != (Reply{}) {
				t.Fatalf("ParseReply returned %+v with error %v", r, err)
			}
			return
		}
		checkAcceptedReply(t, cfg, fields, r)
		if n.OrderNumber != r.OrderNumber || string(n.Outcome) != string(r.Outcome) || !n.Amount.Equal(r.Amount) ||
			n.TransactionID != r.TransactionID || n.Currency != r.Currency {
			t.Fatalf("notification %+v differs from reply %+v", n, r)
		}
	})
}

// FuzzReplyMutation changes one field (name=value) of an authentic reply (base, signed with the
// profile's secret). Without re-signing, the change may be accepted only when the signature does
// not cover it, and then the reply reads the same; re-signed, an accepted reply still passes
// checkAcceptedReply, and a change to a field the outcome does not depend on keeps the outcome.
func FuzzReplyMutation(f *testing.F) {
	cfg := testConfig()
	f.Fuzz(func(t *testing.T, base, name, value string, resign bool) {
		fields := formFields(base)
		fields[FieldSignature] = SignFields(fields, vectorSecret)
		original, err := cfg.ParseReply(fields)
		if err != nil {
			return // not an authentic reply to start from
		}
		mutated := maps.Clone(fields)
		mutated[name] = value
		if resign {
			mutated[FieldSignature] = SignFields(mutated, vectorSecret)
		}
		if maps.Equal(mutated, fields) {
			return
		}
		r, err := cfg.ParseReply(mutated)
		if err != nil {
			return
		}
		if !resign {
			if !sameReply(r, original) {
				t.Fatalf("%s=%q changed without the secret, yet accepted and read differently:\n%+v\nwas\n%+v", name, value, r, original)
			}
			return
		}
		checkAcceptedReply(t, cfg, mutated, r)
		outcomeInputs := []string{"decision", "reason_code", "req_amount", "auth_amount", FieldSignedFieldNames}
		if !slices.Contains(outcomeInputs, name) && r.Outcome != original.Outcome {
			t.Fatalf("re-signed %s=%q changed the outcome from %s to %s", name, value, original.Outcome, r.Outcome)
		}
	})
}

// checkAcceptedReply checks what must hold of every reply ParseReply accepted: the profile's
// secret signed it, it signs every field the service reads and no field of a request, each
// decision signs what it is about, the reply reads the signed values only, and its outcome
// follows from them.
func checkAcceptedReply(t *testing.T, cfg Config, fields map[string]string, r Reply) {
	t.Helper()
	if want := Sign(SignedMessage(fields), cfg.Profile.SecretKey); fields[FieldSignature] != want {
		t.Fatalf("accepted a reply whose signature %q is not the profile's %q", fields[FieldSignature], want)
	}
	names := SignedNames(fields[FieldSignedFieldNames])
	for _, name := range fuzzReadFields {
		if _, present := fields[name]; present && !slices.Contains(names, name) {
			t.Fatalf("accepted a reply carrying %q unsigned (signed: %v)", name, names)
		}
	}
	for _, name := range fuzzRequestFields {
		if slices.Contains(names, name) {
			t.Fatalf("accepted a message signing the request field %q", name)
		}
	}
	required := []string{"decision", "req_reference_number", "req_profile_id"}
	if d := Decision(fields["decision"]); d == Accept || d == Decline || d == Review {
		required = append(required, "reason_code", "transaction_id", "req_amount", "req_currency")
	}
	for _, name := range required {
		if fields[name] == "" {
			t.Fatalf("accepted a %s reply without %q", fields["decision"], name)
		}
	}

	signedOnly := map[string]string{FieldSignature: fields[FieldSignature], FieldSignedFieldNames: fields[FieldSignedFieldNames]}
	for _, name := range names {
		signedOnly[name] = fields[name]
	}
	if again, err := cfg.ParseReply(signedOnly); err != nil || !sameReply(again, r) {
		t.Fatalf("the reply reads unsigned fields: without them %+v (%v), with them %+v", again, err, r)
	}

	if string(r.Decision) != fields["decision"] || r.OrderNumber != fields["req_reference_number"] ||
		r.TransactionID != fields["transaction_id"] || r.Currency != fields["req_currency"] ||
		r.ProfileID != fields["req_profile_id"] || r.ReasonCode != fields["reason_code"] {
		t.Fatalf("reply %+v does not carry the signed fields %v", r, fields)
	}
	amount := fuzzAmount(t, fields["req_amount"])
	if !r.Amount.Equal(amount) {
		t.Fatalf("Amount %s, req_amount %q", r.Amount, fields["req_amount"])
	}
	partial := false
	if a := fields["auth_amount"]; a != "" {
		auth := fuzzAmount(t, a)
		if r.AuthAmount == nil || !r.AuthAmount.Equal(auth) {
			t.Fatalf("AuthAmount %v, auth_amount %q", r.AuthAmount, a)
		}
		partial = fields["req_amount"] != "" && !auth.Equal(amount)
	} else if r.AuthAmount != nil {
		t.Fatalf("AuthAmount %s without auth_amount", r.AuthAmount)
	}
	if r.PartialAuthorization != partial {
		t.Fatalf("PartialAuthorization %v, want %v (req_amount %q, auth_amount %q)", r.PartialAuthorization, partial, fields["req_amount"], fields["auth_amount"])
	}
	if want := fuzzOutcome(r.Decision, fields["reason_code"], partial); r.Outcome != want {
		t.Fatalf("outcome %s, want %s for %+v", r.Outcome, want, fields)
	}
	if r.Duplicate != (r.Outcome == OutcomeDuplicate) {
		t.Fatalf("Duplicate %v with outcome %s", r.Duplicate, r.Outcome)
	}
}

// fuzzAmount parses an amount field of an accepted reply; empty is zero.
func fuzzAmount(t *testing.T, v string) decimal.Decimal {
	t.Helper()
	if v == "" {
		return decimal.Zero
	}
	d, err := decimal.NewFromString(v)
	if err != nil {
		t.Fatalf("accepted a reply with the amount %q: %v", v, err)
	}
	return d
}

// fuzzOutcome is the outcome a decision means (reference/payments.md §1): a full ACCEPT is paid,
// a partial one declined; ERROR 104 is a duplicate request.
func fuzzOutcome(d Decision, reasonCode string, partial bool) Outcome {
	switch {
	case d == Accept && !partial:
		return OutcomeAccepted
	case d == Accept, d == Decline:
		return OutcomeDeclined
	case d == Review:
		return OutcomeReview
	case d == Error && reasonCode == "104":
		return OutcomeDuplicate
	case d == Error:
		return OutcomeError
	case d == Cancel:
		return OutcomeCancelled
	}
	return ""
}

// sameReply reports whether two replies say the same, amounts compared by value.
func sameReply(a, b Reply) bool {
	sameAuth := (a.AuthAmount == nil) == (b.AuthAmount == nil) && (a.AuthAmount == nil || a.AuthAmount.Equal(*b.AuthAmount))
	a.AuthAmount, b.AuthAmount = nil, nil
	sameAmount := a.Amount.Equal(b.Amount)
	a.Amount, b.Amount = decimal.Zero, decimal.Zero
	return sameAuth && sameAmount && a == b
}
