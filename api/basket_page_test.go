package api_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/payment/cybersource"
	"github.com/stretchr/testify/require"
)

// shopOrigin is the origin of the harness's public URL: the service's own pages post from it.
const shopOrigin = "http://shop.test"

// browser is a learner's browser on the service's own pages: the LMS's JWT cookies, the CSRF
// cookie the pages set, and the CSRF token of the last page with forms.
type browser struct {
	t       *testing.T
	handler http.Handler
	login   []*http.Cookie
	csrf    *http.Cookie
	token   string
}

// newBrowser is a browser logged in with tok ("" for none) on handler.
func newBrowser(t *testing.T, handler http.Handler, tok string) *browser {
	t.Helper()
	b := &browser{t: t, handler: handler}
	if tok != "" {
		b.login = jwtCookies(t, tok)
	}
	return b
}

// send serves r with the browser's cookies and keeps the CSRF cookie and token it is given.
func (b *browser) send(r *http.Request) *httptest.ResponseRecorder {
	b.t.Helper()
	for _, c := range b.login {
		r.AddCookie(c)
	}
	if b.csrf != nil {
		r.AddCookie(b.csrf)
	}
	rec := serveHandler(b.handler, r)
	for _, c := range rec.Result().Cookies() {
		if c.Name == api.CSRFCookieName {
			b.csrf = c
		}
	}
	if m := csrfFieldPattern.FindStringSubmatch(rec.Body.String()); m != nil {
		b.token = html.UnescapeString(m[1])
	}
	return rec
}

var csrfFieldPattern = regexp.MustCompile(`name="` + api.CSRFFormField + `" value="([^"]*)"`)

// get navigates to path.
func (b *browser) get(path string) *httptest.ResponseRecorder {
	b.t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	r.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	return b.send(r)
}

// submit posts a form of the service's pages to path, with the token of the last page.
func (b *browser) submit(path string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	form.Set(api.CSRFFormField, b.token)
	return b.post(path, form, "Origin", shopOrigin)
}

// post posts form to path as is, with extra headers.
func (b *browser) post(path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	b.t.Helper()
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return b.send(r)
}

