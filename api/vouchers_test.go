package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// promoPlaceOrder places the order of a frozen basket through the store with an accepted payment
// of its total, as the checkout workflow does, and returns the order number.
func promoPlaceOrder(t *testing.T, k *promoKit, basketID int64) string {
	t.Helper()
	number := commerce.OrderNumber("EDX", basketID)
	co, _, err := k.store.CheckoutByOrderNumber(context.Background(), number)
	require.NoError(t, err)
	_, created, err := k.store.PlaceOrder(context.Background(), co, &commerce.Payment{
		Processor: "cybersource", TransactionID: "T-" + number, Amount: co.Total, Currency: co.Currency, CardType: "visa", Label: "Visa 1111",
	})
	require.NoError(t, err)
	require.True(t, created)
	return number
}

// voucher reads a voucher through GET /api/v2/vouchers/?code=.
func (k *promoKit) voucher(t *testing.T, code string) map[string]any {
	t.Helper()
	body := requireStatus(t, k.do("GET", "/api/v2/vouchers/?code="+code, k.staff, nil), http.StatusOK)
	require.Equal(t, float64(1), body["count"], code)
	return body["results"].([]any)[0].(map[string]any)
}

func TestBasketVouchers(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchApply", "49.00")
	_, pct := k.couponCode(t, c.stockRecord, nil)
	absID, abs := k.couponCode(t, c.stockRecord, map[string]any{"benefit_type": "Absolute", "benefit_value": "10.00", "voucher_type": "Once per customer"})
	user := dbtest.Unique("vch-apply-")
	id, tok := k.basketFor(user, c.sku)
	path := fmt.Sprintf("/api/v2/baskets/%d/vouchers/", id)

	t.Run("ApplyShowsVoucherDiscountAndTotal", func(t *testing.T) {
		body := requireStatus(t, k.addCode(id, tok, strings.ToLower(pct)), http.StatusOK)
		require.Equal(t, float64(id), body["id"])
		voucher := body["voucher"].(map[string]any)
		require.Equal(t, pct, voucher["code"])
		require.Equal(t, "Multi-use", voucher["usage"])
		require.Equal(t, "49.00", body["total_incl_tax_excl_discounts"])
		require.Equal(t, "9.80", body["total_discount"])
		require.Equal(t, "39.20", body["total_incl_tax"])
		line := body["lines"].([]any)[0].(map[string]any)
		require.Equal(t, "49.00", line["line_price_incl_tax_excl_discounts"])
		require.Equal(t, "9.80", line["discount"])
		require.Equal(t, "39.20", line["line_price_incl_tax"])
		offers := body["offers"].([]any)
		require.Len(t, offers, 1)
		offer := offers[0].(map[string]any)
		require.Equal(t, "Voucher", offer["offer_type"])
		require.Equal(t, pct, offer["voucher_code"])
		require.Equal(t, "Percentage", offer["benefit_type"])
		require.Equal(t, "20.00", offer["benefit_value"])
		require.Equal(t, float64(1), offer["frequency"])
		require.Equal(t, "9.80", offer["amount"])
		require.Regexp(t, `^Coupon \[\d+\]-Percentage-20`, offer["name"])
		require.Equal(t, body, k.basket(t, id, tok), "the basket view shows the same")
		require.Equal(t, float64(1), k.voucher(t, pct)["num_basket_additions"])
	})

	t.Run("SameCodeAgain", func(t *testing.T) {
		for _, code := range []string{pct, strings.ToLower(pct)} {
			requirePromoError(t, k.addCode(id, tok, code), "You have already added coupon code '"+pct+"' to your basket.")
		}
		require.Equal(t, float64(1), k.voucher(t, pct)["num_basket_additions"], "a refused addition is not counted")
	})

	t.Run("NewCodeReplacesTheOld", func(t *testing.T) {
		body := requireStatus(t, k.addCode(id, tok, abs), http.StatusOK)
		require.Equal(t, abs, body["voucher"].(map[string]any)["code"])
		require.Equal(t, "10.00", body["total_discount"])
		require.Equal(t, "39.00", body["total_incl_tax"])
		require.Len(t, body["offers"], 1)
		require.Equal(t, abs, body["offers"].([]any)[0].(map[string]any)["voucher_code"])
		require.Equal(t, "Once per customer", body["voucher"].(map[string]any)["usage"])
		require.Equal(t, k.coupon(t, absID)["title"], body["voucher"].(map[string]any)["name"])
	})

	t.Run("OthersCannotTouchIt", func(t *testing.T) {
		snoop := k.token(dbtest.Unique("vch-snoop-"), false)
		requireStatus(t, k.do("POST", path, snoop, map[string]any{"code": pct}), http.StatusNotFound)
		requireStatus(t, k.do("DELETE", path+abs, snoop, nil), http.StatusNotFound)
		requireStatus(t, k.do("POST", path, "", map[string]any{"code": pct}), http.StatusUnauthorized)
		requireStatus(t, k.do("DELETE", path+abs, "", nil), http.StatusUnauthorized)
		requireStatus(t, k.do("POST", "/api/v2/baskets/987654321/vouchers/", tok, map[string]any{"code": pct}), http.StatusNotFound)
		require.Equal(t, abs, k.basket(t, id, tok)["voucher"].(map[string]any)["code"])
	})

	t.Run("BadBodies", func(t *testing.T) {
		for _, body := range []any{map[string]any{}, map[string]any{"code": "  "}} {
			got := requireStatus(t, k.do("POST", path, tok, body), http.StatusBadRequest)
			require.Equal(t, "code", got["field"])
			require.Equal(t, "This field is required.", got["detail"])
		}
		requireStatus(t, k.do("POST", path, tok, `{"code": 5}`), http.StatusBadRequest)
		requireStatus(t, k.do("POST", path, tok, ""), http.StatusBadRequest)
	})

	t.Run("Remove", func(t *testing.T) {
		requireStatus(t, k.do("DELETE", path+pct, tok, nil), http.StatusNotFound) // not on the basket
		requireStatus(t, k.do("DELETE", path+dbtest.Unique("NOSUCH"), tok, nil), http.StatusNotFound)
		body := requireStatus(t, k.do("DELETE", path+strings.ToLower(abs), tok, nil), http.StatusOK)
		require.Nil(t, body["voucher"])
		require.Equal(t, "49.00", body["total_incl_tax"])
		require.Equal(t, "0.00", body["total_discount"])
		require.Equal(t, []any{}, body["offers"])
		require.Equal(t, "0.00", body["lines"].([]any)[0].(map[string]any)["discount"])
		requireStatus(t, k.do("DELETE", path+abs, tok, nil), http.StatusNotFound)
	})

	t.Run("StaffMayActOnAnyBasket", func(t *testing.T) {
		body := requireStatus(t, k.addCode(id, k.staff, pct), http.StatusOK)
		require.Equal(t, "39.20", body["total_incl_tax"])
		requireStatus(t, k.do("DELETE", path+pct, k.staff, nil), http.StatusOK)
	})

	t.Run("FrozenBasketRefusesCodes", func(t *testing.T) {
		fid, ftok := k.basketFor(dbtest.Unique("vch-frozen-"), c.sku)
		requireStatus(t, k.do("POST", "/api/v2/checkout/", ftok, map[string]any{"basket_id": fid}), http.StatusOK)
		requirePromoError(t, k.addCode(fid, ftok, pct), fmt.Sprintf("Basket [%d] is Frozen; coupons apply to open baskets only.", fid))
	})
}

