package e2e_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/payment/cybersource"
	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
	"github.com/stretchr/testify/require"
)

// TestLearnersSignedFormPostedBackAsAReplyIsForged is the attack that placed orders before
// issue 7: the learner takes the payment form the API signed for them, adds the reply fields that
// decide a payment (unsigned) and posts it to both callback URLs, for their own order and for
// another learner's more expensive one. Every attempt is refused, recorded as not authentic, and
// changes nothing.
func TestLearnersSignedFormPostedBackAsAReplyIsForged(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, cheap := s.publishSeat("99.00")
	_, dear := s.publishSeat("299.00")
	own := s.checkout("attacker", cheap)
	other := s.checkout("victim", dear)
	form := own.PaymentData.PaymentFormData

	targets := map[string]basketResponse{"own order": own, "another order": other}
	for name, target := range targets {
		number := s.orderNumber(target)
		forged := maps.Clone(form)
		maps.Copy(forged, map[string]string{
			"decision": "ACCEPT", "reason_code": "100", "transaction_id": "60000000000000000001",
			"req_reference_number": number, "req_amount": target.PaymentData.PaymentFormData["amount"],
			"req_currency": "USD", "req_profile_id": form["profile_id"], "auth_amount": target.PaymentData.PaymentFormData["amount"],
		})
		for _, path := range []string{"/payment/cybersource/notify/", "/payment/cybersource/redirect/"} {
			resp := s.postReply(s.apiURL+path, forged)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s via %s", name, path)
		}
		require.Equal(t, 2, s.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND NOT authentic", number), name)
	}
	time.Sleep(500 * time.Millisecond)
	for _, target := range targets {
		number := s.orderNumber(target)
		require.Equal(t, 0, s.count("SELECT count(*) FROM orders WHERE number = $1", number), "no order, so no payment event")
		require.Equal(t, 0, s.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND authentic", number))
		require.Equal(t, commerce.CheckoutAwaitingPayment, s.status(number).State)
	}
	require.Empty(t, s.lms.Enrollments())
	require.Zero(t, s.lms.Calls())
}

// TestReplyWithAReadFieldUnsignedIsRefused re-signs a genuine reply with each field the service
// reads left out of the signature in turn: each is refused and recorded as not authentic. The
// genuine, fully signed reply is then accepted and the order placed.
func TestReplyWithAReadFieldUnsignedIsRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("45.00")
	s.cs.SetSkipNotify(true)
	b := s.checkout("careful", sku)
	number := s.orderNumber(b)
	res, err := s.cs.Pay(context.Background(), b.PaymentData.PaymentFormData, cybersim.ActionPay)
	require.NoError(t, err)

	read := []string{"decision", "reason_code", "transaction_id", "req_reference_number", "req_amount",
		"req_currency", "req_profile_id", "req_access_key", "req_transaction_uuid", "auth_amount", "message",
		"req_card_number", "req_card_type"}
	for _, name := range read {
		require.Contains(t, res.Reply, name)
		partial := maps.Clone(res.Reply)
		names := slices.DeleteFunc(strings.Split(partial["signed_field_names"], ","), func(n string) bool { return n == name })
		partial["signed_field_names"] = strings.Join(names, ",")
		partial["signature"] = cybersource.SignFields(partial, profile.SecretKey)
		require.Equal(t, http.StatusBadRequest, s.postReply(s.apiURL+"/payment/cybersource/notify/", partial).StatusCode, name)
	}
	require.Equal(t, len(read), s.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND NOT authentic", number))
	require.Equal(t, 0, s.count("SELECT count(*) FROM orders WHERE number = $1", number))

	require.Equal(t, http.StatusOK, s.postReply(s.apiURL+"/payment/cybersource/notify/", res.Reply).StatusCode)
	s.waitForOrder("careful", number, "Complete")
	require.Equal(t, 1, s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1", number))
}
