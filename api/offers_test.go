package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// promoOfferBody is a site offer: 10% off the products. Site offers apply to every basket of the
// shared schema, so tests give them their own products only (or keep them Suspended).
func promoOfferBody(name string, productIDs ...int64) map[string]any {
	return map[string]any{
		"name": name, "benefit_type": "Percentage", "benefit_value": "10",
		"range": map[string]any{"product_ids": productIDs},
	}
}

// createOffer posts a site offer and returns its id and the answer.
func (k *promoKit) createOffer(t *testing.T, body map[string]any) (int64, map[string]any) {
	t.Helper()
	got := requireStatus(t, k.do("POST", "/api/v2/offers/", k.staff, body), http.StatusCreated)
	return int64(got["id"].(float64)), got
}

// offersNamed counts the site offers of the list with that name, page by page.
func (k *promoKit) offersNamed(t *testing.T, name string) int {
	t.Helper()
	n := 0
	for page := 1; ; page++ {
		body := requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/offers/?page_size=500&page=%d", page), k.staff, nil), http.StatusOK)
		for _, r := range body["results"].([]any) {
			if r.(map[string]any)["name"] == name {
				n++
			}
		}
		if body["next"] == nil {
			return n
		}
	}
}

func TestSiteOffersAdmin(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "OfrAdmin", "49.00")
	name := dbtest.Unique("Spring sale ")
	id, created := k.createOffer(t, promoOfferBody(name, c.product))
	path := fmt.Sprintf("/api/v2/offers/%d/", id)

	t.Run("StaffOnly", func(t *testing.T) {
		learner := k.token(dbtest.Unique("ofr-learner-"), false)
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v2/offers/", promoOfferBody(dbtest.Unique("Sneaky "), c.product)},
			{"GET", "/api/v2/offers/", nil},
			{"GET", path, nil},
			{"PUT", path, promoOfferBody(dbtest.Unique("Hijack "), c.product)},
		} {
			requireStatus(t, k.do(r.method, r.path, "", r.body), http.StatusUnauthorized)
			require.Equal(t, "You do not have permission to perform this action.", requireStatus(t, k.do(r.method, r.path, learner, r.body), http.StatusForbidden)["detail"])
		}
		require.Equal(t, name, requireStatus(t, k.do("GET", path, k.staff, nil), http.StatusOK)["name"])
	})

	t.Run("Created", func(t *testing.T) {
		want := map[string]any{
			"id": float64(id), "name": name, "offer_type": "Site", "status": "Open", "priority": float64(0), "exclusive": true,
			"benefit_type": "Percentage", "benefit_value": "10.00", "max_affected_items": nil,
			"condition_type": "Count", "condition_value": "1.00",
			"range":          map[string]any{"includes_all_products": false, "product_ids": []any{float64(c.product)}, "course_seat_types": []any{}},
			"start_datetime": nil, "end_datetime": nil, "max_global_applications": nil, "max_user_applications": nil,
			"max_basket_applications": nil, "max_discount": nil, "email_domains": "", "num_applications": float64(0),
			"num_orders": float64(0), "total_discount": "0.00", "date_created": created["date_created"],
		}
		require.Equal(t, want, created)
		require.Equal(t, created, requireStatus(t, k.do("GET", path, k.staff, nil), http.StatusOK))
		require.Equal(t, 1, k.offersNamed(t, name))
	})

	t.Run("SeatTypeRangeAndLimits", func(t *testing.T) {
		// Suspended: a seat-type offer would otherwise reach other tests' baskets.
		_, o := k.createOffer(t, map[string]any{
			"name": dbtest.Unique("Verified seats "), "benefit_type": "Absolute", "benefit_value": 5, "status": "Suspended",
			"range": map[string]any{"course_seat_types": []string{"verified"}}, "priority": 5, "exclusive": false,
			"start_datetime": promoTime(-time.Hour), "end_datetime": promoTime(time.Hour), "max_global_applications": 100,
			"max_user_applications": 1, "max_basket_applications": 2, "max_discount": "500", "email_domains": "school.edu",
			"max_affected_items": 1, "condition_type": "Value", "condition_value": "20",
		})
		require.Equal(t, "Suspended", o["status"])
		require.Equal(t, []any{"verified"}, o["range"].(map[string]any)["course_seat_types"])
		require.Equal(t, float64(5), o["priority"])
		require.Equal(t, false, o["exclusive"])
		require.Equal(t, float64(100), o["max_global_applications"])
		require.Equal(t, float64(1), o["max_user_applications"])
		require.Equal(t, float64(2), o["max_basket_applications"])
		require.Equal(t, float64(1), o["max_affected_items"])
		require.Equal(t, "500.00", o["max_discount"])
		require.Equal(t, "school.edu", o["email_domains"])
		require.Equal(t, "Value", o["condition_type"])
		require.Equal(t, "20.00", o["condition_value"])
		require.NotNil(t, o["start_datetime"])
	})

	t.Run("DuplicateName", func(t *testing.T) {
		body := requireStatus(t, k.do("POST", "/api/v2/offers/", k.staff, promoOfferBody(name, c.product)), http.StatusBadRequest)
		require.Equal(t, "name", body["field"])
		require.Equal(t, fmt.Sprintf("An offer named %q already exists.", name), body["detail"])
		require.Equal(t, 1, k.offersNamed(t, name))
	})

	t.Run("InvalidOffersAre400AndWriteNothing", func(t *testing.T) {
		cases := map[string]struct {
			changes map[string]any
			field   string
			detail  string
		}{
			"MissingName":         {map[string]any{"name": nil}, "name", "This field is required."},
			"MissingBenefitType":  {map[string]any{"benefit_type": nil}, "benefit_type", "This field is required."},
			"UnknownBenefitType":  {map[string]any{"benefit_type": "Bogus"}, "benefit_type", `"Bogus" is not Percentage, Absolute or Fixed price.`},
			"MissingBenefitValue": {map[string]any{"benefit_value": nil}, "benefit_value", "This field is required."},
			"NegativeBenefit":     {map[string]any{"benefit_value": "-1"}, "benefit_value", `"-1" is not a non-negative amount with at most two decimals.`},
			"PercentageOver100":   {map[string]any{"benefit_value": "100.5"}, "benefit_value", "A percentage benefit is at most 100."},
			"MissingRange":        {map[string]any{"range": nil}, "range", "This field is required."},
			"EmptyRange":          {map[string]any{"range": map[string]any{}}, "range", "An offer needs products, seat types or all products."},
			"UnknownProduct":      {map[string]any{"range": map[string]any{"product_ids": []int64{c.product, 987654321}}}, "range", "A product of the range does not exist."},
			"UnknownSeatType":     {map[string]any{"range": map[string]any{"course_seat_types": []string{"honor"}}}, "course_seat_types", `"honor" is not verified, professional or credit.`},
			"CreditWithVerified":  {map[string]any{"range": map[string]any{"course_seat_types": []string{"credit", "verified"}}}, "course_seat_types", "Credit seats cannot be combined with other seat types."},
			"EndBeforeStart":      {map[string]any{"start_datetime": promoTime(time.Hour), "end_datetime": promoTime(-time.Hour)}, "end_datetime", "The end must be after the start."},
			"BadDate":             {map[string]any{"start_datetime": "soon"}, "start_datetime", `"soon" is not a date-time (RFC 3339).`},
			"UnknownKey":          {map[string]any{"colour": "red"}, "colour", "Unknown field."},
			"UnknownRangeKey":     {map[string]any{"range": map[string]any{"product_ids": []int64{c.product}, "catalog": 3}}, "catalog", "Unknown field."},
			"UnknownStatus":       {map[string]any{"status": "Closed"}, "status", "Must be Open, Suspended or Consumed."},
			"UnknownCondition":    {map[string]any{"condition_type": "Bogus"}, "condition_type", `"Bogus" is not Count, Value or Coverage.`},
			"ZeroGlobalLimit":     {map[string]any{"max_global_applications": 0}, "max_global_applications", "Must be from 1 to 2147483647."},
			"HugeGlobalLimit":     {map[string]any{"max_global_applications": 4294967297}, "max_global_applications", "Must be from 1 to 2147483647."},
			"ZeroAffectedItems":   {map[string]any{"max_affected_items": 0}, "max_affected_items", "Must be at least 1."},
			"BadEmailDomains":     {map[string]any{"email_domains": "school"}, "email_domains", `"school" has no dot.`},
			"TextLimit":           {map[string]any{"max_user_applications": "one"}, "max_user_applications", "Expected an integer, got string."},
		}
		for caseName, tc := range cases {
			t.Run(caseName, func(t *testing.T) {
				n := dbtest.Unique("Bad offer " + caseName + " ")
				got := requireStatus(t, k.do("POST", "/api/v2/offers/", k.staff, withChanges(promoOfferBody(n, c.product), tc.changes)), http.StatusBadRequest)
				require.Equal(t, tc.field, got["field"])
				require.Equal(t, tc.detail, got["detail"])
				require.Zero(t, k.offersNamed(t, n))
			})
		}
		requireStatus(t, k.do("POST", "/api/v2/offers/", k.staff, `{"name":`), http.StatusBadRequest)
	})

	t.Run("ListIsPaginated", func(t *testing.T) {
		body := requireStatus(t, k.do("GET", "/api/v2/offers/?page_size=1", k.staff, nil), http.StatusOK)
		require.GreaterOrEqual(t, body["count"].(float64), float64(1))
		require.Len(t, body["results"], 1)
		for _, r := range body["results"].([]any) {
			require.Equal(t, "Site", r.(map[string]any)["offer_type"], "only site offers are listed")
		}
	})

	t.Run("Update", func(t *testing.T) {
		renamed := dbtest.Unique("Summer sale ")
		body := withChanges(promoOfferBody(renamed, c.product), map[string]any{"benefit_type": "Absolute", "benefit_value": "7.50", "status": "Suspended", "priority": 3})
		got := requireStatus(t, k.do("PUT", path, k.staff, body), http.StatusOK)
		require.Equal(t, float64(id), got["id"])
		require.Equal(t, renamed, got["name"])
		require.Equal(t, "Absolute", got["benefit_type"])
		require.Equal(t, "7.50", got["benefit_value"])
		require.Equal(t, "Suspended", got["status"])
		require.Equal(t, float64(3), got["priority"])
		require.Equal(t, created["date_created"], got["date_created"])
		require.Equal(t, got, requireStatus(t, k.do("GET", path, k.staff, nil), http.StatusOK))
		require.Zero(t, k.offersNamed(t, name))

		// A refused update changes nothing.
		otherID, other := k.createOffer(t, withChanges(promoOfferBody(dbtest.Unique("Other sale "), c.product), map[string]any{"status": "Suspended"}))
		bad := requireStatus(t, k.do("PUT", path, k.staff, withChanges(body, map[string]any{"name": other["name"]})), http.StatusBadRequest)
		require.Equal(t, "name", bad["field"])
		bad = requireStatus(t, k.do("PUT", path, k.staff, withChanges(body, map[string]any{"benefit_type": "Percentage", "benefit_value": "120"})), http.StatusBadRequest)
		require.Equal(t, "benefit_value", bad["field"])
		bad = requireStatus(t, k.do("PUT", path, k.staff, withChanges(body, map[string]any{"range": map[string]any{"product_ids": []int64{987654321}}})), http.StatusBadRequest)
		require.Equal(t, "range", bad["field"])
		require.Equal(t, got, requireStatus(t, k.do("GET", path, k.staff, nil), http.StatusOK))
		require.NotZero(t, otherID)
	})

	t.Run("VoucherOffersAreNotSiteOffers", func(t *testing.T) {
		_, code := k.couponCode(t, c.stockRecord, nil)
		v := requireStatus(t, k.do("GET", "/api/v2/vouchers/?code="+code, k.staff, nil), http.StatusOK)["results"].([]any)[0].(map[string]any)
		voucherOffer := fmt.Sprintf("/api/v2/offers/%d/", int64(v["offers"].([]any)[0].(float64)))
		require.Equal(t, "Not found.", requireStatus(t, k.do("GET", voucherOffer, k.staff, nil), http.StatusNotFound)["detail"])
		requireStatus(t, k.do("PUT", voucherOffer, k.staff, promoOfferBody(dbtest.Unique("Steal "), c.product)), http.StatusNotFound)
		requireStatus(t, k.do("GET", "/api/v2/offers/987654321/", k.staff, nil), http.StatusNotFound)
		requireStatus(t, k.do("GET", "/api/v2/offers/abc/", k.staff, nil), http.StatusNotFound)
		requireStatus(t, k.do("PUT", "/api/v2/offers/987654321/", k.staff, promoOfferBody(dbtest.Unique("Ghost "), c.product)), http.StatusNotFound)
		require.Equal(t, "39.20", k.calc(t, k.staff, "code="+code, c.sku), "the coupon still works")
	})
}

