package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"testing"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// Test settings of the shop front.
const (
	testPaymentPage = "http://pay.test/payment/"
	testLMS         = "http://lms.test"
)

// newShopKit is the promo kit whose API has a payment page (paymentPage, maybe empty), an LMS
// and a store that finds open baskets.
func newShopKit(t *testing.T, paymentPage string) *promoKit {
	t.Helper()
	k := newPromoKit(t)
	k.handler = k.withConfig(func(cfg *api.Config) {
		cfg.PaymentPageURL, cfg.LMSURL = paymentPage, testLMS
	})
	return k
}

// navigate sends a browser navigation (GET, Accept: text/html) with an optional token.
func (k *promoKit) navigate(path, tok string) *httptest.ResponseRecorder {
	k.t.Helper()
	return k.getAccepting(path, tok, "text/html,application/xhtml+xml,*/*;q=0.8")
}

// getAccepting sends a GET with an Accept header and an optional token.
func (k *promoKit) getAccepting(path, tok, accept string) *httptest.ResponseRecorder {
	k.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Accept", accept)
	if tok != "" {
		req.Header.Set("Authorization", "JWT "+tok)
	}
	rec := httptest.NewRecorder()
	k.handler.ServeHTTP(rec, req)
	return rec
}

// bffDoc is a decoded BFF answer whose numbers keep their JSON digits.
type bffDoc map[string]any

