package cybersource

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	payment "github.com/coursecommerce/commerce/payment/cybersource"
)

// authTimeLayout is the layout of auth_time in replies.
const authTimeLayout = "2006-01-02T150405Z"

// outcome describes the reply to build.
type outcome struct {
	decision payment.Decision
	reason   string
	message  string
	// transaction: the reply carries a transaction_id.
	transaction bool
	// authorised: the reply carries auth_amount, auth_code and auth_time.
	authorised bool
	// partial: auth_amount is half of req_amount.
	partial bool
}

// The outcomes the simulator produces.
var (
	acceptOutcome = outcome{decision: payment.Accept, reason: "100", message: "Request was processed successfully.",
		transaction: true, authorised: true}
	partialOutcome = outcome{decision: payment.Accept, reason: "110", message: "Only a partial amount was approved.",
		transaction: true, authorised: true, partial: true}
	declineOutcome = outcome{decision: payment.Decline, reason: "481", message: "The order was rejected by Decision Manager.",
		transaction: true}
	reviewOutcome = outcome{decision: payment.Review, reason: "200", message: "Authorised by the issuer but flagged by the address verification check.",
		transaction: true, authorised: true}
	errorOutcome     = outcome{decision: payment.Error, reason: "150", message: "General system failure."}
	duplicateOutcome = outcome{decision: payment.Error, reason: payment.ReasonDuplicateRequest,
		message: "The access_key and transaction_uuid were already used within the last 15 minutes."}
	cancelOutcome = outcome{decision: payment.Cancel, message: "The customer cancelled the transaction."}
)

// card is what the buyer typed into the fake card form.
type card struct {
	number string // digits only
	kind   string // 001..004
	expiry string
}

// buildReply builds the signed reply to a request: the decision fields, the
// request echoed as req_<name>, card and authorisation fields as the outcome
// needs, signed_date_time, signed_field_names (every field, itself
// included) and the signature.
func (s *Simulator) buildReply(profile payment.Profile, request map[string]string, out outcome, c *card) map[string]string {
	now := s.now().UTC()
	reply := make(map[string]string, len(request)+12)
	for k, v := range request {
		reply["req_"+k] = v
	}
	reply["decision"] = string(out.decision)
	reply["message"] = out.message
	if out.reason != "" {
		reply["reason_code"] = out.reason
	}
	seq := s.nextSeq()
	if out.transaction {
		reply["transaction_id"] = fmt.Sprintf("%010d%012d", now.Unix()%1e10, seq%1e12)
	}
	if c != nil {
		reply["req_card_number"] = maskCard(c.number)
		reply["req_card_type"] = c.kind
		reply["req_card_expiry_date"] = c.expiry
	}
	if out.authorised {
		amount, _ := decimal.NewFromString(request["amount"]) // checked on /pay
		if out.partial {
			amount = amount.Div(decimal.NewFromInt(2)).RoundDown(2)
		}
		reply["auth_amount"] = amount.StringFixed(2)
		reply["auth_code"] = fmt.Sprintf("%06d", seq%1e6)
		reply["auth_time"] = now.Format(authTimeLayout)
	}
	reply["signed_date_time"] = now.Format(payment.SignedDateTimeLayout)
	reply[payment.FieldSignedFieldNames] = ""
	reply[payment.FieldSignedFieldNames] = strings.Join(slices.Sorted(maps.Keys(reply)), ",")
	reply[payment.FieldSignature] = payment.SignFields(reply, profile.SecretKey)
	return reply
}

// nextSeq returns a fresh sequence number for transaction ids and auth codes.
func (s *Simulator) nextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txnSeq++
	return s.txnSeq
}

// deliver sends a reply: it remembers an accepted payment (for refunds),
// applies TamperNext, records the reply, notifies
// the merchant POST URL and answers the browser with a form that posts the
// reply to target.
func (s *Simulator) deliver(r *http.Request, w http.ResponseWriter, reply map[string]string, target string) {
	s.mu.Lock()
	k := s.knobs
	s.rememberTransaction(reply)
	if s.knobs.TamperNext > 0 {
		s.knobs.TamperNext--
		tamper(reply)
	}
	s.replies = append(s.replies, maps.Clone(reply))
	s.mu.Unlock()

	s.log.Info("cybersource simulator: reply", "reference", reply["req_reference_number"],
		"decision", reply["decision"], "reason_code", reply["reason_code"], "transaction_id", reply["transaction_id"])
	s.notify(r.Context(), reply, k)
	writeReplyPage(w, target, reply)
}

// tamper alters a signed field after signing: auth_amount if present, else
// req_amount.
func tamper(reply map[string]string) {
	name := "req_amount"
	if _, ok := reply["auth_amount"]; ok {
		name = "auth_amount"
	}
	if d, err := decimal.NewFromString(reply[name]); err == nil {
		reply[name] = d.Add(decimal.NewFromInt(1)).StringFixed(2)
		return
	}
	reply[name] += "1"
}

// maskCard keeps the last four digits of a card number and replaces the
// other digits with x (separators are dropped).
func maskCard(number string) string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, number)
	if len(digits) <= 4 {
		return strings.Repeat("x", len(digits))
	}
	return strings.Repeat("x", len(digits)-4) + digits[len(digits)-4:]
}

// cardType returns the CyberSource card type code of a card number, or ""
// for an unsupported brand.
func cardType(digits string) string {
	switch {
	case strings.HasPrefix(digits, "4"):
		return "001"
	case strings.HasPrefix(digits, "5"), strings.HasPrefix(digits, "2"):
		return "002"
	case strings.HasPrefix(digits, "34"), strings.HasPrefix(digits, "37"):
		return "003"
	case strings.HasPrefix(digits, "6"):
		return "004"
	}
	return ""
}
