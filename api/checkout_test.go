package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/payment/cybersource"
	"github.com/stretchr/testify/require"
)

// basketFor fills a new user's basket with the SKUs and returns the basket id and the token.
func (h *harness) basketFor(user string, skus ...string) (int64, string) {
	h.t.Helper()
	tok := h.token(user, false)
	products := []any{}
	for _, s := range skus {
		products = append(products, map[string]any{"sku": s})
	}
	body := requireStatus(h.t, h.do("POST", "/api/v2/baskets/", tok, map[string]any{"products": products}), http.StatusOK)
	return int64(body["id"].(float64)), tok
}

func TestCheckout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:edX+Chk")+"+2026", "49.00")

	t.Run("FreezesStartsAndAnswersTheSameTwice", func(t *testing.T) {
		id, tok := h.basketFor(dbtest.Unique("chk-"), skus["verified"])
		started, _, _ := h.checkouts.counts()
		body := map[string]any{"basket_id": id, "payment_processor": "cybersource"}
		first := requireStatus(t, h.do("POST", "/api/v2/checkout/", tok, body), http.StatusOK)
		require.Equal(t, "cybersource", first["payment_processor"])
		require.Equal(t, "http://pay.test/pay", first["payment_page_url"])
		form := first["payment_form_data"].(map[string]any)
		require.Equal(t, "49.00", form["amount"])
		require.Equal(t, commerce.OrderNumber("EDX", id), form["reference_number"])
		require.Equal(t, "http://shop.test/payment/cybersource/redirect/", form["override_custom_receipt_page"])
		require.Equal(t, 1, h.count("SELECT count(*) FROM baskets WHERE id = $1 AND status = 'Frozen'", id))

		second := requireStatus(t, h.do("POST", "/api/v2/checkout/", tok, body), http.StatusOK)
		require.Equal(t, first, second)
		now, _, _ := h.checkouts.counts()
		require.Equal(t, started+2, now, "the start is repeated while awaiting payment (Temporal finds the running workflow)")
		h.checkouts.mu.Lock()
		last := h.checkouts.started[len(h.checkouts.started)-1]
		h.checkouts.mu.Unlock()
		require.Equal(t, "49.00", commerce.FormatMoney(last.Total))
		require.Equal(t, skus["verified"], last.Lines[0].SKU)
		require.Equal(t, "verified", last.Lines[0].Mode)

		other := requireStatus(t, h.do("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": id, "payment_processor": "paypal"}), http.StatusBadRequest)
		require.Equal(t, "Payment processor [paypal] not found.", other["developer_message"])
	})

	t.Run("BadRequestsChangeNothing", func(t *testing.T) {
		id, tok := h.basketFor(dbtest.Unique("chk-bad-"), skus["verified"])
		cases := map[string]struct {
			body   any
			status int
			msg    string
		}{
			"MissingBasketID":  {map[string]any{"payment_processor": "cybersource"}, 400, ""},
			"TextBasketID":     {`{"basket_id":"abc"}`, 400, ""},
			"UnknownBasket":    {map[string]any{"basket_id": 999999999}, 400, "Basket [999999999] not found."},
			"UnknownProcessor": {map[string]any{"basket_id": id, "payment_processor": "bitcoin"}, 400, "Payment processor [bitcoin] not found."},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				body := requireStatus(t, h.do("POST", "/api/v2/checkout/", tok, tc.body), tc.status)
				if tc.msg != "" {
					require.Equal(t, tc.msg, body["developer_message"])
				}
			})
		}
		body := requireStatus(t, h.do("POST", "/api/v2/checkout/", h.token("not-the-owner", false), map[string]any{"basket_id": id}), http.StatusBadRequest)
		require.Equal(t, fmt.Sprintf("Basket [%d] not found.", id), body["developer_message"])
		require.Equal(t, 1, h.count("SELECT count(*) FROM baskets WHERE id = $1 AND status = 'Open'", id))
		require.Equal(t, 0, h.count("SELECT count(*) FROM checkouts WHERE basket_id = $1", id))
	})

	t.Run("TemporalDownIs503AndARetryHeals", func(t *testing.T) {
		h := newHarness(t)
		id, tok := h.basketFor(dbtest.Unique("chk-down-"), skus["verified"])
		h.checkouts.fail(fmt.Errorf("%w: dial tcp: connection refused", commerce.ErrUnavailable))
		requireStatus(t, h.do("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": id}), http.StatusServiceUnavailable)
		h.checkouts.fail(nil)
		requireStatus(t, h.do("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": id}), http.StatusOK)
		started, _, _ := h.checkouts.counts()
		require.Equal(t, 1, started)
	})

	t.Run("BasketCreateWithCheckout", func(t *testing.T) {
		tok := h.token(dbtest.Unique("chk-bsk-"), false)
		body := requireStatus(t, h.do("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": skus["verified"]}}, "checkout": true}), http.StatusOK)
		data := body["payment_data"].(map[string]any)
		require.Equal(t, "cybersource", data["payment_processor_name"])
		require.Nil(t, body["order"])

		bad := requireStatus(t, h.do("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": skus["verified"]}}, "checkout": true, "payment_processor_name": "nope"}), http.StatusBadRequest)
		require.Equal(t, "Lookup for a payment processor with name [nope] failed", bad["developer_message"])
		require.Equal(t, "We don't support the payment option you selected.", bad["user_message"])

		free := requireStatus(t, h.do("POST", "/api/v2/baskets/", h.token(dbtest.Unique("chk-free-"), false), map[string]any{"products": []any{map[string]any{"sku": skus["audit"]}}, "checkout": true}), http.StatusOK)
		require.Nil(t, free["payment_data"])
		require.Regexp(t, `^EDX-1\d{5,}$`, free["order"].(map[string]any)["number"])
	})
}

