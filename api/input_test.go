package api_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The tests of this file that compare snapshots are not parallel: they must see no other
// test's writes, and Go runs every parallel test after the sequential ones.

// snapshot is, for every table of the package's schema, its row count and its newest row
// version (max xmin): any insert, update or delete changes it.
func (h *harness) snapshot() map[string]string {
	h.t.Helper()
	ctx := context.Background()
	pool := dbtest.Pool(h.t)
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	require.NoError(h.t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(h.t, err)
	require.NotEmpty(h.t, tables)
	out := map[string]string{}
	for _, table := range tables {
		var state string
		q := fmt.Sprintf("SELECT count(*) || '/' || coalesce(max(xmin::text::bigint), 0) FROM %s", pgx.Identifier{table}.Sanitize())
		require.NoError(h.t, pool.QueryRow(ctx, q).Scan(&state))
		out[table] = state
	}
	return out
}

// requireUnchanged fails when a table changed since before.
func (h *harness) requireUnchanged(t *testing.T, before map[string]string, what string) {
	t.Helper()
	after := h.snapshot()
	for _, table := range slices.Sorted(maps.Keys(before)) {
		require.Equal(t, before[table], after[table], "%s wrote to %s", what, table)
	}
}

// routeQueryNames are the query parameters the handlers read, and one they do not.
var routeQueryNames = []string{"page", "page_size", "code", "sku", "username", "order_number", "outcome",
	"course_id", "product_class", "include_products", "is_anonymous", "unread"}

// routePath fills the parameters of a registered route: each with bad when it is not empty,
// else with a harmless value.
func routePath(route, bad string) string {
	valid := map[string]string{":id": "1", ":sku": "ABC1234", ":code": "CODE", ":number": "EDX-100001",
		"*course_path": "", "*course_id": "course-v1:a+b+c"}
	segments := strings.Split(route, "/")
	for i, seg := range segments {
		if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
			segments[i] = valid[seg]
			if bad != "" {
				segments[i] = bad
			}
		}
	}
	return strings.Join(segments, "/")
}

func TestEveryRouteRefusesNULAndInvalidUTF8(t *testing.T) {
	h := newHarness(t)
	routes := h.engine.Routes()
	require.Greater(t, len(routes), 30)
	identities := map[string]string{"anonymous": "", "learner": h.token(dbtest.Unique("nul-learner-"), false),
		"staff": h.token(dbtest.Unique("nul-staff-"), true)}
	for _, tok := range identities {
		if tok != "" {
			requireStatus(t, h.do("GET", "/api/v2/orders/", tok, nil), http.StatusOK) // the users exist now
		}
	}
	for _, route := range routes {
		before := h.snapshot()
		for _, bad := range []string{"%00", "%FF", "a%00b", "%C3%28"} {
			var paths []string
			if strings.ContainsAny(route.Path, ":*") {
				paths = append(paths, routePath(route.Path, bad))
			}
			for _, name := range routeQueryNames {
				paths = append(paths, routePath(route.Path, "")+"?"+name+"="+bad, routePath(route.Path, "")+"?sku=A&"+name+"="+bad)
			}
			paths = append(paths, routePath(route.Path, "")+"?"+bad+"=1")
			for who, tok := range identities {
				for _, path := range paths {
					var body any
					if route.Method != http.MethodGet && route.Method != http.MethodDelete {
						body = "{}"
					}
					rec := h.do(route.Method, path, tok, body)
					got := requireStatus(t, rec, http.StatusBadRequest)
					require.NotEmpty(t, got["detail"], "%s %s as %s", route.Method, path, who)
				}
			}
		}
		h.requireUnchanged(t, before, route.Method+" "+route.Path)
	}
}

