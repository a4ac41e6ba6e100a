package cybersource

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// signed returns a copy of fields signed with secret, listing every field
// (and signed_field_names itself) as signed, as CyberSource does.
func signed(fields map[string]string, secret string) map[string]string {
	out := maps.Clone(fields)
	delete(out, "signature")
	out["signed_field_names"] = ""
	out["signed_field_names"] = strings.Join(slices.Sorted(maps.Keys(out)), ",")
	out["signature"] = SignFields(out, secret)
	return out
}

// acceptReply is an unsigned ACCEPT reply for profile testConfig().Profile.
func acceptReply() map[string]string {
	f := vectorReply()
	delete(f, "signed_field_names")
	f["req_access_key"] = "access-key-1"
	f["message"] = "Request was processed successfully."
	return f
}

func with(base map[string]string, change map[string]string, drop ...string) map[string]string {
	out := maps.Clone(base)
	maps.Copy(out, change)
	for _, k := range drop {
		delete(out, k)
	}
	return out
}

func TestParseReplyVector(t *testing.T) {
	fields := vectorReply()
	fields["signature"] = "8G+Av21bRZheouv2sm3JQHMAG50XL9yizUgK+nt/m2E="
	r, err := testConfig().ParseReply(fields)
	if err != nil {
		t.Fatalf("ParseReply: %v", err)
	}
	if r.Outcome != OutcomeAccepted || r.OrderNumber != "EDX-100001" || r.TransactionID != "6015729214586539504002" {
		t.Fatalf("unexpected reply %+v", r)
	}
}

func TestParseReplyDecisions(t *testing.T) {
	tests := []struct {
		name      string
		change    map[string]string
		drop      []string
		outcome   Outcome
		decision  Decision
		partial   bool
		duplicate bool
	}{
		{"accept", nil, nil, OutcomeAccepted, Accept, false, false},
		{"accept auth amount written differently", map[string]string{"auth_amount": "99"}, nil, OutcomeAccepted, Accept, false, false},
		{"accept without auth amount", nil, []string{"auth_amount"}, OutcomeAccepted, Accept, false, false},
		{"partial authorisation", map[string]string{"reason_code": "110", "auth_amount": "49.50"}, nil, OutcomeDeclined, Accept, true, false},
		{"decline", map[string]string{"decision": "DECLINE", "reason_code": "481"}, []string{"auth_amount"}, OutcomeDeclined, Decline, false, false},
		{"review", map[string]string{"decision": "REVIEW", "reason_code": "200"}, nil, OutcomeReview, Review, false, false},
		{"error", map[string]string{"decision": "ERROR", "reason_code": "150"}, []string{"transaction_id", "auth_amount"}, OutcomeError, Error, false, false},
		{"duplicate", map[string]string{"decision": "ERROR", "reason_code": "104"}, []string{"transaction_id", "auth_amount"}, OutcomeDuplicate, Error, false, true},
		{"duplicate without amount", map[string]string{"decision": "ERROR", "reason_code": "104"}, []string{"transaction_id", "auth_amount", "req_amount"}, OutcomeDuplicate, Error, false, true},
		{"cancel", map[string]string{"decision": "CANCEL"}, []string{"transaction_id", "auth_amount", "reason_code"}, OutcomeCancelled, Cancel, false, false},
	}
	cfg := testConfig()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := signed(with(acceptReply(), tt.change, tt.drop...), vectorSecret)
			r, err := cfg.ParseReply(fields)
			if err != nil {
				t.Fatalf("ParseReply: %v", err)
			}
			if r.Outcome != tt.outcome || r.Decision != tt.decision {
				t.Errorf("outcome/decision = %s/%s, want %s/%s", r.Outcome, r.Decision, tt.outcome, tt.decision)
			}
			if r.PartialAuthorization != tt.partial || r.Duplicate != tt.duplicate {
				t.Errorf("partial/duplicate = %v/%v, want %v/%v", r.PartialAuthorization, r.Duplicate, tt.partial, tt.duplicate)
			}
			if r.ReasonCode != fields["reason_code"] || r.TransactionID != fields["transaction_id"] {
				t.Errorf("reason/transaction = %q/%q", r.ReasonCode, r.TransactionID)
			}
		})
	}
}

