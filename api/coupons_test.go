package api_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// promoKit is the API harness with helpers for coupons, vouchers and offers. Everything it
// creates has a unique name or code: the package's tests share one schema and run in parallel.
type promoKit struct {
	*harness
	staff string
}

func newPromoKit(t *testing.T) *promoKit {
	t.Helper()
	h := newHarness(t)
	return &promoKit{harness: h, staff: h.token(dbtest.Unique("promo-staff-"), true)}
}

// promoCourse is a published course: its audit and verified seats with their ids.
type promoCourse struct {
	id                string
	sku, auditSKU     string
	product, auditID  int64
	stockRecord       int64
	auditStockRecord  int64
	verifiedUnitPrice string
}

// course publishes a course with an audit and a verified seat at price and reads the seats'
// product and stock record ids from GET /api/v2/products/?course_id=.
func (k *promoKit) course(t *testing.T, name, price string) promoCourse {
	t.Helper()
	id := dbtest.Unique("course-v1:edX+"+name) + "+2026"
	skus := k.publish(id, price)
	c := promoCourse{id: id, sku: skus["verified"], auditSKU: skus["audit"], verifiedUnitPrice: price}
	body := requireStatus(t, k.do("GET", "/api/v2/products/?course_id="+url.QueryEscape(id), "", nil), http.StatusOK)
	results := body["results"].([]any)
	require.Len(t, results, 2)
	for _, r := range results {
		p := r.(map[string]any)
		sr := p["stockrecords"].([]any)[0].(map[string]any)
		switch sr["partner_sku"] {
		case c.sku:
			c.product, c.stockRecord = int64(p["id"].(float64)), int64(sr["id"].(float64))
		case c.auditSKU:
			c.auditID, c.auditStockRecord = int64(p["id"].(float64)), int64(sr["id"].(float64))
		}
	}
	require.NotZero(t, c.stockRecord)
	require.NotZero(t, c.auditStockRecord)
	return c
}