// signedReply signs a CyberSource reply with the test profile.
func signedReply(fields map[string]string) url.Values {
	names := []string{}
	for k := range fields {
		names = append(names, k)
	}
	names = append(names, "signed_field_names")
	sort.Strings(names)
	fields["signed_field_names"] = strings.Join(names, ",")
	fields["signature"] = cybersource.SignFields(fields, testProfile.SecretKey)
	v := url.Values{}
	for k, val := range fields {
		v.Set(k, val)
	}
	return v
}

func acceptReply(number, amount, txn string) map[string]string {
	return map[string]string{
		"decision": "ACCEPT", "reason_code": "100", "req_reference_number": number, "transaction_id": txn,
		"auth_amount": amount, "req_amount": amount, "req_currency": "USD", "req_card_number": "xxxxxxxxxxxx1111",
		"req_card_type": "001", "req_profile_id": testProfile.ProfileID, "req_access_key": testProfile.AccessKey,
		"signed_date_time": "2026-11-27T00:00:00Z",
	}
}

func (h *harness) postForm(path string, form url.Values) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	return rec
}

func TestCyberSourceCallbacks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:edX+Cb")+"+2026", "49.00")
	id, tok := h.basketFor(dbtest.Unique("cb-"), skus["verified"])
	requireStatus(t, h.do("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": id}), http.StatusOK)
	number := commerce.OrderNumber("EDX", id)
	responses := func() int {
		return h.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1", number)
	}

	t.Run("AuthenticNotificationIsRecordedThenSignalled", func(t *testing.T) {
		before := responses()
		_, notified, _ := h.checkouts.counts()
		rec := h.postForm("/payment/cybersource/notify/", signedReply(acceptReply(number, "49.00", "TXN-1")))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, before+1, responses())
		_, after, _ := h.checkouts.counts()
		require.Equal(t, notified+1, after)
		h.checkouts.mu.Lock()
		n := h.checkouts.notified[len(h.checkouts.notified)-1]
		h.checkouts.mu.Unlock()
		require.Equal(t, commerce.PaymentAccepted, n.Outcome)
		require.Equal(t, "TXN-1", n.TransactionID)
		require.Equal(t, "Visa 1111", n.Label)
		require.NotZero(t, n.ResponseID)
	})

	t.Run("RedirectAnswers303", func(t *testing.T) {
		rec := h.postForm("/payment/cybersource/redirect/", signedReply(acceptReply(number, "49.00", "TXN-1")))
		require.Equal(t, http.StatusSeeOther, rec.Code)
		require.Equal(t, "http://shop.test/checkout/receipt/?order_number="+number, rec.Header().Get("Location"))
		declined := acceptReply(number, "49.00", "TXN-2")
		declined["decision"], declined["reason_code"] = "DECLINE", "481"
		rec = h.postForm("/payment/cybersource/redirect/", signedReply(declined))
		require.Equal(t, http.StatusSeeOther, rec.Code)
		require.Contains(t, rec.Header().Get("Location"), "/checkout/cancel-checkout/?order_number="+number)
	})

	t.Run("ForgedIsRecordedAndRefused", func(t *testing.T) {
		before := responses()
		_, notified, _ := h.checkouts.counts()
		form := signedReply(acceptReply(number, "49.00", "TXN-3"))
		form.Set("req_amount", "0.49")
		rec := h.postForm("/payment/cybersource/notify/", form)
		require.Equal(t, http.StatusBadRequest, rec.Code)
		require.Equal(t, before+1, responses())
		require.Equal(t, 1, h.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND transaction_id = 'TXN-3' AND NOT authentic", number))
		_, after, _ := h.checkouts.counts()
		require.Equal(t, notified, after, "nothing signalled")
		requireStatus(t, h.postForm("/payment/cybersource/notify/", url.Values{"decision": {"ACCEPT"}}), http.StatusBadRequest)
	})

	t.Run("UnknownOrderIsRecordedAndAcknowledged", func(t *testing.T) {
		txn := dbtest.Unique("TXN-X-")
		rec := h.postForm("/payment/cybersource/notify/", signedReply(acceptReply("EDX-999999999", "1.00", txn)))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, 1, h.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = 'EDX-999999999' AND transaction_id = $1 AND basket_id IS NULL", txn))
	})

	t.Run("TemporalDownIs503AfterRecording", func(t *testing.T) {
		h.checkouts.fail(fmt.Errorf("%w: no Temporal", commerce.ErrUnavailable))
		defer h.checkouts.fail(nil)
		before := responses()
		rec := h.postForm("/payment/cybersource/notify/", signedReply(acceptReply(number, "49.00", "TXN-4")))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, before+1, responses(), "recorded before anything else")
	})
}

func TestCallbackWhenDatabaseIsDownIs503(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	down := h.withStore(brokenStore{Store: h.store})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/payment/cybersource/notify/", strings.NewReader(signedReply(acceptReply("EDX-100001", "1.00", "T")).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	down.ServeHTTP(rec, req)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
}

var errDown = errors.New("connection refused")

// brokenStore is the real store whose processor-response recording fails as if PostgreSQL were down.
type brokenStore struct{ api.Store }

func (b brokenStore) RecordProcessorResponse(context.Context, commerce.ProcessorResponse) (int64, error) {
	return 0, fmt.Errorf("%w: %w", commerce.ErrUnavailable, errDown)
}
