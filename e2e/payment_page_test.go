package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/stretchr/testify/require"
)

// paymentPageOrigin is where edX's payment page would be served from.
const paymentPageOrigin = "http://127.0.0.1:1998"

// browser is a client shaped like edX's payment page in a browser: the LMS's JWT cookies in a
// jar, an Origin, preflights before credentialed XHRs, and the CSRF token on mutations.
type browser struct {
	t    *testing.T
	s    *stack
	jar  *cookiejar.Jar
	http *http.Client
	csrf string
}

func newBrowser(t *testing.T, s *stack, user string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tok := s.token(user, false)
	i := strings.LastIndexByte(tok, '.')
	u, err := url.Parse(s.apiURL)
	require.NoError(t, err)
	jar.SetCookies(u, []*http.Cookie{
		{Name: "edx-jwt-cookie-header-payload", Value: tok[:i], Path: "/"},
		{Name: "edx-jwt-cookie-signature", Value: tok[i+1:], Path: "/", HttpOnly: true},
	})
	return &browser{t: t, s: s, jar: jar, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// preflight sends the CORS preflight a browser sends before a credentialed XHR.
func (b *browser) preflight(method, path string) {
	b.t.Helper()
	req, err := http.NewRequest("OPTIONS", b.s.apiURL+path, nil)
	require.NoError(b.t, err)
	req.Header.Set("Origin", paymentPageOrigin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", "use-jwt-cookie,x-csrftoken,content-type")
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	resp.Body.Close()
	require.True(b.t, resp.StatusCode/100 == 2, "preflight %s %s: %d", method, path, resp.StatusCode)
	require.Equal(b.t, paymentPageOrigin, resp.Header.Get("Access-Control-Allow-Origin"), path)
	require.Equal(b.t, "true", resp.Header.Get("Access-Control-Allow-Credentials"), path)
	require.Contains(b.t, strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "x-csrftoken", path)
}

// xhr sends a credentialed XHR (after its preflight) and decodes the JSON answer.
func (b *browser) xhr(method, path string, body any, csrf bool) (int, map[string]any) {
	b.t.Helper()
	b.preflight(method, path)
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(b.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.s.apiURL+path, r)
	require.NoError(b.t, err)
	req.Header.Set("Origin", paymentPageOrigin)
	req.Header.Set("USE-JWT-COOKIE", "true")
	req.Header.Set("Content-Type", "application/json")
	if csrf {
		req.Header.Set("X-CSRFToken", b.csrf)
	}
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	require.Equal(b.t, paymentPageOrigin, resp.Header.Get("Access-Control-Allow-Origin"), path)
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		require.NoError(b.t, json.Unmarshal(raw, &out), string(raw))
	}
	return resp.StatusCode, out
}

// navigate follows a link (no headers, cookies only) and returns the answer.
func (b *browser) navigate(target string) *http.Response {
	b.t.Helper()
	req, err := http.NewRequest("GET", target, nil)
	require.NoError(b.t, err)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	resp.Body.Close()
	return resp
}

// The payment page's whole journey, as the page drives it: load the (empty) basket, arrive by
// /basket/add/, apply a bad and a good code and remove it, pay with PayPal (the return hit twice
// at once: one order), another basket cancelled at PayPal, a free checkout; mutations without the
// CSRF token are 403.
func TestPaymentPageJourney(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("50.00")
	_, code := s.couponFor(sku)
	b := newBrowser(t, s, "mfe-learner")

	status, doc := b.xhr("GET", "/bff/payment/v0/payment/", nil, false)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []any{}, doc["products"])
	status, doc = b.xhr("GET", "/bff/payment/v0/capture-context", nil, false)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{}, doc)
	status, doc = b.xhr("GET", "/csrf/api/v1/token", nil, false)
	require.Equal(t, http.StatusOK, status)
	b.csrf, _ = doc["csrfToken"].(string)
	require.NotEmpty(t, b.csrf)

	resp := b.navigate(s.apiURL + "/basket/add/?sku=" + sku)
	require.True(t, resp.StatusCode/100 == 2 || resp.StatusCode/100 == 3, "basket/add: %d", resp.StatusCode)
	status, doc = b.xhr("GET", "/bff/payment/v0/payment/", nil, false)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 50.0, doc["order_total"])

	status, _ = b.xhr("POST", "/bff/payment/v0/vouchers/", map[string]any{"code": code}, false)
	require.Equal(t, http.StatusForbidden, status, "a cookie mutation without the CSRF token")
	status, doc = b.xhr("POST", "/bff/payment/v0/vouchers/", map[string]any{"code": "NOSUCHCODE"}, true)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, 50.0, doc["order_total"], "a 400 still carries the basket")
	status, doc = b.xhr("POST", "/bff/payment/v0/vouchers/", map[string]any{"code": code}, true)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 40.0, doc["order_total"])
	coupons := doc["coupons"].([]any)
	require.Len(t, coupons, 1)
	voucherID := int64(coupons[0].(map[string]any)["id"].(float64))
	status, doc = b.xhr("DELETE", fmt.Sprintf("/bff/payment/v0/vouchers/%d", voucherID), nil, true)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 50.0, doc["order_total"])
	basketID := int64(doc["basket_id"].(float64))

	status, _ = b.xhr("POST", "/api/v2/checkout/", map[string]any{"basket_id": basketID, "payment_processor": "paypal"}, false)
	require.Equal(t, http.StatusForbidden, status)
	status, doc = b.xhr("POST", "/api/v2/checkout/", map[string]any{"basket_id": basketID, "payment_processor": "paypal"}, true)
	require.Equal(t, http.StatusOK, status, doc)
	id := paypalToken(t, doc["payment_page_url"].(string))
	back, err := s.pp.Approve(id)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { b.navigate(back) })
	}
	wg.Wait()
	number := commerce.OrderNumber(s.partner, basketID)
	s.waitForOrder("mfe-learner", number, "Complete")
	require.Equal(t, 1, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
	require.Len(t, s.pp.Captures(), 1)

	// A second purchase cancelled at PayPal: the basket comes back.
	_, other := s.publishSeat("20.00")
	b.navigate(s.apiURL + "/basket/add/?sku=" + other)
	_, doc = b.xhr("GET", "/bff/payment/v0/payment/", nil, false)
	second := int64(doc["basket_id"].(float64))
	_, doc = b.xhr("POST", "/api/v2/checkout/", map[string]any{"basket_id": second, "payment_processor": "paypal"}, true)
	cancel, err := s.pp.Cancel(paypalToken(t, doc["payment_page_url"].(string)))
	require.NoError(t, err)
	require.Contains(t, b.navigate(cancel).Header.Get("Location"), "/checkout/cancel-checkout/")
	st := s.waitForState(commerce.OrderNumber(s.partner, second), commerce.CheckoutPaymentDeclined)
	require.NotZero(t, st.NewBasketID)

	// A free seat, checked out by the page's link.
	_, free := s.publishSeat("0.00")
	fb := newBrowser(t, s, "mfe-free")
	fb.navigate(s.apiURL + "/basket/add/?sku=" + free)
	resp = fb.navigate(s.apiURL + "/checkout/free-checkout/")
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.Contains(t, loc, "/checkout/receipt/?order_number=")
	freeNumber := strings.TrimPrefix(loc[strings.Index(loc, "order_number="):], "order_number=")
	s.waitForOrder("mfe-free", freeNumber, "Complete")
}