func promoTime(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

// promoCouponBody is a valid coupon request: 20% off the stock records, Multi-use, one code,
// started an hour ago and ending in a day.
func promoCouponBody(title string, stockRecords ...int64) map[string]any {
	return map[string]any{
		"title": title, "category": map[string]any{"name": "Affiliate"}, "stock_record_ids": stockRecords,
		"start_datetime": promoTime(-time.Hour), "end_datetime": promoTime(24 * time.Hour),
		"benefit_type": "Percentage", "benefit_value": "20.00", "voucher_type": "Multi-use", "quantity": 1,
	}
}

// withChanges returns a copy of body with changes; a nil value removes the key.
func withChanges(body map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// createCoupon posts a coupon and returns its id and the created coupon.
func (k *promoKit) createCoupon(t *testing.T, body map[string]any) (int64, map[string]any) {
	t.Helper()
	resp := requireStatus(t, k.do("POST", "/api/v2/coupons/", k.staff, body), http.StatusCreated)
	id := int64(resp["coupon_id"].(float64))
	coupon := resp["coupon"].(map[string]any)
	require.Equal(t, float64(id), coupon["id"])
	return id, coupon
}

// codes lists a coupon's codes.
func (k *promoKit) codes(t *testing.T, couponID int64) []string {
	t.Helper()
	body := requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/coupons/%d/codes/", couponID), k.staff, nil), http.StatusOK)
	var out []string
	for _, r := range body["results"].([]any) {
		out = append(out, r.(map[string]any)["code"].(string))
	}
	require.Len(t, out, int(body["count"].(float64)))
	return out
}

// couponCode creates a one-code coupon (promoCouponBody with changes) and returns its id and code.
func (k *promoKit) couponCode(t *testing.T, stockRecord int64, changes map[string]any) (int64, string) {
	t.Helper()
	id, _ := k.createCoupon(t, withChanges(promoCouponBody(dbtest.Unique("Coupon "), stockRecord), changes))
	codes := k.codes(t, id)
	require.Len(t, codes, 1)
	return id, codes[0]
}

// couponsTitled counts the coupons of the list with that title, page by page.
func (k *promoKit) couponsTitled(t *testing.T, title string) int {
	t.Helper()
	n := 0
	for page := 1; ; page++ {
		body := requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/coupons/?page_size=500&page=%d", page), k.staff, nil), http.StatusOK)
		for _, r := range body["results"].([]any) {
			if r.(map[string]any)["title"] == title {
				n++
			}
		}
		if body["next"] == nil {
			return n
		}
	}
}

// coupon reads a coupon's detail.
func (k *promoKit) coupon(t *testing.T, id int64) map[string]any {
	t.Helper()
	return requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/coupons/%d/", id), k.staff, nil), http.StatusOK)
}

// addCode posts a code to a basket.
func (k *promoKit) addCode(basketID int64, tok, code string) *httptest.ResponseRecorder {
	k.t.Helper()
	return k.do("POST", fmt.Sprintf("/api/v2/baskets/%d/vouchers/", basketID), tok, map[string]any{"code": code})
}

// requirePromoError checks a 400 with edX's two messages, both msg.
func requirePromoError(t *testing.T, rec *httptest.ResponseRecorder, msg string) {
	t.Helper()
	body := requireStatus(t, rec, http.StatusBadRequest)
	require.Equal(t, msg, body["developer_message"])
	require.Equal(t, msg, body["user_message"])
}

// basket reads a basket.
func (k *promoKit) basket(t *testing.T, id int64, tok string) map[string]any {
	t.Helper()
	return requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/baskets/%d/", id), tok, nil), http.StatusOK)
}

// reserve fills a new basket of user with sku, applies code and checks out, which reserves
// the code; it returns the basket id, the token and the checkout answer.
func (k *promoKit) reserve(t *testing.T, user, sku, code string) (int64, string, map[string]any) {
	t.Helper()
	id, tok := k.basketFor(user, sku)
	requireStatus(t, k.addCode(id, tok, code), http.StatusOK)
	co := requireStatus(t, k.do("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": id}), http.StatusOK)
	return id, tok, co
}

// calc calls calculate for the SKUs with extra query parameters and returns total_incl_tax.
func (k *promoKit) calc(t *testing.T, tok, query string, skus ...string) string {
	t.Helper()
	q := url.Values{"sku": skus}
	path := "/api/v2/baskets/calculate/?" + q.Encode()
	if query != "" {
		path += "&" + query
	}
	body := requireStatus(t, k.do("GET", path, tok, nil), http.StatusOK)
	return body["total_incl_tax"].(string)
}

// emailToken mints a learner token with a chosen email.
func (k *promoKit) emailToken(t *testing.T, username, email string) string {
	t.Helper()
	tok, err := auth.Mint(testSecret, auth.TokenOptions{Username: username, Email: email, Issuer: testIssuer})
	require.NoError(t, err)
	return tok
}

// promoSameInstant checks that a JSON date-time is the instant want (RFC 3339) names.
func promoSameInstant(t *testing.T, want string, got any) {
	t.Helper()
	w, err := time.Parse(time.RFC3339, want)
	require.NoError(t, err)
	s, ok := got.(string)
	require.True(t, ok, "%v is not a string", got)
	g, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	require.True(t, w.Equal(g), "%s is not %s", s, want)
}

func TestCouponsAreStaffOnly(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "CpnAuth", "49.00")
	id, _ := k.createCoupon(t, promoCouponBody(dbtest.Unique("Auth coupon "), c.stockRecord))
	learner := k.token(dbtest.Unique("cpn-learner-"), false)
	routes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v2/coupons/", promoCouponBody(dbtest.Unique("Sneaky "), c.stockRecord)},
		{"GET", "/api/v2/coupons/", nil},
		{"GET", fmt.Sprintf("/api/v2/coupons/%d/", id), nil},
		{"PUT", fmt.Sprintf("/api/v2/coupons/%d/", id), map[string]any{"title": "hijacked"}},
		{"DELETE", fmt.Sprintf("/api/v2/coupons/%d/", id), nil},
		{"GET", fmt.Sprintf("/api/v2/coupons/%d/codes/", id), nil},
	}
	for _, r := range routes {
		t.Run(r.method+r.path, func(t *testing.T) {
			body := requireStatus(t, k.do(r.method, r.path, "", r.body), http.StatusUnauthorized)
			require.Equal(t, "Authentication credentials were not provided.", body["detail"])
			body = requireStatus(t, k.do(r.method, r.path, learner, r.body), http.StatusForbidden)
			require.Equal(t, "You do not have permission to perform this action.", body["detail"])
		})
	}
	detail := k.coupon(t, id)
	require.NotEqual(t, "hijacked", detail["title"], "nothing changed")
	require.Len(t, k.codes(t, id), 1)
}

