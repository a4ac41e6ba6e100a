package cybersource

import (
	"crypto/hmac"
	"fmt"
	"regexp"

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

// readFields are the reply fields the service reads. A reply that carries one of them unsigned
// is not authentic: an attacker could add or change it without the secret.
var readFields = []string{
	"decision", "reason_code", "transaction_id", "req_reference_number", "req_amount", "req_currency",
	"req_profile_id", "req_access_key", "req_transaction_uuid", "auth_amount", "message",
	"req_card_number", "req_card_type",
}

// alwaysSigned are the fields every authentic reply signs: what was decided, for which order
// and by which profile.
var alwaysSigned = []string{"decision", "req_reference_number", "req_profile_id"}

// signedFor lists, per decision, the further fields a reply must sign. A decision about money
// (ACCEPT, DECLINE, REVIEW) names the transaction, the reason and the amount and currency it is
// about; ERROR has no transaction (CyberSource omits transaction_id) and a duplicate may omit the
// amount; CANCEL carries no reason code.
var signedFor = map[Decision][]string{
	Accept:  {"reason_code", "transaction_id", "req_amount", "req_currency"},
	Decline: {"reason_code", "transaction_id", "req_amount", "req_currency"},
	Review:  {"reason_code", "transaction_id", "req_amount", "req_currency"},
	Error:   {"reason_code"},
	Cancel:  {},
}

// requestOnlyFields are names that only a payment request signs; a reply echoes them as
// req_<name>. A message that signs one of them is a request (e.g. the learner's own payment
// form posted back) and never a reply.
var requestOnlyFields = []string{"access_key", "profile_id", "reference_number", "amount", "currency",
	"transaction_uuid", "transaction_type", "override_custom_receipt_page"}

// VerifyReply checks that fields are an authentic reply from one of the configured profiles: the
// signature over signed_field_names matches, every field the service reads is signed, the
// decision's required fields (see signedFor) are signed, and no request-only field is signed.
// It returns ErrInvalidSignature otherwise, and ErrUnknownProfile if no configured profile has
// that req_profile_id (and req_access_key, when present).
func (c Config) VerifyReply(fields map[string]string) error {
	signature := fields[FieldSignature]
	if signature == "" {
		return fmt.Errorf("%w: no signature", ErrInvalidSignature)
	}
	signed, err := signedSet(fields)
	if err != nil {
		return err
	}
	if err := checkReplyCoverage(fields, signed); err != nil {
		return err
	}
	profileID := fields["req_profile_id"]
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

// signedSet returns the names listed in signed_field_names; each must be present in fields.
func signedSet(fields map[string]string) (map[string]bool, error) {
	names := SignedNames(fields[FieldSignedFieldNames])
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no signed_field_names", ErrInvalidSignature)
	}
	set := make(map[string]bool, len(names))
	for _, name := range names {
		if _, ok := fields[name]; !ok {
			return nil, fmt.Errorf("%w: signed field %q is missing", ErrInvalidSignature, name)
		}
		set[name] = true
	}
	return set, nil
}

// embeddedPair finds ",name=" inside a value. The signed message joins name=value pairs with
// commas and escapes nothing, so a signed value holding such text (e.g. a billing name the
// learner typed) would let the same signature verify under another split into fields.
var embeddedPair = regexp.MustCompile(`,[A-Za-z0-9_]+=`)

// replyFormats are the shapes of the values the service reads; anything else is not a reply.
var replyFormats = map[string]*regexp.Regexp{
	"transaction_id":       regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`),
	"req_reference_number": regexp.MustCompile(`^[A-Za-z0-9_]{1,64}-[0-9]{1,19}$`),
	"req_currency":         regexp.MustCompile(`^[A-Za-z]{3}$`),
	"reason_code":          regexp.MustCompile(`^[0-9]{1,6}$`),
}

// checkReplyCoverage refuses a message whose signature does not cover what the service reads,
// or whose signed values could be re-split into other fields.
func checkReplyCoverage(fields map[string]string, signed map[string]bool) error {
	for name := range signed {
		if name != FieldSignedFieldNames && embeddedPair.MatchString(fields[name]) {
			return fmt.Errorf("%w: signed field %q holds a \",name=\" sequence", ErrInvalidSignature, name)
		}
	}
	for name, format := range replyFormats {
		if v, ok := fields[name]; ok && v != "" && !format.MatchString(v) {
			return fmt.Errorf("%w: %s %q is not in the expected format", ErrInvalidSignature, name, v)
		}
	}
	for _, name := range requestOnlyFields {
		if signed[name] {
			return fmt.Errorf("%w: %q is signed: this is a payment request, not a reply", ErrInvalidSignature, name)
		}
	}
	for _, name := range readFields {
		if _, present := fields[name]; present && !signed[name] {
			return fmt.Errorf("%w: %q is not signed", ErrInvalidSignature, name)
		}
	}
	for _, name := range alwaysSigned {
		if !signed[name] || fields[name] == "" {
			return fmt.Errorf("%w: a reply must sign %q", ErrInvalidSignature, name)
		}
	}
	required, known := signedFor[Decision(fields["decision"])]
	if !known {
		return nil // authentic or not, an unknown decision is refused by ParseReply
	}
	for _, name := range required {
		if !signed[name] || fields[name] == "" {
			return fmt.Errorf("%w: a %s reply must sign %q", ErrInvalidSignature, fields["decision"], name)
		}
	}
	return nil
}

// ParseReply verifies fields (see VerifyReply) and normalises them. An authentic reply with an
// unknown decision yields ErrUnknownDecision; one with unparsable amounts yields
// ErrMalformedReply. Only signed fields are read.
func (c Config) ParseReply(fields map[string]string) (Reply, error) {
	if err := c.VerifyReply(fields); err != nil {
		return Reply{}, err
	}
	fields = onlySigned(fields)
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
	return r, nil
}

// onlySigned returns the fields named in signed_field_names.
func onlySigned(fields map[string]string) map[string]string {
	out := make(map[string]string, len(fields))
	for _, name := range SignedNames(fields[FieldSignedFieldNames]) {
		out[name] = fields[name]
	}
	return out
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