func TestSiteOfferPricing(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "OfrPrice", "49.00")
	other := k.course(t, "OfrPriceOther", "30.00")
	user := dbtest.Unique("ofr-buyer-")
	basketID, tok := k.basketFor(user, c.sku, other.sku)
	require.Equal(t, "79.00", k.calc(t, tok, "", c.sku, other.sku))

	name := dbtest.Unique("Ten off ")
	id, _ := k.createOffer(t, promoOfferBody(name, c.product))
	path := fmt.Sprintf("/api/v2/offers/%d/", id)

	t.Run("AppliesAtOnce", func(t *testing.T) {
		body := requireStatus(t, k.do("GET", "/api/v2/baskets/calculate/?sku="+c.sku+"&sku="+other.sku, tok, nil), http.StatusOK)
		require.Equal(t, map[string]any{"total_incl_tax_excl_discounts": "79.00", "total_incl_tax": "74.10", "currency": "USD"}, body)
		require.Equal(t, "44.10", k.calc(t, tok, "is_anonymous=true", c.sku), "site offers apply anonymously")
		require.Equal(t, "30.00", k.calc(t, tok, "", other.sku), "out of range")

		basket := k.basket(t, basketID, tok)
		require.Equal(t, "4.90", basket["total_discount"])
		require.Equal(t, "74.10", basket["total_incl_tax"])
		lines := map[string]map[string]any{}
		for _, l := range basket["lines"].([]any) {
			l := l.(map[string]any)
			lines[l["sku"].(string)] = l
		}
		require.Equal(t, "4.90", lines[c.sku]["discount"])
		require.Equal(t, "44.10", lines[c.sku]["line_price_incl_tax"])
		require.Equal(t, "0.00", lines[other.sku]["discount"])
		require.Equal(t, []any{map[string]any{
			"offer_id": float64(id), "name": name, "offer_type": "Site", "voucher_code": nil, "benefit_type": "Percentage",
			"benefit_value": "10.00", "frequency": float64(1), "amount": "4.90",
		}}, basket["offers"])
	})

	t.Run("AnExclusiveVoucherTakesTheSeatFirst", func(t *testing.T) {
		_, code := k.couponCode(t, c.stockRecord, nil)
		require.Equal(t, "69.20", k.calc(t, tok, "code="+code, c.sku, other.sku), "the coupon (priority 20) wins over the site offer")
		vid, vtok := k.basketFor(dbtest.Unique("ofr-vch-"), c.sku)
		body := requireStatus(t, k.addCode(vid, vtok, code), http.StatusOK)
		require.Len(t, body["offers"], 1)
		require.Equal(t, "Voucher", body["offers"].([]any)[0].(map[string]any)["offer_type"])
		require.Equal(t, "39.20", body["total_incl_tax"])
	})

	t.Run("UpdatedTermsApplyAtOnce", func(t *testing.T) {
		requireStatus(t, k.do("PUT", path, k.staff, withChanges(promoOfferBody(name, c.product), map[string]any{"benefit_type": "Absolute", "benefit_value": "5"})), http.StatusOK)
		require.Equal(t, "74.00", k.calc(t, tok, "", c.sku, other.sku))
		requireStatus(t, k.do("PUT", path, k.staff, promoOfferBody(name, c.product, other.product)), http.StatusOK)
		require.Equal(t, "71.10", k.calc(t, tok, "", c.sku, other.sku), "10% of each seat in the widened range")
		require.Equal(t, "71.10", k.basket(t, basketID, tok)["total_incl_tax"])
	})

	t.Run("SuspendedStopsApplying", func(t *testing.T) {
		requireStatus(t, k.do("PUT", path, k.staff, withChanges(promoOfferBody(name, c.product), map[string]any{"status": "Suspended"})), http.StatusOK)
		require.Equal(t, "79.00", k.calc(t, tok, "", c.sku, other.sku))
		basket := k.basket(t, basketID, tok)
		require.Equal(t, "79.00", basket["total_incl_tax"])
		require.Equal(t, []any{}, basket["offers"])
		requireStatus(t, k.do("PUT", path, k.staff, promoOfferBody(name, c.product)), http.StatusOK)
		require.Equal(t, "74.10", k.calc(t, tok, "", c.sku, other.sku), "reopened")
	})

	t.Run("OutsideItsDatesItDoesNotApply", func(t *testing.T) {
		requireStatus(t, k.do("PUT", path, k.staff, withChanges(promoOfferBody(name, c.product), map[string]any{"start_datetime": promoTime(time.Hour)})), http.StatusOK)
		require.Equal(t, "49.00", k.calc(t, tok, "", c.sku), "not started")
		requireStatus(t, k.do("PUT", path, k.staff, withChanges(promoOfferBody(name, c.product), map[string]any{"start_datetime": promoTime(-2 * time.Hour), "end_datetime": promoTime(-time.Hour)})), http.StatusOK)
		require.Equal(t, "49.00", k.calc(t, tok, "", c.sku), "ended")
		requireStatus(t, k.do("PUT", path, k.staff, withChanges(promoOfferBody(name, c.product), map[string]any{"start_datetime": promoTime(-time.Hour), "end_datetime": promoTime(time.Hour)})), http.StatusOK)
		require.Equal(t, "44.10", k.calc(t, tok, "", c.sku), "current")
	})

	t.Run("EmailDomainRestricted", func(t *testing.T) {
		requireStatus(t, k.do("PUT", path, k.staff, withChanges(promoOfferBody(name, c.product), map[string]any{"email_domains": "school.edu"})), http.StatusOK)
		require.Equal(t, "49.00", k.calc(t, tok, "", c.sku))
		require.Equal(t, "49.00", k.calc(t, tok, "is_anonymous=true", c.sku))
		student := dbtest.Unique("ofr-stu-")
		require.Equal(t, "44.10", k.calc(t, k.emailToken(t, student, student+"@cs.school.edu"), "", c.sku))
	})
}