func TestCouponCreate(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "CpnNew", "49.00")
	code16 := `^[A-Z0-9]{16}$`

	for _, benefit := range []struct{ typ, value string }{{"Percentage", "20.00"}, {"Absolute", "10.00"}} {
		for _, usage := range []string{"Single use", "Multi-use", "Once per customer", "Multi-use-per-Customer"} {
			t.Run(benefit.typ+"/"+usage, func(t *testing.T) {
				title := dbtest.Unique("Batch ")
				id, coupon := k.createCoupon(t, withChanges(promoCouponBody(title, c.stockRecord), map[string]any{
					"benefit_type": benefit.typ, "benefit_value": benefit.value, "voucher_type": usage, "quantity": 3, "note": "three codes",
				}))
				require.Equal(t, title, coupon["title"])
				require.Equal(t, benefit.typ, coupon["benefit_type"])
				require.Equal(t, benefit.value, coupon["benefit_value"])
				require.Equal(t, usage, coupon["voucher_type"])
				require.Equal(t, float64(3), coupon["quantity"])
				require.Nil(t, coupon["code"], "several codes: no single code")
				require.Equal(t, "ACTIVE", coupon["code_status"])
				require.Equal(t, "Discount code", coupon["coupon_type"])
				require.Equal(t, float64(0), coupon["num_uses"])
				require.Equal(t, "three codes", coupon["note"])
				require.Equal(t, map[string]any{"name": "Affiliate"}, coupon["category"])
				require.Equal(t, []any{float64(c.stockRecord)}, coupon["stock_record_ids"])
				require.Equal(t, fmt.Sprintf("http://example.com/api/v2/coupons/%d/codes/", id), coupon["codes_url"])

				codes := k.codes(t, id)
				require.Len(t, codes, 3)
				seen := map[string]bool{}
				for _, code := range codes {
					require.Regexp(t, code16, code)
					seen[code] = true
				}
				require.Len(t, seen, 3, "codes are distinct")
				require.Equal(t, coupon, k.coupon(t, id), "the detail is what creation answered")

				// Every code gives the benefit on the seat.
				want := map[string]string{"20.00": "39.20", "10.00": "39.00"}[benefit.value]
				for _, code := range codes {
					require.Equal(t, want, k.calc(t, k.token(dbtest.Unique("cpn-calc-"), false), "code="+code, c.sku), code)
				}
			})
		}
	}

	t.Run("CustomCodeIsUpperCased", func(t *testing.T) {
		raw := dbtest.Unique("save")
		id, coupon := k.createCoupon(t, withChanges(promoCouponBody(dbtest.Unique("Custom "), c.stockRecord), map[string]any{"code": raw}))
		require.Equal(t, strings.ToUpper(raw), coupon["code"])
		require.Equal(t, []string{strings.ToUpper(raw)}, k.codes(t, id))
		require.Equal(t, "39.20", k.calc(t, k.token(dbtest.Unique("cpn-custom-"), false), "code="+raw, c.sku), "any case applies")

		t.Run("DuplicateIs400AndWritesNothing", func(t *testing.T) {
			title := dbtest.Unique("Dup ")
			for _, dup := range []string{raw, strings.ToUpper(raw)} {
				body := requireStatus(t, k.do("POST", "/api/v2/coupons/", k.staff, withChanges(promoCouponBody(title, c.stockRecord), map[string]any{"code": dup})), http.StatusBadRequest)
				require.Equal(t, "A coupon with code "+strings.ToUpper(raw)+" already exists.", body["detail"])
				require.Equal(t, "code", body["field"])
			}
			require.Zero(t, k.couponsTitled(t, title))
			require.Equal(t, []string{strings.ToUpper(raw)}, k.codes(t, id), "the first coupon keeps its code")
		})
	})

	t.Run("EnrollmentCode", func(t *testing.T) {
		id, coupon := k.createCoupon(t, withChanges(promoCouponBody(dbtest.Unique("Enroll "), c.stockRecord), map[string]any{"benefit_value": "100", "voucher_type": "Single use"}))
		require.Equal(t, "Enrollment code", coupon["coupon_type"])
		require.Equal(t, "100.00", coupon["benefit_value"])
		require.Nil(t, coupon["max_uses"])
		codes := k.codes(t, id)
		require.Regexp(t, code16, codes[0])
		require.Equal(t, codes[0], coupon["code"])
		require.Equal(t, "0.00", k.calc(t, k.token(dbtest.Unique("cpn-enroll-"), false), "code="+codes[0], c.sku))
	})

	t.Run("SeatTypesInsteadOfStockRecords", func(t *testing.T) {
		other := k.course(t, "CpnSeatType", "30.00")
		body := withChanges(promoCouponBody(dbtest.Unique("Seat type "), c.stockRecord), map[string]any{"course_seat_types": []string{"verified"}})
		delete(body, "stock_record_ids")
		id, coupon := k.createCoupon(t, body)
		require.Equal(t, []any{"verified"}, coupon["course_seat_types"])
		require.Equal(t, []any{}, coupon["stock_record_ids"])
		code := k.codes(t, id)[0]
		tok := k.token(dbtest.Unique("cpn-seat-"), false)
		require.Equal(t, "24.00", k.calc(t, tok, "code="+code, other.sku), "any verified seat")
		require.Equal(t, "0.00", k.calc(t, tok, "code="+code, other.auditSKU), "not an audit seat")
	})
}

