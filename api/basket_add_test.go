package api_test

import (
	"github.com/coursecommerce/commerce/auth"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// requirePage checks an HTML answer with status that says text (HTML-escaped).
func requirePage(t *testing.T, rec interface {
	Result() *http.Response
}, status int, body, text string) {
	t.Helper()
	res := rec.Result()
	require.Equal(t, status, res.StatusCode, body)
	require.Contains(t, res.Header.Get("Content-Type"), "text/html")
	require.Contains(t, body, text)
}

func TestBasketAdd(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, testPaymentPage)
	a, b, c := k.course(t, "AddA", "49.00"), k.course(t, "AddB", "30.00"), k.course(t, "AddC", "20.00")
	_, code := k.couponCode(t, a.stockRecord, nil)
	expired := k.expiredSeat()

	t.Run("NotLoggedInGoesToTheLMSLoginAndBack", func(t *testing.T) {
		path := basketAddPath(code, a.sku)
		rec := k.navigate(path, "")
		require.Equal(t, http.StatusFound, rec.Code)
		require.Equal(t, testLMS+"/login?next="+url.QueryEscape("http://shop.test"+path), rec.Header().Get("Location"))
	})

	user := dbtest.Unique("adder-")
	tok := k.token(user, false)
	id, _ := k.basketFor(user, b.sku)
	k.placeOrderDirectly(id) // the learner owns seat b
	rec := k.navigate(basketAddPath(code, a.sku, c.sku), tok)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	before := k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK)
	require.Len(t, before["products"], 2)
	require.Len(t, before["coupons"], 1)
	requireMoney(t, before, "69.0", "9.8", "59.2")

	t.Run("RefusalsAre400PagesAndLeaveTheBasketAsItWas", func(t *testing.T) {
		cases := map[string]struct{ path, text string }{
			"UnknownSKU":    {basketAddPath("", a.sku, "NOSUCHSKU"), "We couldn&#39;t find one of the products you&#39;re looking for."},
			"OnlyBought":    {basketAddPath("", b.sku), "You have already purchased these products."},
			"Unavailable":   {basketAddPath("", expired), "One of the products you&#39;re trying to order is unavailable."},
			"NoSKU":         {"/basket/add/?sku=&code=" + code, "No SKUs provided."},
			"UnknownCode":   {basketAddPath("NOSUCHCODE2", c.sku), "Coupon code &#39;NOSUCHCODE2&#39; does not exist."},
			"CodeNotForSKU": {basketAddPath(code, c.sku), "Coupon code &#39;" + code + "&#39; is not valid for this basket."},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				rec := k.navigate(tc.path, tok)
				requirePage(t, rec, http.StatusBadRequest, rec.Body.String(), tc.text)
				require.Equal(t, before, k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK))
			})
		}
	})
	t.Run("AClientAskingForJSONGetsTheJSONError", func(t *testing.T) {
		body := requireStatus(t, k.getAccepting(basketAddPath("", b.sku), tok, "application/json, text/plain, */*"), http.StatusBadRequest)
		require.Equal(t, "You have already purchased these products.", body["user_message"])
		require.Equal(t, before, k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK))
	})
	t.Run("ABoughtSeatAmongOthersIsLeftOut", func(t *testing.T) {
		require.Equal(t, http.StatusSeeOther, k.navigate(basketAddPath("", b.sku, c.sku), tok).Code)
		doc := k.bffCall(t, "GET", "payment/", tok, nil, http.StatusOK)
		require.Len(t, doc["products"], 1)
		require.Equal(t, c.sku, doc["products"].([]any)[0].(map[string]any)["sku"])
		require.Equal(t, before["basket_id"], doc["basket_id"], "the open basket is replaced in place")
	})
}

func TestBasketAddWithoutAPaymentPageGoesToTheBasketPage(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, "")
	c := k.course(t, "AddPage", "12.50")
	b := newBrowser(t, k.handler, k.token(dbtest.Unique("add-page-"), false))
	rec := b.get(basketAddPath("", c.sku))
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.Equal(t, "http://shop.test/basket/", rec.Header().Get("Location"))
	requireSummary(t, requireHTML(t, b.get("/basket/"), http.StatusOK), "12.50", "0.00", "12.50")
}

// A learner arriving from an LMS link with expired JWT cookies is sent to the LMS login (which
// refreshes them) rather than getting a JSON 401; an API call with them is still 401.
func TestExpiredCookiesOnANavigationGoToTheLogin(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, testPaymentPage)
	a := k.course(t, "Expired", "49.00")
	tok, err := auth.Mint(testSecret, auth.TokenOptions{Username: dbtest.Unique("stale-"), Issuer: testIssuer,
		Now: time.Now().Add(-2 * time.Hour), TTL: time.Hour})
	require.NoError(t, err)
	i := strings.LastIndexByte(tok, '.')
	send := func(accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", basketAddPath("", a.sku), nil)
		req.Header.Set("Accept", accept)
		req.AddCookie(&http.Cookie{Name: "edx-jwt-cookie-header-payload", Value: tok[:i]})
		req.AddCookie(&http.Cookie{Name: "edx-jwt-cookie-signature", Value: tok[i+1:]})
		rec := httptest.NewRecorder()
		k.handler.ServeHTTP(rec, req)
		return rec
	}
	rec := send("text/html,application/xhtml+xml,*/*;q=0.8")
	require.Equal(t, http.StatusFound, rec.Code, rec.Body.String())
	require.True(t, strings.HasPrefix(rec.Header().Get("Location"), testLMS+"/login?next="), rec.Header().Get("Location"))
	require.Equal(t, http.StatusUnauthorized, send("application/json").Code)
}
