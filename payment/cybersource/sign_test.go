package cybersource

import "testing"

// vectorSecret and vectorReply are the full reply test vector of
// reference/payments.md §1.1.
const vectorSecret = "d0757891e79d426382279516c260b908"

func vectorReply() map[string]string {
	return map[string]string{
		"decision":             "ACCEPT",
		"reason_code":          "100",
		"req_reference_number": "EDX-100001",
		"transaction_id":       "6015729214586539504002",
		"auth_amount":          "99.00",
		"req_amount":           "99.00",
		"req_currency":         "USD",
		"req_card_number":      "xxxxxxxxxxxx1111",
		"req_card_type":        "001",
		"req_profile_id":       "00000000-0000-0000-0000-000000000001",
		"signed_date_time":     "2020-10-01T17:22:02Z",
		"signed_field_names":   "decision,reason_code,req_reference_number,transaction_id,auth_amount,req_amount,req_currency,req_card_number,req_card_type,req_profile_id,signed_date_time,signed_field_names",
	}
}

func TestSignGolden(t *testing.T) {
	got := Sign("This is a super-secret message!", "password")
	if want := "qU4fRskS/R9yZx/yPq62sFGOUzX0GSUtmeI6bPVsqao="; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestSignFieldsGolden(t *testing.T) {
	tests := []struct {
		name   string
		change map[string]string
		want   string
	}{
		{"accept", nil, "8G+Av21bRZheouv2sm3JQHMAG50XL9yizUgK+nt/m2E="},
		{"tampered amount", map[string]string{"req_amount": "9.00"}, "ghzNbVPZTW8BzX20Npe7r03jT9m3RyHGsy2CajxpGY4="},
		{"decline", map[string]string{"decision": "DECLINE", "reason_code": "481"}, "i0jx16MdE5XJFI+s8i0WGa3dDJnXVM3lM5OTm9gb6wQ="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := vectorReply()
			for k, v := range tt.change {
				fields[k] = v
			}
			if got := SignFields(fields, vectorSecret); got != tt.want {
				t.Fatalf("SignFields = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSignedMessageFollowsSignedFieldNames(t *testing.T) {
	fields := map[string]string{
		"b":                  "2",
		"a":                  "x=y,z",
		"ignored":            "not signed",
		"signed_field_names": "b,a,missing",
	}
	got := SignedMessage(fields)
	if want := "b=2,a=x=y,z,missing="; got != want {
		t.Fatalf("SignedMessage = %q, want %q", got, want)
	}
	// Unsigned fields do not change the signature; signed ones do.
	before := SignFields(fields, "s")
	fields["ignored"] = "changed"
	if SignFields(fields, "s") != before {
		t.Fatal("changing an unsigned field changed the signature")
	}
	fields["b"] = "3"
	if SignFields(fields, "s") == before {
		t.Fatal("changing a signed field kept the signature")
	}
}

func TestSignedNames(t *testing.T) {
	if got := SignedNames(""); len(got) != 0 {
		t.Fatalf("SignedNames(\"\") = %q, want none", got)
	}
	if got := SignedNames("a,b"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("SignedNames(\"a,b\") = %q", got)
	}
}