func TestCouponCreateRejects(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "CpnBad", "49.00")
	taken := dbtest.Unique("taken")
	k.createCoupon(t, withChanges(promoCouponBody(dbtest.Unique("Taken "), c.stockRecord), map[string]any{"code": taken}))
	one := 1
	cases := map[string]struct {
		changes map[string]any
		field   string
		detail  string
	}{
		"DuplicateCode":          {map[string]any{"code": taken}, "code", "A coupon with code " + strings.ToUpper(taken) + " already exists."},
		"EnrollmentCustomCode":   {map[string]any{"benefit_value": "100.00", "code": dbtest.Unique("free")}, "code", "An enrollment (100%) coupon cannot have a custom code."},
		"NonAlphanumericCode":    {map[string]any{"code": "SAVE-10"}, "code", "A code is 1 to 128 letters and digits."},
		"CustomCodeQuantity":     {map[string]any{"code": dbtest.Unique("many"), "quantity": 2}, "quantity", "A coupon with a custom code has exactly one code."},
		"MaxUsesWithSingleUse":   {map[string]any{"voucher_type": "Single use", "max_uses": one}, "max_uses", "A single-use coupon cannot have max_uses."},
		"MaxUsesZero":            {map[string]any{"max_uses": 0}, "max_uses", "Must be from 1 to 2147483647."},
		"AuditSeat":              {map[string]any{"stock_record_ids": []int64{c.stockRecord, c.auditStockRecord}}, "stock_record_ids", "Course mode not supported"},
		"UnknownStockRecord":     {map[string]any{"stock_record_ids": []int64{c.stockRecord, 987654321}}, "stock_record_ids", "A stock record does not exist."},
		"NoSeats":                {map[string]any{"stock_record_ids": nil}, "stock_record_ids", "Name the seats (stock_record_ids) or the seat types (course_seat_types) of the coupon."},
		"EndBeforeStart":         {map[string]any{"start_datetime": promoTime(48 * time.Hour), "end_datetime": promoTime(24 * time.Hour)}, "end_datetime", "The end must be after the start."},
		"MissingStart":           {map[string]any{"start_datetime": nil}, "start_datetime", "This field is required."},
		"MissingEnd":             {map[string]any{"end_datetime": nil}, "end_datetime", "This field is required."},
		"BadDate":                {map[string]any{"end_datetime": "next tuesday"}, "end_datetime", `"next tuesday" is not a date-time (RFC 3339).`},
		"PercentageOver100":      {map[string]any{"benefit_value": "100.01"}, "benefit_value", "A percentage is at most 100."},
		"ZeroBenefit":            {map[string]any{"benefit_value": "0"}, "benefit_value", "Must be a positive amount with at most two decimals."},
		"MissingBenefitValue":    {map[string]any{"benefit_value": nil}, "benefit_value", "This field is required."},
		"UnknownBenefitType":     {map[string]any{"benefit_type": "Fixed price"}, "benefit_type", "Must be Percentage or Absolute."},
		"UnknownVoucherType":     {map[string]any{"voucher_type": "Twice"}, "voucher_type", "Must be one of Single use, Multi-use, Once per customer, Multi-use-per-Customer."},
		"QuantityZero":           {map[string]any{"quantity": 0}, "quantity", "Must be from 1 to 10000."},
		"EmailDomainWithoutDot":  {map[string]any{"email_domains": "example"}, "email_domains", `"example" has no dot.`},
		"EmailDomainTrailing":    {map[string]any{"email_domains": "example.com,"}, "email_domains", "Empty domain (trailing comma?)."},
		"EmailDomainDigitTLD":    {map[string]any{"email_domains": "example.c0m"}, "email_domains", `"example.c0m" has an invalid top-level domain.`},
		"EmailDomainDoubleDash":  {map[string]any{"email_domains": "ex--ample.com"}, "email_domains", `"ex--ample.com" contains "--".`},
		"EmailDomainLabelHyphen": {map[string]any{"email_domains": "-example.com"}, "email_domains", `"-example.com" has an invalid label "-example".`},
		"MissingTitle":           {map[string]any{"title": nil}, "title", "This field is required."},
		"BlankTitle":             {map[string]any{"title": "   "}, "title", "This field is required."},
		"UnknownSeatType":        {map[string]any{"stock_record_ids": nil, "course_seat_types": []string{"honor"}}, "course_seat_types", `"honor" is not verified, professional or credit.`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			title := dbtest.Unique("Rejected " + name + " ")
			body := promoCouponBody(title, c.stockRecord)
			if tc.field == "title" {
				title = "" // never listed
			}
			rec := k.do("POST", "/api/v2/coupons/", k.staff, withChanges(body, tc.changes))
			got := requireStatus(t, rec, http.StatusBadRequest)
			require.Equal(t, tc.field, got["field"])
			require.Equal(t, tc.detail, got["detail"])
			if title != "" {
				require.Zero(t, k.couponsTitled(t, title), "a refused coupon writes nothing")
			}
		})
	}
	t.Run("MalformedJSON", func(t *testing.T) {
		requireStatus(t, k.do("POST", "/api/v2/coupons/", k.staff, `{"title":`), http.StatusBadRequest)
		got := requireStatus(t, k.do("POST", "/api/v2/coupons/", k.staff, withChanges(promoCouponBody("x", c.stockRecord), map[string]any{"quantity": "three"})), http.StatusBadRequest)
		require.Equal(t, "quantity", got["field"])
	})
}