func TestJSONStringsWithNULOrInvalidUTF8Are400(t *testing.T) {
	k := newPromoKit(t)
	course := k.course(t, "Nul", "49.00")
	basketID, learner := k.basketFor(dbtest.Unique("nul-basket-"), course.sku)
	couponID, _ := k.createCoupon(t, promoCouponBody(dbtest.Unique("NUL coupon "), course.stockRecord))
	offerID, _ := k.createOffer(t, withChanges(promoOfferBody(dbtest.Unique("NUL offer "), course.product), map[string]any{"status": "Suspended"}))
	seat := func(field string, value any) map[string]any {
		body := seatsBody(dbtest.Unique("course-v1:edX+NulPub")+"+2026", "NUL course", "10.00")
		product := body["products"].([]any)[1].(map[string]any)
		product[field] = value
		return body
	}
	cases := []struct {
		name, method, path, token string
		body                      any
		field                     string
	}{
		{"PublicationName", "POST", "/api/v2/publication/", k.staff, withChanges(seatsBody("course-v1:edX+N+1", "x", "1"), map[string]any{"name": "Go\u0000101"}), "name"},
		{"PublicationID", "POST", "/api/v2/publication/", k.staff, withChanges(seatsBody("course-v1:edX+N+1", "x", "1"), map[string]any{"id": "course-v1:a+b\u0000+c"}), "id"},
		{"PublicationCurrency", "POST", "/api/v2/publication/", k.staff, seat("price_currency", "US\u0000"), "products[1].price_currency"},
		{"PublicationAttribute", "POST", "/api/v2/publication/", k.staff, seat("attribute_values", []any{
			map[string]any{"name": "credit_provider", "value": "\u0000"}}), "products[1].attribute_values[0].value"},
		{"PublicationUpdate", "PUT", "/api/v2/publication/" + course.id, k.staff, withChanges(seatsBody(course.id, "x", "1"), map[string]any{"name": "\u0000"}), "name"},
		{"StockRecordCurrency", "PUT", "/api/v2/stockrecords/" + course.sku + "/", k.staff, map[string]any{"price_currency": "\u0000"}, "price_currency"},
		{"BasketSKU", "POST", "/api/v2/baskets/", learner, map[string]any{"products": []any{map[string]any{"sku": course.sku + "\u0000"}}}, "products[0].sku"},
		{"BasketProcessor", "POST", "/api/v2/baskets/", learner, map[string]any{"products": []any{map[string]any{"sku": course.sku}},
			"checkout": true, "payment_processor_name": "cyber\u0000source"}, "payment_processor_name"},
		{"VoucherCode", "POST", fmt.Sprintf("/api/v2/baskets/%d/vouchers/", basketID), learner, map[string]any{"code": "AB\u0000C"}, "code"},
		{"CheckoutProcessor", "POST", "/api/v2/checkout/", learner, map[string]any{"basket_id": basketID, "payment_processor": "\u0000"}, "payment_processor"},
		{"CouponTitle", "POST", "/api/v2/coupons/", k.staff, withChanges(promoCouponBody("a\u0000", course.stockRecord), nil), "title"},
		{"CouponCategory", "POST", "/api/v2/coupons/", k.staff, withChanges(promoCouponBody("t", course.stockRecord), map[string]any{"category": map[string]any{"name": "\u0000"}}), "category.name"},
		{"CouponCode", "POST", "/api/v2/coupons/", k.staff, withChanges(promoCouponBody("t", course.stockRecord), map[string]any{"code": "NUL\u0000CODE"}), "code"},
		{"CouponNote", "PUT", fmt.Sprintf("/api/v2/coupons/%d/", couponID), k.staff, map[string]any{"note": "\u0000"}, "note"},
		{"CouponKey", "PATCH", fmt.Sprintf("/api/v2/coupons/%d/", couponID), k.staff, `{"ti\u0000tle": "x"}`, "ti\uFFFDtle"},
		{"OfferName", "POST", "/api/v2/offers/", k.staff, promoOfferBody("off\u0000er"), "name"},
		{"OfferDomains", "PUT", fmt.Sprintf("/api/v2/offers/%d/", offerID), k.staff, withChanges(promoOfferBody("x"), map[string]any{"email_domains": "a.com,\u0000"}), "email_domains"},
		{"OfferSeatTypes", "POST", "/api/v2/offers/", k.staff, withChanges(promoOfferBody("x"), map[string]any{
			"range": map[string]any{"course_seat_types": []any{"verified", "\u0000"}}}), "range.course_seat_types[1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := k.snapshot()
			body := requireStatus(t, k.do(tc.method, tc.path, tc.token, tc.body), http.StatusBadRequest)
			require.Equal(t, tc.field, body["field"], body)
			require.Contains(t, body["detail"], "NUL")
			k.requireUnchanged(t, before, tc.name)
		})
	}
	t.Run("InvalidUTF8", func(t *testing.T) {
		for _, raw := range []string{`{"name":"Go` + "\xff" + `101","id":"course-v1:edX+U+1","products":[]}`, `{"na` + "\xc3\x28" + `me":"x"}`} {
			before := k.snapshot()
			body := requireStatus(t, k.do("POST", "/api/v2/publication/", k.staff, []byte(raw)), http.StatusBadRequest)
			require.Contains(t, body["detail"], "not valid UTF-8")
			k.requireUnchanged(t, before, "invalid UTF-8")
		}
	})
}