var hiddenInputPattern = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// formFields returns the hidden fields of the form with that id in a page.
func formFields(t *testing.T, page, id string) url.Values {
	t.Helper()
	start := strings.Index(page, `<form id="`+id+`"`)
	require.GreaterOrEqual(t, start, 0, "no form %s in %s", id, page)
	end := strings.Index(page[start:], "</form>")
	require.Greater(t, end, 0)
	fields := url.Values{}
	for _, m := range hiddenInputPattern.FindAllStringSubmatch(page[start:start+end], -1) {
		fields.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return fields
}

// requireSummary checks the page's price, discounts and total, two decimals and the currency.
func requireSummary(t *testing.T, page, price, discounts, total string) {
	t.Helper()
	require.Contains(t, page, `<td class="money" id="summary-price">`+price+` USD</td>`)
	require.Contains(t, page, `<td class="money" id="summary-discounts">-`+discounts+` USD</td>`)
	require.Contains(t, page, `<td class="money" id="order-total">`+total+` USD</td>`)
}

// requireHTML checks an HTML answer's status and returns its body.
func requireHTML(t *testing.T, rec *httptest.ResponseRecorder, status int) string {
	t.Helper()
	body := rec.Body.String()
	require.Equal(t, status, rec.Code, body)
	require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	return body
}

func TestBasketPage(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, "")
	c := k.course(t, "Page", "49.00")
	_, code := k.couponCode(t, c.stockRecord, nil)
	_, other := k.couponCode(t, k.course(t, "PageOther", "10.00").stockRecord, nil)
	user := dbtest.Unique("page-")
	b := newBrowser(t, k.handler, k.token(user, false))
	basket := func() bffDoc { return k.bffCall(t, "GET", "payment/", k.token(user, false), nil, http.StatusOK) }

	t.Run("NotLoggedInGoesToTheLMSLoginAndBack", func(t *testing.T) {
		rec := newBrowser(t, k.handler, "").get("/basket/")
		require.Equal(t, http.StatusFound, rec.Code)
		require.Equal(t, testLMS+"/login?next="+url.QueryEscape("http://shop.test/basket/"), rec.Header().Get("Location"))
	})
	t.Run("NoBasketIsEmpty", func(t *testing.T) {
		page := requireHTML(t, b.get("/basket/"), http.StatusOK)
		require.Contains(t, page, "Your basket is empty.")
		require.NotContains(t, page, `id="checkout"`)
	})
	t.Run("BasketAddWithoutAPaymentPageGoesToTheBasketPage", func(t *testing.T) {
		rec := b.get(basketAddPath("", c.sku))
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		require.Equal(t, "http://shop.test/basket/", rec.Header().Get("Location"))
	})
	t.Run("ThePageListsTheBasketWithItsMoney", func(t *testing.T) {
		page := requireHTML(t, b.get("/basket/"), http.StatusOK)
		require.Contains(t, html.UnescapeString(page), "<td>Course "+c.id+"<br><small>Seat (verified)</small></td><td>1</td><td class=\"money\">49.00 USD</td>")
		requireSummary(t, page, "49.00", "0.00", "49.00")
		require.Contains(t, page, `id="coupon-form"`)
		require.Contains(t, page, `<input type="radio" name="payment_processor" value="cybersource" checked> Credit or debit card`)
		require.NotContains(t, page, "PayPal", "PayPal is not configured")
		require.Contains(t, page, "Pay 49.00 USD")
		require.NotContains(t, page, "Place order")
		require.Equal(t, fmt.Sprint(basket()["basket_id"]), formFields(t, page, "checkout").Get("basket_id"))
		require.NotEmpty(t, b.token)
		require.Equal(t, b.csrf.Value, b.token, "double submit: the page's field is the cookie")
		again := b.get("/basket/")
		require.Empty(t, again.Result().Cookies(), "a browser that has a token keeps it")
	})
	t.Run("ABadCodeShowsEdXsMessageAndChangesNothing", func(t *testing.T) {
		before := basket()
		for bad, text := range map[string]string{
			"NOSUCHCODE7": "Coupon code &#39;NOSUCHCODE7&#39; does not exist.",
			other:         "Coupon code &#39;" + other + "&#39; is not valid for this basket.",
			"  ":          "Please enter a coupon code.",
		} {
			page := requireHTML(t, b.submit("/basket/vouchers/", url.Values{"code": {bad}}), http.StatusBadRequest)
			require.Contains(t, page, `<div class="message error" role="alert">`+text+`</div>`)
			requireSummary(t, page, "49.00", "0.00", "49.00")
			require.Equal(t, before, basket())
		}
	})
	var voucherID string
	t.Run("AGoodCodeShowsTheDiscount", func(t *testing.T) {
		page := requireHTML(t, b.submit("/basket/vouchers/", url.Values{"code": {strings.ToLower(code)}}), http.StatusOK)
		require.Contains(t, page, `<div class="message info" role="status">Coupon code &#39;`+code+`&#39; added to basket.</div>`)
		requireSummary(t, page, "49.00", "9.80", "39.20")
		require.Contains(t, page, "Coupon code <strong>"+code+"</strong>: 20% off")
		require.Contains(t, page, "Pay 39.20 USD")
		voucherID = formFields(t, page, "coupon-remove").Get("voucher_id")
		require.NotEmpty(t, voucherID)
		require.NotContains(t, page, `id="coupon-form"`, "one code a basket: the applied one can be removed, no second form")
		requireMoney(t, basket(), "49.0", "9.8", "39.2")

		page = requireHTML(t, b.submit("/basket/vouchers/", url.Values{"code": {code}}), http.StatusBadRequest)
		require.Contains(t, page, "You have already added coupon code &#39;"+code+"&#39; to your basket.")
		requireSummary(t, page, "49.00", "9.80", "39.20")
	})
	t.Run("FormPostsWithoutTheCSRFTokenAre403", func(t *testing.T) {
		before := basket()
		form := func(token string) url.Values {
			v := url.Values{"code": {other}, "voucher_id": {voucherID}, "basket_id": {fmt.Sprint(before["basket_id"])}}
			if token != "" {
				v.Set(api.CSRFFormField, token)
			}
			return v
		}
		noCookie := newBrowser(t, k.handler, k.token(user, false))
		started, _, _ := k.checkouts.counts()
		for _, path := range []string{"/basket/vouchers/", "/basket/vouchers/remove/", "/basket/checkout/"} {
			for name, tc := range map[string]struct {
				b       *browser
				form    url.Values
				headers []string
				want    string
			}{
				"NoToken":         {b, form(""), []string{"Origin", shopOrigin}, "CSRF Failed: CSRF token missing."},
				"WrongToken":      {b, form(b.token + "x"), []string{"Origin", shopOrigin}, "CSRF Failed: CSRF token incorrect."},
				"NoCookie":        {noCookie, form(b.token), []string{"Origin", shopOrigin}, "CSRF Failed: CSRF cookie not set."},
				"AnotherSite":     {b, form(b.token), []string{"Origin", "http://evil.test"}, "CSRF Failed: Origin checking failed."},
				"OpaqueOrigin":    {b, form(b.token), []string{"Origin", "null"}, "CSRF Failed: Origin checking failed."},
				"NoOriginNorRef":  {b, form(b.token), nil, "CSRF Failed: Origin checking failed."},
				"AnotherReferrer": {b, form(b.token), []string{"Referer", "http://evil.test/basket/"}, "CSRF Failed: Origin checking failed."},
			} {
				t.Run(strings.Trim(path, "/")+"/"+name, func(t *testing.T) {
					body := requireStatus(t, tc.b.post(path, tc.form, tc.headers...), http.StatusForbidden)
					require.Equal(t, tc.want, body["detail"])
				})
			}
		}
		require.Equal(t, before, basket(), "nothing changed")
		now, _, _ := k.checkouts.counts()
		require.Equal(t, started, now, "no checkout started")
		t.Run("TheReferrerStandsInForAMissingOrigin", func(t *testing.T) {
			page := requireHTML(t, b.post("/basket/vouchers/", form(b.token), "Referer", shopOrigin+"/basket/"), http.StatusBadRequest)
			require.Contains(t, page, "is not valid for this basket.", "the token was accepted and the code checked")
		})
	})
	t.Run("Removal", func(t *testing.T) {
		page := requireHTML(t, b.submit("/basket/vouchers/remove/", url.Values{"voucher_id": {voucherID}}), http.StatusOK)
		require.Contains(t, page, "Coupon code &#39;"+code+"&#39; was removed from your basket.")
		requireSummary(t, page, "49.00", "0.00", "49.00")
		require.NotContains(t, page, `id="coupon"`)
		page = requireHTML(t, b.submit("/basket/vouchers/remove/", url.Values{"voucher_id": {voucherID}}), http.StatusBadRequest)
		require.Contains(t, page, "No coupon found with id &#39;"+voucherID+"&#39;")
		requireMoney(t, basket(), "49.0", "0.0", "49.0")
	})
	t.Run("NotLoggedInFormPostsGoToTheBasketPage", func(t *testing.T) {
		anon := newBrowser(t, k.handler, "")
		rec := anon.post("/basket/vouchers/", url.Values{"code": {code}}, "Origin", shopOrigin)
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		require.Equal(t, "http://shop.test/basket/", rec.Header().Get("Location"))
	})
}