func TestBasketVoucherChecks(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchChk", "49.00")
	other := k.course(t, "VchChkOther", "30.00")
	fresh := func(t *testing.T) (int64, string) {
		t.Helper()
		return k.basketFor(dbtest.Unique("vch-chk-"), c.sku)
	}

	t.Run("DoesNotExist", func(t *testing.T) {
		id, tok := fresh(t)
		unknown := dbtest.Unique("nosuch")
		requirePromoError(t, k.addCode(id, tok, unknown), "Coupon code '"+strings.ToUpper(unknown)+"' does not exist.")
		requirePromoError(t, k.addCode(id, tok, " bad-code! "), "Coupon code 'bad-code!' does not exist.")
	})

	t.Run("Expired", func(t *testing.T) {
		id, tok := fresh(t)
		_, code := k.couponCode(t, c.stockRecord, map[string]any{"start_datetime": promoTime(-48 * time.Hour), "end_datetime": promoTime(-time.Hour)})
		requirePromoError(t, k.addCode(id, tok, code), "Coupon code '"+code+"' has expired.")
	})

	t.Run("ExpiredComesBeforeNotValidForBasket", func(t *testing.T) {
		id, tok := fresh(t)
		_, code := k.couponCode(t, other.stockRecord, map[string]any{"start_datetime": promoTime(-48 * time.Hour), "end_datetime": promoTime(-time.Hour)})
		requirePromoError(t, k.addCode(id, tok, code), "Coupon code '"+code+"' has expired.")
	})

	t.Run("NotActive", func(t *testing.T) {
		id, tok := fresh(t)
		_, code := k.couponCode(t, c.stockRecord, map[string]any{"start_datetime": promoTime(24 * time.Hour), "end_datetime": promoTime(48 * time.Hour)})
		requirePromoError(t, k.addCode(id, tok, code), "Coupon code '"+code+"' is not active.")
	})

	t.Run("SingleUseReservedByAnotherCheckout", func(t *testing.T) {
		_, code := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Single use"})
		k.reserve(t, dbtest.Unique("vch-first-"), c.sku, code)
		id, tok := fresh(t)
		requirePromoError(t, k.addCode(id, tok, code), "Coupon code '"+code+"' is not available. This voucher has already been used")
	})

	t.Run("OncePerCustomerUsedBySameUser", func(t *testing.T) {
		_, code := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Once per customer"})
		user := dbtest.Unique("vch-once-")
		k.reserve(t, user, c.sku, code)
		id, tok := k.basketFor(user, c.sku)
		requirePromoError(t, k.addCode(id, tok, code), "Coupon code '"+code+"' is not available. You have already used this voucher in a previous order")
		otherID, otherTok := fresh(t)
		requireStatus(t, k.addCode(otherID, otherTok, code), http.StatusOK)
	})

	t.Run("MultiUsePerCustomerUsedByAnotherUser", func(t *testing.T) {
		_, code := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Multi-use-per-Customer"})
		owner := dbtest.Unique("vch-owner-")
		k.reserve(t, owner, c.sku, code)
		id, tok := fresh(t)
		requirePromoError(t, k.addCode(id, tok, code), "Coupon code '"+code+"' is not available. This voucher is assigned to another user.")
		ownID, ownTok := k.basketFor(owner, c.sku)
		body := requireStatus(t, k.addCode(ownID, ownTok, code), http.StatusOK)
		require.Equal(t, "39.20", body["total_incl_tax"], "its owner may use it again")
	})

	t.Run("NotValidForThisBasket", func(t *testing.T) {
		id, tok := fresh(t)
		_, code := k.couponCode(t, other.stockRecord, nil)
		requirePromoError(t, k.addCode(id, tok, code), "Coupon code '"+code+"' is not valid for this basket.")
	})

	t.Run("MaxUsesReached", func(t *testing.T) {
		_, code := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Multi-use", "max_uses": 1})
		k.reserve(t, dbtest.Unique("vch-max-"), c.sku, code)
		id, tok := fresh(t)
		requirePromoError(t, k.addCode(id, tok, code), "Coupon code '"+code+"' has already been used.")
	})

	t.Run("EmailDomain", func(t *testing.T) {
		_, code := k.couponCode(t, c.stockRecord, map[string]any{"email_domains": "school.edu"})
		user := dbtest.Unique("vch-dom-")
		id, tok := k.basketFor(user, c.sku)
		requirePromoError(t, k.addCode(id, tok, code), "Coupon code '"+code+"' is not available for the email address "+user+"@example.com.")

		student := dbtest.Unique("vch-student-")
		stok := k.emailToken(t, student, student+"@Mail.School.edu")
		body := requireStatus(t, k.do("POST", "/api/v2/baskets/", stok, map[string]any{"products": []any{map[string]any{"sku": c.sku}}}), http.StatusOK)
		sid := int64(body["id"].(float64))
		got := requireStatus(t, k.addCode(sid, stok, code), http.StatusOK)
		require.Equal(t, "39.20", got["total_incl_tax"], "a subdomain of the coupon's domain qualifies")
	})

	t.Run("BasketDoesNotQualify", func(t *testing.T) {
		// A higher-priority exclusive site offer takes the only seat: the coupon gives nothing.
		nq := k.course(t, "VchNQ", "40.00")
		k.createOffer(t, withChanges(promoOfferBody(dbtest.Unique("Takes it all "), nq.product), map[string]any{"priority": 50}))
		_, code := k.couponCode(t, nq.stockRecord, nil)
		id, tok := k.basketFor(dbtest.Unique("vch-nq-"), nq.sku)
		require.Equal(t, "36.00", k.basket(t, id, tok)["total_incl_tax"])
		requirePromoError(t, k.addCode(id, tok, code), "Basket does not qualify for coupon code "+code+".")
		require.Nil(t, k.basket(t, id, tok)["voucher"])
	})
}

