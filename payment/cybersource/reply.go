package cybersource

import (
	"crypto/hmac"
	"fmt"

	"github.com/shopspring/decimal"
)

// Decision is the decision field of a Secure Acceptance reply.
type Decision string

// Decisions sent by CyberSource.
const (
	Accept  Decision = "ACCEPT"
	Decline Decision = "DECLINE"
	Review  Decision = "REVIEW"
	Error   Decision = "ERROR"
	Cancel  Decision = "CANCEL"
)

// Outcome is the normalised result of a reply, as the checkout workflow
// consumes it.
type Outcome string

// Outcomes of a reply.
const (
	// OutcomeAccepted is a full authorisation (ACCEPT, auth amount = amount).
	OutcomeAccepted Outcome = "accepted"
	// OutcomeDeclined is a DECLINE, or an ACCEPT for only part of the amount.
	OutcomeDeclined Outcome = "declined"
	// OutcomeReview is a REVIEW: neither paid nor declined yet.
	OutcomeReview Outcome = "review"
	// OutcomeError is an ERROR other than a duplicate request.
	OutcomeError Outcome = "error"
	// OutcomeDuplicate is ERROR with reason 104: the access key and
	// transaction uuid were already used within 15 minutes.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeCancelled is a CANCEL by the buyer.
	OutcomeCancelled Outcome = "cancelled"
)

// acceptRequires lists the reply fields an ACCEPT must carry.
var acceptRequires = []string{"transaction_id", "req_reference_number", "req_amount", "req_currency"}

// ReasonDuplicateRequest is the reason code of a reused transaction uuid.
const ReasonDuplicateRequest = "104"

// Card type codes sent in req_card_type, and the names they map to.
var cardTypes = map[string]string{
	"001": "visa",
	"002": "mastercard",
	"003": "american_express",
	"004": "discover",
}

// UnknownCardType is Reply.CardType for a missing or unlisted card type code.
const UnknownCardType = "unknown"

// Reply is an authentic, normalised Secure Acceptance reply.
type Reply struct {
	Decision   Decision
	ReasonCode string
	// Duplicate is set for ERROR with reason code 104.
	Duplicate bool
	// PartialAuthorization is set when auth_amount is present and differs
	// from req_amount.
	PartialAuthorization bool
	TransactionID        string
	// OrderNumber is req_reference_number.
	OrderNumber string
	Currency    string
	Message     string
	// CardNumber is the masked req_card_number, e.g. xxxxxxxxxxxx1111.
	CardNumber string
	// CardType is visa, mastercard, american_express, discover or unknown.
	CardType  string
	ProfileID string
	// Amount is req_amount (zero when absent, which only ERROR/CANCEL allow).
	Amount decimal.Decimal
	// AuthAmount is auth_amount, nil when absent.
	AuthAmount *decimal.Decimal
	Outcome    Outcome
}

// VerifyReply checks that fields carry a valid signature by one of the
// configured profiles. It returns ErrInvalidSignature if the signature,
// signed_field_names, req_profile_id or a signed field is missing or the
// signature does not match, and ErrUnknownProfile if no configured profile
// has that req_profile_id (and req_access_key, when present).
func (c Config) VerifyReply(fields map[string]string) error {
	signature := fields[FieldSignature]
	if signature == "" {
		return fmt.Errorf("%w: no signature", ErrInvalidSignature)
	}
	names := SignedNames(fields[FieldSignedFieldNames])
	if len(names) == 0 {
		return fmt.Errorf("%w: no signed_field_names", ErrInvalidSignature)
	}
	for _, name := range names {
		if _, ok := fields[name]; !ok {
			return fmt.Errorf("%w: signed field %q is missing", ErrInvalidSignature, name)
		}
	}
	profileID := fields["req_profile_id"]
	if profileID == "" {
		return fmt.Errorf("%w: no req_profile_id", ErrInvalidSignature)
	}
	profiles := c.candidates(profileID, fields["req_access_key"])
	if len(profiles) == 0 {
		return fmt.Errorf("%w: %q", ErrUnknownProfile, profileID)
	}
	message := SignedMessage(fields)
	for _, p := range profiles {
		if hmac.Equal([]byte(Sign(message, p.SecretKey)), []byte(signature)) {
			return nil
		}
	}
	return fmt.Errorf("%w: signature does not match profile %q", ErrInvalidSignature, profileID)
}

// ParseReply verifies fields (see VerifyReply) and normalises them. An
// authentic reply with an unknown decision yields ErrUnknownDecision; one
// with unparsable amounts or without the fields an ACCEPT needs yields
// ErrMalformedReply.
func (c Config) ParseReply(fields map[string]string) (Reply, error) {
	if err := c.VerifyReply(fields); err != nil {
		return Reply{}, err
	}
	r := Reply{
		Decision:      Decision(fields["decision"]),
		ReasonCode:    fields["reason_code"],
		TransactionID: fields["transaction_id"],
		OrderNumber:   fields["req_reference_number"],
		Currency:      fields["req_currency"],
		Message:       fields["message"],
		CardNumber:    fields["req_card_number"],
		CardType:      cardTypeName(fields["req_card_type"]),
		ProfileID:     fields["req_profile_id"],
	}
	var err error
	if r.Amount, err = parseAmount(fields, "req_amount"); err != nil {
		return Reply{}, err
	}
	if v, ok := fields["auth_amount"]; ok && v != "" {
		auth, err := parseAmount(fields, "auth_amount")
		if err != nil {
			return Reply{}, err
		}
		r.AuthAmount = &auth
		r.PartialAuthorization = fields["req_amount"] != "" && !auth.Equal(r.Amount)
	}
	if r.Outcome, err = r.outcome(); err != nil {
		return Reply{}, err
	}
	r.Duplicate = r.Outcome == OutcomeDuplicate
	if r.Decision == Accept {
		for _, name := range acceptRequires {
			if fields[name] == "" {
				return Reply{}, fmt.Errorf("%w: ACCEPT without %s", ErrMalformedReply, name)
			}
		}
	}
	return r, nil
}

// outcome maps the decision (and reason code, partial authorisation) to an
// Outcome.
func (r Reply) outcome() (Outcome, error) {
	switch r.Decision {
	case Accept:
		if r.PartialAuthorization {
			return OutcomeDeclined, nil
		}
		return OutcomeAccepted, nil
	case Decline:
		return OutcomeDeclined, nil
	case Review:
		return OutcomeReview, nil
	case Error:
		if r.ReasonCode == ReasonDuplicateRequest {
			return OutcomeDuplicate, nil
		}
		return OutcomeError, nil
	case Cancel:
		return OutcomeCancelled, nil
	default:
		return "", fmt.Errorf("%w: %q", ErrUnknownDecision, string(r.Decision))
	}
}

// parseAmount parses fields[name] as a decimal; an absent or empty field is
// zero.
func parseAmount(fields map[string]string, name string) (decimal.Decimal, error) {
	v := fields[name]
	if v == "" {
		return decimal.Zero, nil
	}
	d, err := decimal.NewFromString(v)
	if err != nil {
		return decimal.Zero, fmt.Errorf("%w: %s %q: %w", ErrMalformedReply, name, v, err)
	}
	return d, nil
}

// cardTypeName maps a req_card_type code to a card type name.
func cardTypeName(code string) string {
	if name, ok := cardTypes[code]; ok {
		return name
	}
	return UnknownCardType
}