// bffCall calls the BFF and checks the status, that the answer is a basket document shaped as
// reference payment-mfe.md §2 says, and that it is 400 exactly when a message is an error.
func (k *promoKit) bffCall(t *testing.T, method, path, tok string, body any, status int) bffDoc {
	t.Helper()
	rec := k.do(method, "/bff/payment/v0/"+path, tok, body)
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"), "a browser going Back must not show a cached basket")
	require.Contains(t, rec.Header().Get("Content-Type"), "application/json")
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	var doc bffDoc
	require.NoError(t, dec.Decode(&doc))
	requireBasketDocument(t, doc)
	hasError := false
	for _, m := range doc["messages"].([]any) {
		hasError = hasError || m.(map[string]any)["message_type"] == "error"
	}
	require.Equal(t, status == http.StatusBadRequest, hasError, "400 if and only if a message is an error")
	return doc
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// requireKinds checks that m has exactly the keys of kinds, each of its JSON kind: "number",
// "string", "bool", "array", "object", with "?" allowing null.
func requireKinds(t *testing.T, m map[string]any, kinds map[string]string) {
	t.Helper()
	want := make(map[string]any, len(kinds))
	for k := range kinds {
		want[k] = nil
	}
	require.Equal(t, keysOf(want), keysOf(m))
	for key, kind := range kinds {
		v := m[key]
		if v == nil {
			require.Equal(t, byte('?'), kind[len(kind)-1], "%s is null", key)
			continue
		}
		var got string
		switch v.(type) {
		case json.Number:
			got = "number"
		case string:
			got = "string"
		case bool:
			got = "bool"
		case []any:
			got = "array"
		case map[string]any:
			got = "object"
		}
		require.Equal(t, kind[:len(got)], got, "%s: %v", key, v)
	}
}

// requireBasketDocument checks the keys and JSON types of a basket document and its parts.
func requireBasketDocument(t *testing.T, doc bffDoc) {
	t.Helper()
	kinds := map[string]string{
		"basket_id": "number?", "currency": "string?", "is_free_basket": "bool", "enable_stripe_payment_processor": "bool",
		"show_coupon_form": "bool", "summary_price": "number", "summary_discounts": "number", "order_total": "number",
		"products": "array", "offers": "array", "coupons": "array", "messages": "array",
	}
	if _, ok := doc["summary_quantity"]; ok {
		kinds["summary_quantity"], kinds["summary_subtotal"] = "number", "number"
	}
	requireKinds(t, doc, kinds)
	for _, p := range doc["products"].([]any) {
		requireKinds(t, p.(map[string]any), map[string]string{"course_key": "string?", "sku": "string", "title": "string",
			"product_type": "string", "certificate_type": "string?", "image_url": "string?", "subject": "string?"})
	}
	for _, o := range doc["offers"].([]any) {
		requireKinds(t, o.(map[string]any), map[string]string{"provider": "string?", "name": "string", "benefit_type": "string", "benefit_value": "number"})
	}
	for _, c := range doc["coupons"].([]any) {
		requireKinds(t, c.(map[string]any), map[string]string{"id": "number", "code": "string", "benefit_type": "string?", "benefit_value": "number?"})
	}
	for _, m := range doc["messages"].([]any) {
		m := m.(map[string]any)
		require.Contains(t, []any{"debug", "info", "success", "warning", "error"}, m["message_type"])
		if _, coded := m["code"]; coded {
			require.NotContains(t, m, "user_message")
		} else {
			requireKinds(t, m, map[string]string{"message_type": "string", "user_message": "string"})
		}
	}
}

// requireMoney checks the numbers of a document's summary, digit for digit.
func requireMoney(t *testing.T, doc bffDoc, price, discounts, total string) {
	t.Helper()
	require.Equal(t, json.Number(price), doc["summary_price"])
	require.Equal(t, json.Number(discounts), doc["summary_discounts"])
	require.Equal(t, json.Number(total), doc["order_total"])
}

// requireMessages checks a document's messages: type and text (or code) of each, in order.
func requireMessages(t *testing.T, doc bffDoc, want ...string) {
	t.Helper()
	var got []string
	for _, m := range doc["messages"].([]any) {
		m := m.(map[string]any)
		text, _ := m["user_message"].(string)
		if code, ok := m["code"].(string); ok {
			text = code
		}
		got = append(got, m["message_type"].(string)+": "+text)
	}
	require.Equal(t, want, got)
}

// basketAddPath is /basket/add/ for the SKUs and a code ("" for none).
func basketAddPath(code string, skus ...string) string {
	q := url.Values{"sku": skus}
	if code != "" {
		q.Set("code", code)
	}
	return "/basket/add/?" + q.Encode()
}

func TestPaymentPageSequence(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, testPaymentPage)
	c := k.course(t, "Bff", "49.00")
	_, code := k.couponCode(t, c.stockRecord, nil)
	voucherID := int64(k.voucher(t, code)["id"].(float64))
	_, other := k.couponCode(t, k.course(t, "BffOther", "10.00").stockRecord, nil)
	tok := k.token(dbtest.Unique("bff-"), false)

	t.Run("NoBasketIsAnEmptyDocument", func(t *testing.T) {
		doc := k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK)
		require.Nil(t, doc["basket_id"])
		require.Nil(t, doc["currency"])
		require.Equal(t, []any{}, doc["products"])
		require.Equal(t, true, doc["is_free_basket"])
		require.Equal(t, false, doc["show_coupon_form"])
		requireMoney(t, doc, "0.0", "0.0", "0.0")
		requireMessages(t, doc)
	})
	t.Run("BasketAddWithARefusedCodeChangesNothing", func(t *testing.T) {
		rec := k.navigate(basketAddPath(other, c.sku), tok)
		require.Equal(t, http.StatusBadRequest, rec.Code)
		require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
		require.Contains(t, rec.Body.String(), fmt.Sprintf("Coupon code &#39;%s&#39; is not valid for this basket.", other))
		require.Equal(t, []any{}, k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK)["products"])
	})
	t.Run("BasketAddWithAGoodCodeGoesToThePaymentPage", func(t *testing.T) {
		rec := k.navigate(basketAddPath(code, c.sku)+"&discount_jwt=ignored", tok)
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		require.Equal(t, testPaymentPage, rec.Header().Get("Location"))
	})
	var basketID json.Number
	t.Run("PaymentShowsTheBasketWithItsCoupon", func(t *testing.T) {
		doc := k.bffCall(t, "GET", "payment/?discount_jwt=abc", tok, nil, http.StatusOK)
		basketID = doc["basket_id"].(json.Number)
		require.Equal(t, "USD", doc["currency"])
		require.Equal(t, false, doc["is_free_basket"])
		require.Equal(t, true, doc["show_coupon_form"])
		requireMoney(t, doc, "49.0", "9.8", "39.2")
		require.Equal(t, []any{map[string]any{"course_key": c.id, "sku": c.sku, "title": "Course " + c.id, "product_type": "Seat",
			"certificate_type": "verified", "image_url": nil, "subject": nil}}, doc["products"])
		require.Equal(t, []any{map[string]any{"id": json.Number(itoa(voucherID)), "code": code, "benefit_type": "Percentage",
			"benefit_value": json.Number("20.0")}}, doc["coupons"])
		require.Equal(t, []any{}, doc["offers"])
	})
	t.Run("RemoveTheCoupon", func(t *testing.T) {
		doc := k.bffCall(t, "DELETE", "vouchers/"+itoa(voucherID), tok, nil, http.StatusOK)
		requireMessages(t, doc, fmt.Sprintf("info: Coupon code '%s' was removed from your basket.", code))
		require.Equal(t, []any{}, doc["coupons"])
		requireMoney(t, doc, "49.0", "0.0", "49.0")
		doc = k.bffCall(t, "DELETE", "vouchers/"+itoa(voucherID)+"/", tok, nil, http.StatusBadRequest)
		requireMessages(t, doc, fmt.Sprintf("error: No coupon found with id '%d'", voucherID))
		require.Equal(t, basketID, doc["basket_id"])
	})
	t.Run("ABadCodeIs400WithTheWholeBasket", func(t *testing.T) {
		doc := k.bffCall(t, "POST", "vouchers/", tok, map[string]any{"code": "NOSUCHCODE1"}, http.StatusBadRequest)
		requireMessages(t, doc, "error: Coupon code 'NOSUCHCODE1' does not exist.")
		require.Equal(t, basketID, doc["basket_id"])
		require.Len(t, doc["products"], 1)
		requireMoney(t, doc, "49.0", "0.0", "49.0")
		doc = k.bffCall(t, "POST", "vouchers/", tok, map[string]any{"code": other}, http.StatusBadRequest)
		requireMessages(t, doc, fmt.Sprintf("error: Coupon code '%s' is not valid for this basket.", other))
	})
	t.Run("AGoodCodeIsApplied", func(t *testing.T) {
		doc := k.bffCall(t, "POST", "vouchers/", tok, map[string]any{"code": " " + code + " "}, http.StatusOK)
		requireMessages(t, doc, fmt.Sprintf("info: Coupon code '%s' added to basket.", code))
		requireMoney(t, doc, "49.0", "9.8", "39.2")
		require.Len(t, doc["coupons"], 1)
		require.Equal(t, code, doc["coupons"].([]any)[0].(map[string]any)["code"])
		doc = k.bffCall(t, "POST", "vouchers/", tok, map[string]any{"code": code}, http.StatusBadRequest)
		requireMessages(t, doc, fmt.Sprintf("error: You have already added coupon code '%s' to your basket.", code))
		requireMoney(t, doc, "49.0", "9.8", "39.2")
	})
	t.Run("QuantityOfASeatBasketIsRefused", func(t *testing.T) {
		doc := k.bffCall(t, "POST", "quantity/", tok, map[string]any{"quantity": 2}, http.StatusBadRequest)
		requireMessages(t, doc, "error: Only enrollment codes can be bought in quantity.")
		require.Equal(t, c.sku, doc["products"].([]any)[0].(map[string]any)["sku"])
		requireMoney(t, doc, "49.0", "9.8", "39.2")
	})
	t.Run("CaptureContextOnBothPathsWithoutRedirect", func(t *testing.T) {
		for _, path := range []string{"capture-context", "capture-context/"} {
			rec := k.do("GET", "/bff/payment/v0/"+path, tok, nil)
			require.Equal(t, http.StatusOK, rec.Code, path)
			require.JSONEq(t, `{}`, rec.Body.String(), path)
		}
	})
	t.Run("AnonymousIs401", func(t *testing.T) {
		for _, path := range []string{"payment/", "capture-context", "capture-context/"} {
			requireStatus(t, k.do("GET", "/bff/payment/v0/"+path, "", nil), http.StatusUnauthorized)
		}
		requireStatus(t, k.do("POST", "/bff/payment/v0/vouchers/", "", map[string]any{"code": code}), http.StatusUnauthorized)
	})
}