func TestCalculateWithCode(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchCalc", "49.00")
	other := k.course(t, "VchCalcOther", "30.00")
	user := dbtest.Unique("vch-calc-")
	tok := k.token(user, false)
	_, code := k.couponCode(t, c.stockRecord, nil)

	t.Run("ValidCodeLowersTheTotal", func(t *testing.T) {
		path := "/api/v2/baskets/calculate/?sku=" + c.sku + "&code=" + code
		body := requireStatus(t, k.do("GET", path, tok, nil), http.StatusOK)
		require.Equal(t, map[string]any{"total_incl_tax_excl_discounts": "49.00", "total_incl_tax": "39.20", "currency": "USD"}, body)
		require.Equal(t, "39.20", k.calc(t, tok, "code="+strings.ToLower(code), c.sku))
		require.Equal(t, "69.20", k.calc(t, tok, "code="+code, c.sku, other.sku), "only the seat in range is discounted")
		require.Equal(t, "39.20", k.calc(t, tok, "code="+code+"&is_anonymous=true", c.sku), "a Multi-use code applies anonymously")
		require.Equal(t, float64(0), k.voucher(t, code)["num_basket_additions"], "calculate writes nothing")
	})

	t.Run("InvalidCodesAreIgnored", func(t *testing.T) {
		_, expired := k.couponCode(t, c.stockRecord, map[string]any{"start_datetime": promoTime(-48 * time.Hour), "end_datetime": promoTime(-time.Hour)})
		_, future := k.couponCode(t, c.stockRecord, map[string]any{"start_datetime": promoTime(time.Hour), "end_datetime": promoTime(48 * time.Hour)})
		_, elsewhere := k.couponCode(t, other.stockRecord, nil)
		for _, bad := range []string{dbtest.Unique("NOSUCH"), "bad-code!", expired, future, elsewhere, ""} {
			require.Equal(t, "49.00", k.calc(t, tok, "code="+bad, c.sku), bad)
		}
	})

	t.Run("OncePerCustomer", func(t *testing.T) {
		_, once := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Once per customer"})
		require.Equal(t, "39.20", k.calc(t, tok, "code="+once, c.sku))
		require.Equal(t, "49.00", k.calc(t, tok, "code="+once+"&is_anonymous=true", c.sku), "signed-in users only")
		buyer := dbtest.Unique("vch-calc-once-")
		_, btok, _ := k.reserve(t, buyer, c.sku, once)
		require.Equal(t, "49.00", k.calc(t, btok, "code="+once, c.sku), "already used by this user")
		require.Equal(t, "49.00", k.calc(t, k.staff, "code="+once+"&username="+buyer, c.sku))
		require.Equal(t, "39.20", k.calc(t, tok, "code="+once, c.sku), "still fine for another user")
	})

	t.Run("SingleUseReservedIsIgnored", func(t *testing.T) {
		_, single := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Single use"})
		require.Equal(t, "39.20", k.calc(t, tok, "code="+single, c.sku))
		k.reserve(t, dbtest.Unique("vch-calc-single-"), c.sku, single)
		require.Equal(t, "49.00", k.calc(t, tok, "code="+single, c.sku))
	})

	t.Run("EmailDomainRestricted", func(t *testing.T) {
		_, dom := k.couponCode(t, c.stockRecord, map[string]any{"email_domains": "school.edu"})
		student := dbtest.Unique("vch-calc-stu-")
		stok := k.emailToken(t, student, student+"@school.edu")
		require.Equal(t, "39.20", k.calc(t, stok, "code="+dom, c.sku))
		require.Equal(t, "49.00", k.calc(t, tok, "code="+dom, c.sku), "example.com is not school.edu")
		require.Equal(t, "49.00", k.calc(t, stok, "code="+dom+"&is_anonymous=true", c.sku))
		require.Equal(t, "39.20", k.calc(t, k.staff, "code="+dom+"&username="+student, c.sku), "staff pricing for the student")
		require.Equal(t, "49.00", k.calc(t, k.staff, "code="+dom+"&username="+user, c.sku))
		impostor := dbtest.Unique("vch-calc-imp-")
		require.Equal(t, "49.00", k.calc(t, k.emailToken(t, impostor, impostor+"@notschool.edu"), "code="+dom, c.sku))
	})
}