// requireSignedForm checks a page that posts CyberSource's signed fields to its payment page
// at once, and returns the fields.
func requireSignedForm(t *testing.T, page string) url.Values {
	t.Helper()
	require.Contains(t, page, `<form id="payment-form" method="post" action="http://pay.test/pay">`)
	require.Contains(t, page, `document.getElementById("payment-form").submit()`)
	fields := formFields(t, page, "payment-form")
	flat := map[string]string{}
	for name := range fields {
		flat[name] = fields.Get(name)
	}
	require.NotEmpty(t, flat["signature"])
	require.Equal(t, cybersource.SignFields(flat, testProfile.SecretKey), flat["signature"], "the fields are the signed ones, intact")
	for _, name := range strings.Split(flat["signed_field_names"], ",") {
		require.Contains(t, flat, name)
	}
	return fields
}

func TestBasketPageCheckoutWithCyberSource(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, "")
	c := k.course(t, "PageCS", "49.00")
	_, code := k.couponCode(t, c.stockRecord, nil)
	b := newBrowser(t, k.handler, k.token(dbtest.Unique("page-cs-"), false))
	require.Equal(t, http.StatusSeeOther, b.get(basketAddPath(code, c.sku)).Code)
	page := requireHTML(t, b.get("/basket/"), http.StatusOK)
	form := formFields(t, page, "checkout")
	form.Set("payment_processor", "cybersource")
	id := form.Get("basket_id")
	started, _, _ := k.checkouts.counts()

	fields := requireSignedForm(t, requireHTML(t, b.submit("/basket/checkout/", form), http.StatusOK))
	number := commerce.OrderNumber("EDX", mustInt(t, id))
	require.Equal(t, "39.20", fields.Get("amount"))
	require.Equal(t, "USD", fields.Get("currency"))
	require.Equal(t, number, fields.Get("reference_number"))
	require.Equal(t, "http://shop.test/payment/cybersource/redirect/", fields.Get("override_custom_receipt_page"))
	require.Equal(t, "Frozen", k.basketStatus(mustInt(t, id)))
	now, _, _ := k.checkouts.counts()
	require.Equal(t, started+1, now)
	require.Equal(t, number, k.checkouts.lastStarted())

	t.Run("PressingPayAgainAnswersTheSameForm", func(t *testing.T) {
		again := requireSignedForm(t, requireHTML(t, b.submit("/basket/checkout/", form), http.StatusOK))
		require.Equal(t, fields, again)
	})
	t.Run("TheFrozenBasketIsNoLongerOnThePage", func(t *testing.T) {
		require.Contains(t, requireHTML(t, b.get("/basket/"), http.StatusOK), "Your basket is empty.")
	})
	t.Run("AnotherLearnersBasketIsNotFound", func(t *testing.T) {
		thief := newBrowser(t, k.handler, k.token(dbtest.Unique("page-thief-"), false))
		thief.get("/basket/") // an empty basket: no form, but the CSRF cookie
		thief.token = thief.csrf.Value
		page := requireHTML(t, thief.submit("/basket/checkout/", form), http.StatusBadRequest)
		require.Contains(t, page, "We couldn&#39;t find your basket.")
	})
	t.Run("AnUnknownProcessorIsRefused", func(t *testing.T) {
		bad := url.Values{"basket_id": {id}, "payment_processor": {"bitcoin"}}
		page := requireHTML(t, b.submit("/basket/checkout/", bad), http.StatusBadRequest)
		require.Contains(t, page, "We don&#39;t support the payment option you selected.")
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}

// fakePayPal creates PayPal payments whose approval page is on paypal.test.
type fakePayPal struct{}

func (fakePayPal) Name() string { return "paypal" }

func (fakePayPal) CreatePayment(_ context.Context, c commerce.Checkout, _, _ string) (commerce.PaymentData, error) {
	return commerce.PaymentData{Processor: "paypal", PaymentPageURL: "https://paypal.test/checkoutnow?token=PP-" + c.OrderNumber,
		FormData: map[string]string{}}, nil
}

func (fakePayPal) LookUp(context.Context, string) (string, bool, error) { return "", true, nil }

func (fakePayPal) CompleteAll(context.Context, string, commerce.Checkout) ([]commerce.PaymentNotification, error) {
	return nil, nil
}

func TestBasketPageCheckoutWithPayPal(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, "")
	k.handler = k.withConfig(func(cfg *api.Config) { cfg.LMSURL, cfg.PayPal = testLMS, fakePayPal{} })
	c := k.course(t, "PagePP", "30.00")
	b := newBrowser(t, k.handler, k.token(dbtest.Unique("page-pp-"), false))
	require.Equal(t, http.StatusSeeOther, b.get(basketAddPath("", c.sku)).Code)
	page := requireHTML(t, b.get("/basket/"), http.StatusOK)
	require.Contains(t, page, `value="cybersource" checked> Credit or debit card`)
	require.Contains(t, page, `value="paypal"> PayPal`)
	form := formFields(t, page, "checkout")
	form.Set("payment_processor", "paypal")

	rec := b.submit("/basket/checkout/", form)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	number := commerce.OrderNumber("EDX", mustInt(t, form.Get("basket_id")))
	require.Equal(t, "https://paypal.test/checkoutnow?token=PP-"+number, rec.Header().Get("Location"))
	require.Equal(t, "Frozen", k.basketStatus(mustInt(t, form.Get("basket_id"))))
	require.Equal(t, number, k.checkouts.lastStarted())

	t.Run("TheBasketIsPaidWithPayPalOnly", func(t *testing.T) {
		form.Set("payment_processor", "cybersource")
		page := requireHTML(t, b.submit("/basket/checkout/", form), http.StatusConflict)
		require.Contains(t, page, "This basket is already being paid for.")
	})
}