// couponFor creates (as staff) a one-code 20% coupon for a seat and returns its id and code.
func (s *stack) couponFor(sku string) (int64, string) {
	s.t.Helper()
	return s.coupon(sku, "Multi-use", "20.00")
}

// coupon creates (as staff) a one-code percentage coupon for a seat, of the voucher type
// ("Single use", "Multi-use", ...) and percentage given, and returns its id and code.
func (s *stack) coupon(sku, voucherType, percent string) (int64, string) {
	s.t.Helper()
	staff := s.token("e2e-staff", true)
	var rec struct {
		ID int64 `json:"id"`
	}
	require.Equal(s.t, http.StatusOK, s.call("GET", "/api/v2/stockrecords/"+sku+"/", "", nil, &rec))
	now := time.Now().UTC()
	var created struct {
		CouponID int64 `json:"coupon_id"`
	}
	require.Equal(s.t, http.StatusCreated, s.call("POST", "/api/v2/coupons/", staff, map[string]any{
		"title": "E2E coupon " + randomHex(3), "category": map[string]any{"name": "Affiliate"}, "stock_record_ids": []int64{rec.ID},
		"start_datetime": now.Add(-time.Hour).Format(time.RFC3339), "end_datetime": now.Add(24 * time.Hour).Format(time.RFC3339),
		"benefit_type": "Percentage", "benefit_value": percent, "voucher_type": voucherType, "quantity": 1,
	}, &created))
	var codes struct {
		Results []struct {
			Code string `json:"code"`
		} `json:"results"`
	}
	require.Equal(s.t, http.StatusOK, s.call("GET", fmt.Sprintf("/api/v2/coupons/%d/codes/", created.CouponID), staff, nil, &codes))
	require.NotEmpty(s.t, codes.Results)
	return created.CouponID, codes.Results[0].Code
}