func TestVoucherLookups(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchLook", "49.00")
	other := k.course(t, "VchLook2", "30.00")
	title := dbtest.Unique("Lookup ")
	id, coupon := k.createCoupon(t, withChanges(promoCouponBody(title, c.stockRecord), map[string]any{"voucher_type": "Once per customer"}))
	code := coupon["code"].(string)

	t.Run("StaffList", func(t *testing.T) {
		body := requireStatus(t, k.do("GET", "/api/v2/vouchers/?code="+strings.ToLower(code), k.staff, nil), http.StatusOK)
		require.Equal(t, float64(1), body["count"])
		require.Nil(t, body["next"])
		v := body["results"].([]any)[0].(map[string]any)
		require.Equal(t, code, v["code"])
		require.Equal(t, title, v["name"])
		require.Equal(t, "Once per customer", v["usage"])
		require.Equal(t, "http://shop.test/coupons/offer/?code="+code, v["redeem_url"])
		require.Equal(t, float64(0), v["num_orders"])
		require.Equal(t, float64(0), v["num_basket_additions"])
		require.Equal(t, "0.00", v["total_discount"])
		require.Len(t, v["offers"], 1)
		require.Equal(t, map[string]any{"type": "Percentage", "value": "20.00"}, v["benefit"])
		require.Equal(t, k.codes(t, id), []string{code})

		empty := requireStatus(t, k.do("GET", "/api/v2/vouchers/?code="+dbtest.Unique("NOSUCH"), k.staff, nil), http.StatusOK)
		require.Equal(t, float64(0), empty["count"])
		require.Equal(t, []any{}, empty["results"])
		all := requireStatus(t, k.do("GET", "/api/v2/vouchers/?page_size=1", k.staff, nil), http.StatusOK)
		require.GreaterOrEqual(t, all["count"].(float64), float64(1))
		require.Len(t, all["results"], 1)

		require.Equal(t, "You do not have permission to perform this action.", requireStatus(t, k.do("GET", "/api/v2/vouchers/?code="+code, k.token("vch-learner", false), nil), http.StatusForbidden)["detail"])
		requireStatus(t, k.do("GET", "/api/v2/vouchers/?code="+code, "", nil), http.StatusUnauthorized)
	})

	t.Run("PerVoucherOffers", func(t *testing.T) {
		multi, _ := k.createCoupon(t, withChanges(promoCouponBody(dbtest.Unique("Per voucher "), c.stockRecord), map[string]any{"quantity": 2}))
		single, _ := k.createCoupon(t, withChanges(promoCouponBody(dbtest.Unique("Shared "), c.stockRecord), map[string]any{"quantity": 2, "voucher_type": "Single use"}))
		offerOf := func(code string) any { return k.voucher(t, code)["offers"].([]any)[0] }
		m := k.codes(t, multi)
		require.NotEqual(t, offerOf(m[0]), offerOf(m[1]), "Multi-use codes get one offer each")
		s := k.codes(t, single)
		require.Equal(t, offerOf(s[0]), offerOf(s[1]), "Single use codes share one offer")
	})

	t.Run("OffersOfACodeAreOpenToAnyone", func(t *testing.T) {
		body := requireStatus(t, k.do("GET", "/api/v2/vouchers/offers/?code="+strings.ToLower(code), "", nil), http.StatusOK)
		require.Nil(t, body["next"])
		results := body["results"].([]any)
		require.Len(t, results, 1)
		r := results[0].(map[string]any)
		require.Equal(t, float64(c.product), r["id"])
		require.Equal(t, c.id, r["course_id"])
		require.Equal(t, "verified", r["seat_type"])
		require.Contains(t, r["title"], "with verified certificate")
		require.Equal(t, map[string]any{"type": "Percentage", "value": "20.00"}, r["benefit"])
		require.Equal(t, true, r["is_available_to_buy"])
		sr := r["stockrecords"].(map[string]any)
		require.Equal(t, c.sku, sr["partner_sku"])
		require.Equal(t, "49.00", sr["price"])
		require.Equal(t, float64(c.stockRecord), sr["id"])
		promoSameInstant(t, k.voucher(t, code)["end_datetime"].(string), r["voucher_end_date"])
		require.Equal(t, body, requireStatus(t, k.do("GET", "/api/v2/vouchers/offers/?code="+code, k.token("vch-any", false), nil), http.StatusOK))

		_, two := k.couponCode(t, c.stockRecord, map[string]any{"stock_record_ids": []int64{c.stockRecord, other.stockRecord}, "benefit_type": "Absolute", "benefit_value": "5"})
		body = requireStatus(t, k.do("GET", "/api/v2/vouchers/offers/?code="+two, "", nil), http.StatusOK)
		ids := map[float64]string{}
		for _, r := range body["results"].([]any) {
			r := r.(map[string]any)
			ids[r["id"].(float64)] = r["benefit"].(map[string]any)["value"].(string)
		}
		require.Equal(t, map[float64]string{float64(c.product): "5.00", float64(other.product): "5.00"}, ids)
	})

	t.Run("UnknownOrMissingCodeIs400", func(t *testing.T) {
		unknown := dbtest.Unique("nosuch")
		body := requireStatus(t, k.do("GET", "/api/v2/vouchers/offers/?code="+unknown, "", nil), http.StatusBadRequest)
		require.Equal(t, "Coupon code '"+strings.ToUpper(unknown)+"' does not exist.", body["detail"])
		body = requireStatus(t, k.do("GET", "/api/v2/vouchers/offers/", "", nil), http.StatusBadRequest)
		require.Equal(t, "A coupon code is required.", body["detail"])
	})
}