func TestCouponListDetailAndCodes(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "CpnList", "49.00")

	t.Run("CodeStatusFollowsDates", func(t *testing.T) {
		cases := map[string][2]time.Duration{
			"ACTIVE":   {-time.Hour, time.Hour},
			"EXPIRED":  {-48 * time.Hour, -24 * time.Hour},
			"INACTIVE": {24 * time.Hour, 48 * time.Hour},
		}
		for status, dates := range cases {
			id, coupon := k.createCoupon(t, withChanges(promoCouponBody(dbtest.Unique("Status "), c.stockRecord), map[string]any{
				"start_datetime": promoTime(dates[0]), "end_datetime": promoTime(dates[1]),
			}))
			require.Equal(t, status, coupon["code_status"])
			require.Equal(t, status, k.coupon(t, id)["code_status"])
		}
	})

	t.Run("ListIsPaginated", func(t *testing.T) {
		title := dbtest.Unique("Listed ")
		id, _ := k.createCoupon(t, withChanges(promoCouponBody(title, c.stockRecord), map[string]any{"benefit_type": "Absolute", "benefit_value": "5", "voucher_type": "Once per customer", "max_uses": 7}))
		require.Equal(t, 1, k.couponsTitled(t, title))

		body := requireStatus(t, k.do("GET", "/api/v2/coupons/?page_size=1", k.staff, nil), http.StatusOK)
		require.GreaterOrEqual(t, body["count"].(float64), float64(1))
		require.Len(t, body["results"], 1)
		require.Nil(t, body["previous"])
		if body["count"].(float64) > 1 {
			require.Contains(t, body["next"], "page=2")
		}
		found := false
		for page := 1; !found; page++ {
			body := requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/coupons/?page_size=100&page=%d", page), k.staff, nil), http.StatusOK)
			for _, r := range body["results"].([]any) {
				if r := r.(map[string]any); r["id"] == float64(id) {
					found = true
					require.Equal(t, title, r["title"])
					require.Equal(t, "Absolute", r["benefit_type"])
					require.Equal(t, "5.00", r["benefit_value"])
					require.Equal(t, "Once per customer", r["voucher_type"])
					require.Equal(t, float64(7), r["max_uses"])
					require.NotNil(t, r["code"])
				}
			}
			require.True(t, found || body["next"] != nil, "coupon %d listed", id)
		}
		requireStatus(t, k.do("GET", "/api/v2/coupons/?page=0", k.staff, nil), http.StatusBadRequest)
	})

	t.Run("DetailNotFound", func(t *testing.T) {
		requireStatus(t, k.do("GET", "/api/v2/coupons/987654321/", k.staff, nil), http.StatusNotFound)
		requireStatus(t, k.do("GET", "/api/v2/coupons/abc/", k.staff, nil), http.StatusNotFound)
		requireStatus(t, k.do("GET", "/api/v2/coupons/987654321/codes/", k.staff, nil), http.StatusNotFound)
		requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/coupons/%d/", c.product), k.staff, nil), http.StatusNotFound) // a seat is not a coupon
	})

	t.Run("CodesAsJSONAndCSV", func(t *testing.T) {
		id, _ := k.createCoupon(t, withChanges(promoCouponBody(dbtest.Unique("CSV "), c.stockRecord), map[string]any{"quantity": 4, "voucher_type": "Single use"}))
		body := requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/coupons/%d/codes/", id), k.staff, nil), http.StatusOK)
		require.Equal(t, float64(4), body["count"])
		var codes []string
		for _, r := range body["results"].([]any) {
			v := r.(map[string]any)
			code := v["code"].(string)
			codes = append(codes, code)
			require.Equal(t, "Single use", v["usage"])
			require.Equal(t, "http://shop.test/coupons/offer/?code="+code, v["redeem_url"])
			require.Equal(t, float64(0), v["num_orders"])
		}

		req := httptest.NewRequest("GET", fmt.Sprintf("/api/v2/coupons/%d/codes/", id), nil)
		req.Header.Set("Authorization", "JWT "+k.staff)
		req.Header.Set("Accept", "text/csv")
		rec := serve(k.harness, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
		require.Contains(t, rec.Header().Get("Content-Disposition"), fmt.Sprintf("coupon-%d-codes.csv", id))
		rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 5, "a header and one row per code")
		require.Equal(t, []string{"code", "redeem_url", "voucher_type", "num_orders", "start_datetime", "end_datetime"}, rows[0])
		for i, row := range rows[1:] {
			require.Equal(t, codes[i], row[0])
			require.Equal(t, "http://shop.test/coupons/offer/?code="+codes[i], row[1])
			require.Equal(t, "Single use", row[2])
			require.Equal(t, "0", row[3])
			_, err := time.Parse(time.RFC3339, row[4])
			require.NoError(t, err)
		}
	})

	t.Run("NumUsesCountsOrders", func(t *testing.T) {
		id, code := k.couponCode(t, c.stockRecord, nil)
		user := dbtest.Unique("cpn-uses-")
		basketID, _, _ := k.reserve(t, user, c.sku, code)
		require.Equal(t, float64(0), k.coupon(t, id)["num_uses"], "a reservation is not a use")
		promoPlaceOrder(t, k, basketID)
		require.Equal(t, float64(1), k.coupon(t, id)["num_uses"])
	})
}