// enrollmentCodeSKU publishes a course with a verified seat at price and its enrollment code,
// and returns the course id and the enrollment code's SKU.
func (k *promoKit) enrollmentCodeSKU(t *testing.T, price string) (string, string) {
	t.Helper()
	id := dbtest.Unique("course-v1:edX+Bulk") + "+2026"
	body := seatsBody(id, "Bulk "+id, price)
	body["create_or_activate_enrollment_code"] = true
	requireStatus(t, k.do("POST", "/api/v2/publication/", k.staff, body), http.StatusCreated)
	products := requireStatus(t, k.do("GET", "/api/v2/products/?product_class=Enrollment+Code&course_id="+url.QueryEscape(id), "", nil), http.StatusOK)
	results := products["results"].([]any)
	require.Len(t, results, 1)
	sr := results[0].(map[string]any)["stockrecords"].([]any)[0].(map[string]any)
	return id, sr["partner_sku"].(string)
}

func TestPaymentPageEnrollmentCodes(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, testPaymentPage)
	course, sku := k.enrollmentCodeSKU(t, "49.00")
	tok := k.token(dbtest.Unique("bulk-"), false)
	require.Equal(t, http.StatusSeeOther, k.navigate(basketAddPath("", sku), tok).Code)

	t.Run("OneCodeShowsQuantityAndTheWarning", func(t *testing.T) {
		doc := k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK)
		require.Equal(t, false, doc["show_coupon_form"])
		require.Equal(t, json.Number("1"), doc["summary_quantity"])
		require.Equal(t, json.Number("49.0"), doc["summary_subtotal"])
		requireMoney(t, doc, "49.0", "0.0", "49.0")
		product := doc["products"].([]any)[0].(map[string]any)
		require.Equal(t, "Enrollment Code", product["product_type"])
		require.Equal(t, "verified", product["certificate_type"])
		require.Equal(t, course, product["course_key"])
		requireMessages(t, doc, "info: single-enrollment-code-warning")
		data := doc["messages"].([]any)[0].(map[string]any)["data"]
		require.Equal(t, map[string]any{"course_about_url": testLMS + "/courses/" + course + "/about"}, data)
	})
	t.Run("QuantityChangesTheTotals", func(t *testing.T) {
		doc := k.bffCall(t, "POST", "quantity/", tok, map[string]any{"quantity": 5}, http.StatusOK)
		requireMessages(t, doc, "info: quantity-update-success-message")
		require.Equal(t, json.Number("5"), doc["summary_quantity"])
		require.Equal(t, json.Number("245.0"), doc["summary_subtotal"])
		requireMoney(t, doc, "49.0", "0.0", "245.0")
		require.Equal(t, doc["basket_id"], k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK)["basket_id"], "the same basket")
	})
	t.Run("BadQuantitiesAre400AndChangeNothing", func(t *testing.T) {
		for _, q := range []any{0, -1, 10001, "many", nil} {
			doc := k.bffCall(t, "POST", "quantity/", tok, map[string]any{"quantity": q}, http.StatusBadRequest)
			requireMessages(t, doc, "error: Ensure this value is from 1 to 10000.")
			require.Equal(t, json.Number("5"), doc["summary_quantity"], "%v", q)
		}
		doc := k.bffCall(t, "POST", "quantity/", tok, map[string]any{"quantity": "3"}, http.StatusOK)
		require.Equal(t, json.Number("3"), doc["summary_quantity"])
	})
	t.Run("NoBasketHasNoQuantity", func(t *testing.T) {
		doc := k.bffCall(t, "POST", "quantity/", k.token(dbtest.Unique("bulk-none-"), false), map[string]any{"quantity": 2}, http.StatusBadRequest)
		requireMessages(t, doc, "error: Your basket is empty.")
		require.Equal(t, []any{}, doc["products"])
	})
}