func TestCheckoutWithVoucher(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchPay", "49.00")
	couponID, code := k.couponCode(t, c.stockRecord, nil)

	id, tok, co := k.reserve(t, dbtest.Unique("vch-pay-"), c.sku, code)
	form := co["payment_form_data"].(map[string]any)
	require.Equal(t, "39.20", form["amount"], "the processor is asked for the discounted total")
	k.checkouts.mu.Lock()
	started := k.checkouts.started[len(k.checkouts.started)-1]
	k.checkouts.mu.Unlock()
	require.Equal(t, commerce.OrderNumber("EDX", id), started.OrderNumber)
	require.Equal(t, "39.20", commerce.FormatMoney(started.Total))
	require.Equal(t, "9.80", commerce.FormatMoney(started.Discount))
	require.Equal(t, code, started.VoucherCode)
	require.Equal(t, float64(0), k.voucher(t, code)["num_orders"], "frozen, not yet ordered")

	number := promoPlaceOrder(t, k, id)
	order := requireStatus(t, k.do("GET", "/api/v2/orders/"+number+"/", tok, nil), http.StatusOK)
	require.Equal(t, "39.20", order["total_excl_tax"])
	require.Equal(t, "49.00", order["total_before_discounts_incl_tax"])
	require.Equal(t, "9.80", order["discount"])
	line := order["lines"].([]any)[0].(map[string]any)
	require.Equal(t, "39.20", line["line_price_excl_tax"])

	v := k.voucher(t, code)
	require.Equal(t, float64(1), v["num_orders"])
	require.Equal(t, "9.80", v["total_discount"])
	require.Equal(t, float64(1), v["num_basket_additions"])
	require.Equal(t, float64(1), k.coupon(t, couponID)["num_uses"])

	t.Run("AVoucherTakenMeanwhileIs409AndCanBeRemoved", func(t *testing.T) {
		_, single := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Single use"})
		slow, slowTok := k.basketFor(dbtest.Unique("vch-slow-"), c.sku)
		requireStatus(t, k.addCode(slow, slowTok, single), http.StatusOK)
		k.reserve(t, dbtest.Unique("vch-fast-"), c.sku, single)

		body := requireStatus(t, k.do("POST", "/api/v2/checkout/", slowTok, map[string]any{"basket_id": slow}), http.StatusConflict)
		require.Equal(t, "Coupon code '"+single+"' can no longer be used: This voucher has already been used", body["developer_message"])
		require.Equal(t, "Coupon code '"+single+"' can no longer be used. Remove it from your basket to continue.", body["user_message"])
		require.Equal(t, 1, k.count("SELECT count(*) FROM baskets WHERE id = $1 AND status = 'Open'", slow))

		requireStatus(t, k.do("DELETE", fmt.Sprintf("/api/v2/baskets/%d/vouchers/%s", slow, single), slowTok, nil), http.StatusOK)
		co := requireStatus(t, k.do("POST", "/api/v2/checkout/", slowTok, map[string]any{"basket_id": slow}), http.StatusOK)
		require.Equal(t, "49.00", co["payment_form_data"].(map[string]any)["amount"])
	})
}