func TestCouponUpdate(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "CpnPut", "49.00")
	id, code := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Multi-use", "max_uses": 5})
	path := fmt.Sprintf("/api/v2/coupons/%d/", id)
	tok := k.token(dbtest.Unique("cpn-put-"), false)
	require.Equal(t, "39.20", k.calc(t, tok, "code="+code, c.sku))

	t.Run("ChangesAreReflected", func(t *testing.T) {
		title := dbtest.Unique("Renamed ")
		start, end := promoTime(-2*time.Hour), promoTime(72*time.Hour)
		body := requireStatus(t, k.do("PUT", path, k.staff, map[string]any{
			"title": title, "note": "new note", "benefit_value": "50", "max_uses": 9,
			"start_datetime": start, "end_datetime": end, "category": map[string]any{"name": "Partner"}, "email_domains": "",
		}), http.StatusOK)
		detail := k.coupon(t, id)
		require.Equal(t, body, detail)
		require.Equal(t, title, detail["title"])
		require.Equal(t, "new note", detail["note"])
		require.Equal(t, "50.00", detail["benefit_value"])
		require.Equal(t, float64(9), detail["max_uses"])
		require.Equal(t, map[string]any{"name": "Partner"}, detail["category"])
		promoSameInstant(t, start, detail["start_date"])
		promoSameInstant(t, end, detail["end_date"])
		require.Equal(t, code, detail["code"])
		require.Equal(t, "24.50", k.calc(t, tok, "code="+code, c.sku), "the new benefit applies at once")

		v := requireStatus(t, k.do("GET", "/api/v2/vouchers/?code="+code, k.staff, nil), http.StatusOK)["results"].([]any)[0].(map[string]any)
		require.Equal(t, title, v["name"], "the voucher takes the new title")
		promoSameInstant(t, start, v["start_datetime"])
		promoSameInstant(t, end, v["end_datetime"])
	})

	t.Run("PatchOneField", func(t *testing.T) {
		requireStatus(t, k.do("PATCH", path, k.staff, map[string]any{"note": "patched"}), http.StatusOK)
		detail := k.coupon(t, id)
		require.Equal(t, "patched", detail["note"])
		require.Equal(t, "50.00", detail["benefit_value"], "the rest stays")
	})

	t.Run("MovingTheEndIntoThePastExpiresIt", func(t *testing.T) {
		other, otherCode := k.couponCode(t, c.stockRecord, nil)
		requireStatus(t, k.do("PUT", fmt.Sprintf("/api/v2/coupons/%d/", other), k.staff, map[string]any{
			"start_datetime": promoTime(-48 * time.Hour), "end_datetime": promoTime(-time.Hour),
		}), http.StatusOK)
		require.Equal(t, "EXPIRED", k.coupon(t, other)["code_status"])
		require.Equal(t, "49.00", k.calc(t, tok, "code="+otherCode, c.sku))
		basketID, btok := k.basketFor(dbtest.Unique("cpn-put-exp-"), c.sku)
		requirePromoError(t, k.addCode(basketID, btok, otherCode), "Coupon code '"+otherCode+"' has expired.")
	})

	t.Run("RefusedChangesChangeNothing", func(t *testing.T) {
		before := k.coupon(t, id)
		cases := map[string]struct {
			body   any
			field  string
			detail string
		}{
			"VoucherType":       {map[string]any{"voucher_type": "Single use"}, "", "Only title, category, note, start_datetime, end_datetime, benefit_value, max_uses, email_domains and price can be changed."},
			"BenefitType":       {map[string]any{"benefit_type": "Absolute"}, "", "Only title, category, note, start_datetime, end_datetime, benefit_value, max_uses, email_domains and price can be changed."},
			"Code":              {map[string]any{"code": "NEWCODE"}, "", "Only title, category, note, start_datetime, end_datetime, benefit_value, max_uses, email_domains and price can be changed."},
			"Quantity":          {map[string]any{"quantity": 2}, "", "Only title, category, note, start_datetime, end_datetime, benefit_value, max_uses, email_domains and price can be changed."},
			"StockRecords":      {map[string]any{"stock_record_ids": []int64{c.stockRecord}}, "", "Only title, category, note, start_datetime, end_datetime, benefit_value, max_uses, email_domains and price can be changed."},
			"UnknownKey":        {map[string]any{"colour": "red"}, "colour", "Unknown field."},
			"EmptyTitle":        {map[string]any{"title": " "}, "title", "Cannot be empty."},
			"PercentageOver100": {map[string]any{"benefit_value": "150"}, "benefit_value", "A percentage is at most 100."},
			"ZeroBenefit":       {map[string]any{"benefit_value": "0"}, "benefit_value", "Must be positive."},
			"MaxUsesZero":       {map[string]any{"max_uses": 0}, "max_uses", "Must be from 1 to 2147483647."},
			"EndBeforeStart":    {map[string]any{"end_datetime": promoTime(-72 * time.Hour)}, "end_datetime", "The end must be after the start."},
			"BadDomains":        {map[string]any{"email_domains": "nodot"}, "email_domains", `"nodot" has no dot.`},
			"TitleAndBadDates":  {map[string]any{"title": "half applied?", "start_datetime": promoTime(96 * time.Hour)}, "end_datetime", "The end must be after the start."},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				got := requireStatus(t, k.do("PUT", path, k.staff, tc.body), http.StatusBadRequest)
				require.Equal(t, tc.detail, got["detail"])
				if tc.field != "" {
					require.Equal(t, tc.field, got["field"])
				}
			})
		}
		requireStatus(t, k.do("PUT", path, k.staff, ""), http.StatusBadRequest)
		require.Equal(t, before, k.coupon(t, id))
		requireStatus(t, k.do("PUT", "/api/v2/coupons/987654321/", k.staff, map[string]any{"note": "x"}), http.StatusNotFound)
	})

	t.Run("SingleUseRefusesMaxUses", func(t *testing.T) {
		single, _ := k.couponCode(t, c.stockRecord, map[string]any{"voucher_type": "Single use"})
		got := requireStatus(t, k.do("PUT", fmt.Sprintf("/api/v2/coupons/%d/", single), k.staff, map[string]any{"max_uses": 3}), http.StatusBadRequest)
		require.Equal(t, "max_uses", got["field"])
		require.Equal(t, "A single-use coupon cannot have max_uses.", got["detail"])
	})
}