func TestNamesAreBounded(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	course := k.course(t, "Long", "49.00")
	_, learner := k.basketFor(dbtest.Unique("long-"), course.sku)
	long := func(n int) string { return strings.Repeat("é", n) }
	cases := []struct {
		name, method, path, token string
		body                      any
		field                     string
	}{
		{"CourseName", "POST", "/api/v2/publication/", k.staff, seatsBody(dbtest.Unique("course-v1:edX+L")+"+1", long(256), "1"), "name"},
		{"CreditProvider", "POST", "/api/v2/publication/", k.staff, map[string]any{"id": dbtest.Unique("course-v1:edX+L") + "+2", "name": "n",
			"products": []any{map[string]any{"product_class": "Seat", "price": "1", "attribute_values": []any{
				map[string]any{"name": "certificate_type", "value": "credit"}, map[string]any{"name": "id_verification_required", "value": true},
				map[string]any{"name": "credit_provider", "value": long(256)}}}}}, "products[0].attribute_values.credit_provider"},
		{"BasketSKU", "POST", "/api/v2/baskets/", learner, map[string]any{"products": []any{map[string]any{"sku": strings.Repeat("A", 129)}}}, "products[0].sku"},
		{"CouponTitle", "POST", "/api/v2/coupons/", k.staff, promoCouponBody(long(256), course.stockRecord), "title"},
		{"CouponCategory", "POST", "/api/v2/coupons/", k.staff, withChanges(promoCouponBody("t", course.stockRecord), map[string]any{"category": long(256)}), "category"},
		{"CouponNote", "POST", "/api/v2/coupons/", k.staff, withChanges(promoCouponBody("t", course.stockRecord), map[string]any{"note": long(4097)}), "note"},
		{"OfferName", "POST", "/api/v2/offers/", k.staff, promoOfferBody(long(129)), "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := requireStatus(t, k.do(tc.method, tc.path, tc.token, tc.body), http.StatusBadRequest)
			require.Equal(t, tc.field, body["field"], body)
		})
	}
	t.Run("AtTheBoundIsAccepted", func(t *testing.T) {
		requireStatus(t, k.do("POST", "/api/v2/publication/", k.staff, seatsBody(dbtest.Unique("course-v1:edX+L")+"+3", long(255), "1")), http.StatusCreated)
		requireStatus(t, k.do("POST", "/api/v2/offers/", k.staff, withChanges(promoOfferBody(dbtest.Unique("L")+long(100), course.product), map[string]any{"status": "Suspended"})), http.StatusCreated)
	})
}