// Single use codes of one coupon are independent: each may be used once (edX: a Single use
// voucher is available while it has no application). Using one must not use up the others.
func TestSingleUseCodesOfOneCouponAreIndependent(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchSingle", "49.00")
	id, _ := k.createCoupon(t, withChanges(promoCouponBody(dbtest.Unique("Single batch "), c.stockRecord), map[string]any{"voucher_type": "Single use", "quantity": 2}))
	codes := k.codes(t, id)
	k.reserve(t, dbtest.Unique("vch-single-a-"), c.sku, codes[0])

	basket, tok := k.basketFor(dbtest.Unique("vch-single-b-"), c.sku)
	body := requireStatus(t, k.addCode(basket, tok, codes[1]), http.StatusOK)
	require.Equal(t, "39.20", body["total_incl_tax"])
	require.Equal(t, "39.20", k.calc(t, tok, "code="+codes[1], c.sku))
}

// The basket view prices with the voucher only while it may be used, as Oscar's Applicator
// does (voucher active and available to the user); otherwise it shows a total that checkout
// then refuses.
func TestBasketViewIgnoresAnUnusableVoucher(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchStale", "49.00")

	couponID, code := k.couponCode(t, c.stockRecord, nil)
	id, tok := k.basketFor(dbtest.Unique("vch-stale-"), c.sku)
	requireStatus(t, k.addCode(id, tok, code), http.StatusOK)
	requireStatus(t, k.do("PUT", fmt.Sprintf("/api/v2/coupons/%d/", couponID), k.staff, map[string]any{
		"start_datetime": promoTime(-48 * time.Hour), "end_datetime": promoTime(-time.Hour),
	}), http.StatusOK)
	requireStatus(t, k.do("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": id}), http.StatusConflict)

	_, single := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Single use"})
	slow, slowTok := k.basketFor(dbtest.Unique("vch-stale2-"), c.sku)
	requireStatus(t, k.addCode(slow, slowTok, single), http.StatusOK)
	k.reserve(t, dbtest.Unique("vch-stale3-"), c.sku, single)

	totals := map[string]any{}
	for label, b := range map[string]struct {
		id  int64
		tok string
	}{"expired": {id, tok}, "single use taken": {slow, slowTok}} {
		totals[label] = k.basket(t, b.id, b.tok)["total_incl_tax"]
	}
	require.Equal(t, map[string]any{"expired": "49.00", "single use taken": "49.00"}, totals)
}