func TestCouponDelete(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "CpnDel", "49.00")
	id, code := k.couponCode(t, c.stockRecord, nil)
	user := dbtest.Unique("cpn-del-")
	basketID, tok := k.basketFor(user, c.sku)
	requireStatus(t, k.addCode(basketID, tok, code), http.StatusOK)
	require.Equal(t, "39.20", k.basket(t, basketID, tok)["total_incl_tax"])

	requireStatus(t, k.do("DELETE", fmt.Sprintf("/api/v2/coupons/%d/", id), k.token("cpn-del-learner", false), nil), http.StatusForbidden)
	rec := k.do("DELETE", fmt.Sprintf("/api/v2/coupons/%d/", id), k.staff, nil)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Empty(t, rec.Body.String())

	requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/coupons/%d/", id), k.staff, nil), http.StatusNotFound)
	requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/coupons/%d/codes/", id), k.staff, nil), http.StatusNotFound)
	requireStatus(t, k.do("DELETE", fmt.Sprintf("/api/v2/coupons/%d/", id), k.staff, nil), http.StatusNotFound)
	requireStatus(t, k.do("PUT", fmt.Sprintf("/api/v2/coupons/%d/", id), k.staff, map[string]any{"note": "x"}), http.StatusNotFound)

	// Its code no longer exists anywhere.
	basket := k.basket(t, basketID, tok)
	require.Nil(t, basket["voucher"])
	require.Equal(t, "49.00", basket["total_incl_tax"])
	require.Equal(t, []any{}, basket["offers"])
	requirePromoError(t, k.addCode(basketID, tok, code), "Coupon code '"+code+"' does not exist.")
	require.Equal(t, "49.00", k.calc(t, tok, "code="+code, c.sku))
	body := requireStatus(t, k.do("GET", "/api/v2/vouchers/?code="+code, k.staff, nil), http.StatusOK)
	require.Equal(t, float64(0), body["count"])
	requireStatus(t, k.do("GET", "/api/v2/vouchers/offers/?code="+code, "", nil), http.StatusBadRequest)
	require.Zero(t, k.count("SELECT count(*) FROM offers WHERE name LIKE $1", fmt.Sprintf("Coupon [%d]-%%", id)), "its offers are gone")
}

// The codes of a coupon are vouchers shaped as GET /api/v2/vouchers/ shapes them, with their
// offers and benefit.
func TestCouponCodesShowTheirBenefit(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "CpnCodeBenefit", "49.00")
	id, code := k.couponCode(t, c.stockRecord, nil)
	listed := k.voucher(t, code)
	require.Equal(t, map[string]any{"type": "Percentage", "value": "20.00"}, listed["benefit"])
	require.Len(t, listed["offers"], 1)
	body := requireStatus(t, k.do("GET", fmt.Sprintf("/api/v2/coupons/%d/codes/", id), k.staff, nil), http.StatusOK)
	v := body["results"].([]any)[0].(map[string]any)
	require.Equal(t, code, v["code"])

	require.Equal(t, listed["benefit"], v["benefit"])
	require.Equal(t, listed["offers"], v["offers"])
}
