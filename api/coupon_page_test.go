package api_test

import (
	"html"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

func TestCouponOfferPage(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, "")
	a, other := k.course(t, "OfferA", "49.00"), k.course(t, "OfferB", "30.00")
	_, code := k.couponCode(t, a.stockRecord, nil)
	_, future := k.couponCode(t, a.stockRecord, map[string]any{"start_datetime": promoTime(time.Hour)})
	_, absolute := k.couponCode(t, other.stockRecord, map[string]any{"benefit_type": "Absolute", "benefit_value": "12.50"})
	tok := k.token(dbtest.Unique("offer-"), false)
	b := newBrowser(t, k.handler, tok)

	t.Run("NotLoggedInGoesToTheLMSLoginAndBack", func(t *testing.T) {
		path := "/coupons/offer/?code=" + code
		rec := newBrowser(t, k.handler, "").get(path)
		require.Equal(t, http.StatusFound, rec.Code)
		require.Equal(t, testLMS+"/login?next="+url.QueryEscape("http://shop.test"+path), rec.Header().Get("Location"))
	})
	t.Run("TheRedeemURLShowsTheSeatsAndTheBenefit", func(t *testing.T) {
		vouchers := requireStatus(t, k.do("GET", "/api/v2/vouchers/?code="+code, k.staff, nil), http.StatusOK)
		redeem, err := url.Parse(vouchers["results"].([]any)[0].(map[string]any)["redeem_url"].(string))
		require.NoError(t, err)
		require.Equal(t, "shop.test", redeem.Host)
		page := requireHTML(t, b.get(redeem.RequestURI()), http.StatusOK)
		require.Contains(t, page, "<h1>Coupon code "+code+"</h1>")
		require.Contains(t, page, "Valid until ")
		text := html.UnescapeString(page)
		require.Contains(t, text, "<td>Course "+a.id+"<br><small>Seat (verified)</small></td><td>20% off</td><td class=\"money\">49.00 USD</td>")
		require.NotContains(t, text, other.id)
		require.Contains(t, page, `<form method="get" action="http://shop.test/basket/add/"><input type="hidden" name="sku" value="`+a.sku+`"><input type="hidden" name="code" value="`+code+`"><button type="submit">Add to basket</button></form>`)
	})
	t.Run("TheButtonPutsTheSeatWithTheCodeInTheBasket", func(t *testing.T) {
		rec := b.get(basketAddPath(code, a.sku))
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		require.Equal(t, "http://shop.test/basket/", rec.Header().Get("Location"))
		page := requireHTML(t, b.get("/basket/"), http.StatusOK)
		requireSummary(t, page, "49.00", "9.80", "39.20")
		require.Contains(t, page, "Coupon code <strong>"+code+"</strong>: 20% off")
	})
	t.Run("AnAbsoluteBenefitIsMoney", func(t *testing.T) {
		page := requireHTML(t, b.get("/coupons/offer/?code="+absolute), http.StatusOK)
		require.Contains(t, page, "<td>12.50 USD off</td><td class=\"money\">30.00 USD</td>")
	})
	t.Run("ACodeTheLearnerCannotUseIsA400WithItsMessage", func(t *testing.T) {
		for query, text := range map[string]string{
			"NOSUCHCODE9": "Coupon code &#39;NOSUCHCODE9&#39; does not exist.",
			"bad code!":   "Coupon code &#39;bad code!&#39; does not exist.",
			future:        "Coupon code &#39;" + future + "&#39; is not active.",
			"":            "A coupon code is required.",
		} {
			page := requireHTML(t, b.get("/coupons/offer/?code="+url.QueryEscape(query)), http.StatusBadRequest)
			require.Contains(t, page, text)
			require.NotContains(t, page, "Add to basket")
		}
	})
}