// A learner who paid gets an order even if staff deleted the coupon while the payment was
// under way: the checkout's snapshot keeps the discount it was priced with.
func TestOrderIsPlacedWhenItsCouponWasDeletedDuringPayment(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchGone", "49.00")
	couponID, code := k.couponCode(t, c.stockRecord, nil)
	id, tok, co := k.reserve(t, dbtest.Unique("vch-gone-"), c.sku, code)
	require.Equal(t, "39.20", co["payment_form_data"].(map[string]any)["amount"])
	rec := k.do("DELETE", fmt.Sprintf("/api/v2/coupons/%d/", couponID), k.staff, nil)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())

	number := promoPlaceOrder(t, k, id)
	order := requireStatus(t, k.do("GET", "/api/v2/orders/"+number+"/", tok, nil), http.StatusOK)
	require.Equal(t, "39.20", order["total_excl_tax"])
	require.Equal(t, "9.80", order["discount"])
}

// A frozen basket is what the learner is paying: its voucher can no longer be removed, as it
// can no longer be added (Oscar refuses to edit a frozen basket).
func TestFrozenBasketKeepsItsVoucher(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchKeep", "49.00")
	_, code := k.couponCode(t, c.stockRecord, nil)
	id, tok, co := k.reserve(t, dbtest.Unique("vch-keep-"), c.sku, code)
	require.Equal(t, "39.20", co["payment_form_data"].(map[string]any)["amount"])

	rec := k.do("DELETE", fmt.Sprintf("/api/v2/baskets/%d/vouchers/%s", id, code), tok, nil)
	requirePromoError(t, rec, fmt.Sprintf("Basket [%d] is Frozen; coupons apply to open baskets only.", id))
	basket := k.basket(t, id, tok)
	require.Equal(t, code, basket["voucher"].(map[string]any)["code"])
	require.Equal(t, "39.20", basket["total_incl_tax"])
}

// A frozen basket's view shows the total its checkout charges: its own reservation of a
// limited voucher does not count against it.
func TestFrozenBasketViewShowsWhatItCharges(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "VchFrozenView", "49.00")
	totals := map[string]any{}
	for label, changes := range map[string]map[string]any{
		"multi-use":  nil,
		"single use": {"voucher_type": "Single use"},
		"max_uses 1": {"max_uses": 1},
	} {
		_, code := k.couponCode(t, c.stockRecord, changes)
		id, tok, co := k.reserve(t, dbtest.Unique("vch-fview-"), c.sku, code)
		require.Equal(t, "39.20", co["payment_form_data"].(map[string]any)["amount"], label)
		totals[label] = k.basket(t, id, tok)["total_incl_tax"]
	}
	require.Equal(t, "39.20", totals["multi-use"])

	require.Equal(t, map[string]any{"multi-use": "39.20", "single use": "39.20", "max_uses 1": "39.20"}, totals)
}