func TestParseReplyFields(t *testing.T) {
	fields := signed(with(acceptReply(), map[string]string{"reason_code": "110", "auth_amount": "49.50"}), vectorSecret)
	r, err := testConfig().ParseReply(fields)
	if err != nil {
		t.Fatalf("ParseReply: %v", err)
	}
	if r.OrderNumber != "EDX-100001" || r.Currency != "USD" || r.CardNumber != "xxxxxxxxxxxx1111" ||
		r.CardType != "visa" || r.ProfileID != "00000000-0000-0000-0000-000000000001" ||
		r.Message != "Request was processed successfully." || r.ReasonCode != "110" {
		t.Errorf("unexpected reply %+v", r)
	}
	if r.Amount.StringFixed(2) != "99.00" {
		t.Errorf("Amount = %s, want 99.00", r.Amount)
	}
	if r.AuthAmount == nil || r.AuthAmount.StringFixed(2) != "49.50" {
		t.Errorf("AuthAmount = %v, want 49.50", r.AuthAmount)
	}
}

func TestParseReplyCardTypes(t *testing.T) {
	for code, want := range map[string]string{
		"001": "visa", "002": "mastercard", "003": "american_express", "004": "discover", "005": UnknownCardType, "": UnknownCardType,
	} {
		fields := signed(with(acceptReply(), map[string]string{"req_card_type": code}), vectorSecret)
		r, err := testConfig().ParseReply(fields)
		if err != nil {
			t.Fatalf("ParseReply(%q): %v", code, err)
		}
		if r.CardType != want {
			t.Errorf("card type %q = %q, want %q", code, r.CardType, want)
		}
	}
}

func TestParseReplyRejects(t *testing.T) {
	tests := []struct {
		name   string
		change map[string]string
		drop   []string
		want   error
	}{
		{"unknown decision", map[string]string{"decision": "MAYBE"}, nil, ErrUnknownDecision},
		{"lower-case decision", map[string]string{"decision": "accept"}, nil, ErrUnknownDecision},
		{"no decision", nil, []string{"decision"}, ErrInvalidSignature},
		{"malformed req_amount", map[string]string{"req_amount": "ninety"}, nil, ErrMalformedReply},
		{"malformed auth_amount", map[string]string{"auth_amount": "1,00"}, nil, ErrMalformedReply},
		{"accept without transaction id", nil, []string{"transaction_id"}, ErrInvalidSignature},
		{"accept without amount", nil, []string{"req_amount", "auth_amount"}, ErrInvalidSignature},
		{"accept without currency", nil, []string{"req_currency"}, ErrInvalidSignature},
		{"accept without reference", nil, []string{"req_reference_number"}, ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := signed(with(acceptReply(), tt.change, tt.drop...), vectorSecret)
			r, err := testConfig().ParseReply(fields)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if r != (Reply{}) {
				t.Fatalf("non-zero reply with error: %+v", r)
			}
		})
	}
}