func TestBasketPageOfAFreeBasket(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, "")
	c := k.course(t, "PageFree", "49.00")
	b := newBrowser(t, k.handler, k.token(dbtest.Unique("page-free-"), false))
	require.Equal(t, http.StatusSeeOther, b.get(basketAddPath("", c.auditSKU)).Code)
	page := requireHTML(t, b.get("/basket/"), http.StatusOK)
	requireSummary(t, page, "0.00", "0.00", "0.00")
	require.Contains(t, page, `<form id="place-order" method="get" action="http://shop.test/checkout/free-checkout/">`)
	require.Contains(t, page, "Place order")
	require.NotContains(t, page, `id="checkout"`)
	require.NotContains(t, page, "Pay ")

	rec := b.get("/checkout/free-checkout/")
	require.Equal(t, http.StatusFound, rec.Code, rec.Body.String())
	require.Contains(t, rec.Header().Get("Location"), "/checkout/receipt/?order_number=")
}

func TestBasketPageWithoutCheckoutHasNoPayButton(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, "")
	k.handler = k.withConfig(func(cfg *api.Config) { cfg.LMSURL, cfg.Checkouts = testLMS, nil })
	c := k.course(t, "PageOff", "49.00")
	b := newBrowser(t, k.handler, k.token(dbtest.Unique("page-off-"), false))
	require.Equal(t, http.StatusSeeOther, b.get(basketAddPath("", c.sku)).Code)
	page := requireHTML(t, b.get("/basket/"), http.StatusOK)
	require.Contains(t, page, "Payment is not available right now")
	require.NotContains(t, page, `id="checkout"`)
}

func TestBasketPageOfEnrollmentCodes(t *testing.T) {
	t.Parallel()
	k := newShopKit(t, "")
	course, sku := k.enrollmentCodeSKU(t, "49.00")
	b := newBrowser(t, k.handler, k.token(dbtest.Unique("page-bulk-"), false))
	require.Equal(t, http.StatusSeeOther, b.get(basketAddPath("", sku)).Code)
	page := requireHTML(t, b.get("/basket/"), http.StatusOK)
	require.Contains(t, page, `<td colspan="2">Price per code</td><td class="money" id="summary-price">49.00 USD</td>`)
	require.Contains(t, page, `<td class="money" id="summary-quantity">1</td>`)
	require.Contains(t, html.UnescapeString(page), `<a href="`+testLMS+`/courses/`+course+`/about">Go to the course</a>`)
	require.NotContains(t, page, `id="coupon-form"`, "no coupons on enrollment codes")
	require.Contains(t, page, "Pay 49.00 USD")
}