func TestPaymentPageSiteOffer(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, testPaymentPage)
	c := k.course(t, "BffOffer", "19.99")
	name := dbtest.Unique("Spring sale ")
	k.createOffer(t, promoOfferBody(name, c.product))
	tok := k.token(dbtest.Unique("bff-offer-"), false)
	require.Equal(t, http.StatusSeeOther, k.navigate(basketAddPath("", c.sku), tok).Code)

	doc := k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK)
	requireMoney(t, doc, "19.99", "1.99", "18.0")
	require.Equal(t, []any{map[string]any{"provider": nil, "name": name, "benefit_type": "Percentage", "benefit_value": json.Number("10.0")}}, doc["offers"])
	require.Equal(t, []any{}, doc["coupons"], "a site offer is not a coupon")
}

// A body the page did not mean (no code, a number, a quantity that is not a number) is still
// answered with the basket document and an error message, which the page can show.
func TestPaymentPageMalformedBodiesStillCarryTheBasket(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, testPaymentPage)
	tok := k.token(dbtest.Unique("bff-bad-"), false)
	for _, body := range []any{map[string]any{}, map[string]any{"code": 5}, map[string]any{"code": "A\u0000B"}} {
		k.bffCall(t, "POST", "vouchers/", tok, body, http.StatusBadRequest)
	}
	k.bffCall(t, "POST", "quantity/", tok, map[string]any{"quantity": "many"}, http.StatusBadRequest)
}