func TestTokenClaimsWithNULOrTooLongAre401(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	prefix := dbtest.Unique("claims-")
	for name, o := range map[string]auth.TokenOptions{
		"NULUsername":  {Username: prefix + "a\x00b"},
		"LongUsername": {Username: prefix + strings.Repeat("u", 151)},
		"NULEmail":     {Username: prefix + "e", Email: "e\x00@example.com"},
		"LongEmail":    {Username: prefix + "f", Email: strings.Repeat("e", 250) + "@example.com"},
		"NULFullName":  {Username: prefix + "g", FullName: "Ada\x00"},
		"LongFullName": {Username: prefix + "h", FullName: strings.Repeat("n", 256)},
	} {
		t.Run(name, func(t *testing.T) {
			o.Issuer = testIssuer
			tok, err := auth.Mint(testSecret, o)
			require.NoError(t, err)
			for _, path := range []string{"/api/v2/courses/", "/api/v2/orders/"} {
				body := requireStatus(t, h.do("GET", path, tok, nil), http.StatusUnauthorized)
				require.Contains(t, body["detail"], "claim")
			}
		})
	}
	require.Zero(t, h.count("SELECT count(*) FROM users WHERE username LIKE $1", prefix+"%"))
}

func TestHugePagesAre400OnEveryList(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	learner, staff := h.token(dbtest.Unique("pages-"), false), h.token(dbtest.Unique("pages-staff-"), true)
	lists := map[string]string{"/api/v2/products/": "", "/api/v2/courses/": "", "/api/v2/orders/": learner,
		"/api/v2/coupons/": staff, "/api/v2/offers/": staff, "/api/v2/vouchers/": staff}
	for path, tok := range lists {
		for _, q := range []string{"page=9223372036854775807", "page=9223372036854775807&page_size=1000",
			"page=9223372036854775807&page_size=2", "page=4611686018427387905&page_size=4", "page=2147483649&page_size=1",
			"page=2147485&page_size=1000"} {
			body := requireStatus(t, h.do("GET", path+"?"+q, tok, nil), http.StatusBadRequest)
			require.Equal(t, "page", body["field"], "%s?%s", path, q)
		}
		for _, q := range []string{"page=2147483648&page_size=1", "page=2147484&page_size=1000"} {
			body := requireStatus(t, h.do("GET", path+"?"+q, tok, nil), http.StatusOK)
			require.Empty(t, body["results"], "%s?%s: the last page the store can reach is empty", path, q)
		}
	}
}

func TestPriceCurrencyMustBeISO4217(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	staff := h.token(dbtest.Unique("cur-staff-"), true)
	skus := h.publish(dbtest.Unique("course-v1:edX+Cur")+"+2026", "49.00")
	publication := func(currency any) map[string]any {
		body := seatsBody(dbtest.Unique("course-v1:edX+Cur")+"+2026", "Currencies", "10.00")
		body["products"].([]any)[1].(map[string]any)["price_currency"] = currency
		return body
	}
	for _, bad := range []any{"XYZ", "usd1", "", "US", "XTS", "XXX", "U$D"} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			body := requireStatus(t, h.do("POST", "/api/v2/publication/", staff, publication(bad)), http.StatusBadRequest)
			require.Equal(t, "products[1].price_currency", body["field"], body)
			body = requireStatus(t, h.do("PUT", "/api/v2/stockrecords/"+skus["verified"]+"/", staff, map[string]any{"price_currency": bad}), http.StatusBadRequest)
			require.Equal(t, "price_currency", body["field"], body)
		})
	}
	t.Run("KnownCodesInAnyCaseAreAccepted", func(t *testing.T) {
		body := requireStatus(t, h.do("POST", "/api/v2/publication/", staff, publication(" eur ")), http.StatusCreated)
		require.Equal(t, "EUR", body["products"].([]any)[1].(map[string]any)["stockrecords"].([]any)[0].(map[string]any)["price_currency"])
		body = requireStatus(t, h.do("PUT", "/api/v2/stockrecords/"+skus["verified"]+"/", staff, map[string]any{"price_currency": "gbp"}), http.StatusOK)
		require.Equal(t, "GBP", body["price_currency"])
	})
}