func TestVerifyReply(t *testing.T) {
	good := signed(acceptReply(), vectorSecret)
	otherSecret := "another-secret"
	extra := Profile{ProfileID: "00000000-0000-0000-0000-000000000002", AccessKey: "access-key-2", SecretKey: otherSecret}
	rotated := Profile{ProfileID: testConfig().Profile.ProfileID, AccessKey: "access-key-new", SecretKey: "rotated-secret"}
	withExtra := testConfig()
	withExtra.Extra = []Profile{extra, rotated}

	edxStyle := with(acceptReply(), nil, "req_access_key")
	edxStyle["signed_field_names"] = "decision,reason_code,req_reference_number,transaction_id,auth_amount,req_amount,req_currency,req_profile_id,req_card_number,req_card_type,message"
	edxStyle["signature"] = SignFields(edxStyle, vectorSecret)

	tests := []struct {
		name   string
		cfg    Config
		fields map[string]string
		want   error
	}{
		{"valid", testConfig(), good, nil},
		{"signed_field_names without itself", testConfig(), edxStyle, nil},
		{"unsigned field the service does not read", testConfig(), with(edxStyle, map[string]string{"req_bill_to_forename": "Eve"}), nil},
		{"unsigned field the service reads", testConfig(), with(edxStyle, map[string]string{"req_transaction_uuid": "0123"}), ErrInvalidSignature},
		{"tampered amount", testConfig(), with(good, map[string]string{"req_amount": "9.00"}), ErrInvalidSignature},
		{"tampered decision", testConfig(), with(good, map[string]string{"decision": "ACCEPT", "reason_code": "101"}), ErrInvalidSignature},
		{"tampered signed_field_names", testConfig(), with(good, map[string]string{"signed_field_names": "decision,req_profile_id"}), ErrInvalidSignature},
		{"wrong secret", testConfig(), signed(acceptReply(), "wrong"), ErrInvalidSignature},
		{"missing signature", testConfig(), with(good, nil, "signature"), ErrInvalidSignature},
		{"empty signature", testConfig(), with(good, map[string]string{"signature": ""}), ErrInvalidSignature},
		{"missing signed_field_names", testConfig(), with(good, nil, "signed_field_names"), ErrInvalidSignature},
		{"missing signed field", testConfig(), with(good, nil, "auth_amount"), ErrInvalidSignature},
		{"missing req_profile_id", testConfig(), signed(with(acceptReply(), nil, "req_profile_id"), vectorSecret), ErrInvalidSignature},
		{"unknown profile", testConfig(), signed(with(acceptReply(), map[string]string{"req_profile_id": "nope"}), vectorSecret), ErrUnknownProfile},
		{"unknown access key", testConfig(), signed(with(acceptReply(), map[string]string{"req_access_key": "nope"}), vectorSecret), ErrUnknownProfile},
		{"extra profile accepted", withExtra, signed(with(acceptReply(), map[string]string{"req_profile_id": extra.ProfileID, "req_access_key": extra.AccessKey}), otherSecret), nil},
		{"extra profile not configured", testConfig(), signed(with(acceptReply(), map[string]string{"req_profile_id": extra.ProfileID, "req_access_key": extra.AccessKey}), otherSecret), ErrUnknownProfile},
		{"extra profile with main secret", withExtra, signed(with(acceptReply(), map[string]string{"req_profile_id": extra.ProfileID, "req_access_key": extra.AccessKey}), vectorSecret), ErrInvalidSignature},
		{"rotated key selected by access key", withExtra, signed(with(acceptReply(), map[string]string{"req_access_key": rotated.AccessKey}), "rotated-secret"), nil},
		{"rotated key without access key", withExtra, signed(with(acceptReply(), nil, "req_access_key"), "rotated-secret"), nil},
		{"rotated access key with old secret", withExtra, signed(with(acceptReply(), map[string]string{"req_access_key": rotated.AccessKey}), vectorSecret), ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.VerifyReply(tt.fields)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyReply: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if _, perr := tt.cfg.ParseReply(tt.fields); !errors.Is(perr, tt.want) {
				t.Fatalf("ParseReply err = %v, want %v", perr, tt.want)
			}
		})
	}
}

func TestFormDataIsNotAReply(t *testing.T) {
	// A signed request echoed back as is has no req_profile_id, so it can
	// never pass as a reply.
	form, err := testConfig().PaymentFormData(testRequest())
	if err != nil {
		t.Fatalf("PaymentFormData: %v", err)
	}
	if err := testConfig().VerifyReply(form); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("VerifyReply(request) = %v, want ErrInvalidSignature", err)
	}
}

// TestSignedFormWithUnsignedDecisionIsForged is the attack of issue 7: the learner's own signed
// payment form, posted back with the reply fields that decide a payment added unsigned.
func TestSignedFormWithUnsignedDecisionIsForged(t *testing.T) {
	form, err := testConfig().PaymentFormData(testRequest())
	if err != nil {
		t.Fatalf("PaymentFormData: %v", err)
	}
	forged := with(form, map[string]string{
		"decision": "ACCEPT", "reason_code": "100", "transaction_id": "1234567890",
		"req_reference_number": form["reference_number"], "req_amount": form["amount"],
		"req_currency": form["currency"], "req_profile_id": form["profile_id"], "auth_amount": form["amount"],
	})
	for name, fields := range map[string]map[string]string{
		"as posted":                  forged,
		"without request-only names": with(forged, nil, "access_key", "profile_id"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := testConfig().ParseReply(fields); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("ParseReply(forged) = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

// TestReplyMustSignEveryFieldItReads signs an ACCEPT reply with each field the service reads
// left out of signed_field_names in turn: every one is refused as not authentic.
func TestReplyMustSignEveryFieldItReads(t *testing.T) {
	full := with(acceptReply(), map[string]string{"req_transaction_uuid": "0123456789abcdef0123456789abcdef"})
	if _, err := testConfig().ParseReply(signed(full, vectorSecret)); err != nil {
		t.Fatalf("fully signed reply refused: %v", err)
	}
	for _, name := range readFields {
		t.Run(name, func(t *testing.T) {
			fields := signed(with(full, nil, name), vectorSecret)
			fields[name] = full[name] // present, but not among the signed names
			if _, err := testConfig().ParseReply(fields); !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("ParseReply with %s unsigned = %v, want ErrInvalidSignature", name, err)
			}
		})
	}
}

// TestReplySigningARequestFieldIsRefused: a message that signs a request-only name is a request.
func TestReplySigningARequestFieldIsRefused(t *testing.T) {
	for _, name := range requestOnlyFields {
		fields := signed(with(acceptReply(), map[string]string{name: "x"}), vectorSecret)
		if _, err := testConfig().ParseReply(fields); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("reply signing %s: err = %v, want ErrInvalidSignature", name, err)
		}
	}
}

// TestReplyRequiredSignedFieldsPerDecision: a decision about money must sign the transaction, the
// reason, the amount and the currency; ERROR and CANCEL need less.
func TestReplyRequiredSignedFieldsPerDecision(t *testing.T) {
	for decision, required := range signedFor {
		for _, name := range append(append([]string{}, alwaysSigned...), required...) {
			if name == "decision" {
				continue
			}
			fields := signed(with(acceptReply(), map[string]string{"decision": string(decision)}, name, "auth_amount"), vectorSecret)
			if _, err := testConfig().ParseReply(fields); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("%s without %s: err = %v, want ErrInvalidSignature", decision, name, err)
			}
		}
	}
}

// TestReplyResplitBySignedValueIsForged is the reviewer's attack: an authentic DECLINE whose
// signed billing name (typed by the learner) holds ",decision=ACCEPT,...", re-split under other
// signed_field_names so that the same message and signature read as an ACCEPT.
func TestReplyResplitBySignedValueIsForged(t *testing.T) {
	cfg := testConfig()
	p := cfg.Profile
	inj := "x,decision=ACCEPT,req_profile_id=" + p.ProfileID + ",req_reference_number=EDX-100001,req_amount=99.00,req_currency=USD"
	order := [][2]string{
		{"transaction_id", "6000000000000001"}, {"decision", "DECLINE"}, {"req_access_key", p.AccessKey},
		{"req_profile_id", p.ProfileID}, {"req_reference_number", "EDX-100001"}, {"req_amount", "99.00"},
		{"req_currency", "USD"}, {"req_bill_to_forename", inj}, {"reason_code", "481"}, {"signed_date_time", "2026-01-01T00:00:00Z"},
	}
	fields := map[string]string{}
	var names []string
	for _, kv := range order {
		fields[kv[0]] = kv[1]
		names = append(names, kv[0])
	}
	fields["signed_field_names"] = strings.Join(append(names, "signed_field_names"), ",")
	fields["signature"] = SignFields(fields, p.SecretKey)
	if _, err := cfg.ParseReply(fields); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("a reply whose signed value holds \",name=\" must be refused, got %v", err)
	}

	// The re-split itself: the same message, read as an ACCEPT.
	msg := SignedMessage(fields)
	cut := strings.Index(msg, ",decision=ACCEPT")
	forged := map[string]string{"transaction_id": strings.TrimPrefix(msg[:cut], "transaction_id=")}
	fn := []string{"transaction_id"}
	rest := msg[cut+1:]
	sdt := strings.Index(rest, ",signed_date_time=")
	for _, pair := range strings.Split(rest[:sdt], ",") {
		k, v, _ := strings.Cut(pair, "=")
		forged[k] = v
		fn = append(fn, k)
	}
	forged["signed_date_time"] = strings.TrimPrefix(rest[sdt+1:], "signed_date_time=")
	forged["signed_field_names"] = strings.Join(append(fn, "signed_date_time"), ",")
	forged["signature"] = fields["signature"]
	if SignedMessage(forged) != msg {
		t.Fatal("the forgery no longer reproduces the signed message")
	}
	if r, err := cfg.ParseReply(forged); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("re-split reply: outcome %s, err %v; want ErrInvalidSignature", r.Outcome, err)
	}
}

// TestReplyValuesMustHaveTheirFormat: read values in another shape are refused.
func TestReplyValuesMustHaveTheirFormat(t *testing.T) {
	for name, bad := range map[string]string{
		"transaction_id": "12 ab", "req_reference_number": "EDX 100001", "req_currency": "US$", "reason_code": "10x",
	} {
		fields := signed(with(acceptReply(), map[string]string{name: bad}), vectorSecret)
		if _, err := testConfig().ParseReply(fields); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("%s=%q: err = %v, want ErrInvalidSignature", name, bad, err)
		}
	}
}
