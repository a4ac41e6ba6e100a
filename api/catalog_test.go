package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

func TestPublication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	staff := h.token("pub-staff", true)

	t.Run("CreateThenUpdateKeepsSKUs", func(t *testing.T) {
		id := dbtest.Unique("course-v1:edX+Pub") + "+2026"
		body := requireStatus(t, h.do("POST", "/api/v2/publication/", staff, seatsBody(id, "Publishing 101", "49.00")), http.StatusCreated)
		require.Equal(t, id, body["id"])
		products := body["products"].([]any)
		require.Len(t, products, 2)
		skus := map[string]string{}
		for _, p := range products {
			p := p.(map[string]any)
			require.Regexp(t, `^[0-9A-F]{7}$`, p["partner_sku"])
			skus[p["title"].(string)] = p["partner_sku"].(string)
		}
		require.Contains(t, skus, "Seat in Publishing 101 with verified certificate")
		require.Contains(t, skus, "Seat in Publishing 101")

		update := seatsBody(id, "Publishing 102", "59.5")
		body = requireStatus(t, h.do("PUT", "/api/v2/publication/"+id, staff, update), http.StatusOK)
		for _, p := range body["products"].([]any) {
			p := p.(map[string]any)
			if strings.Contains(p["title"].(string), "verified") {
				require.Equal(t, "59.50", p["price"])
				require.Equal(t, skus["Seat in Publishing 101 with verified certificate"], p["partner_sku"])
				require.Equal(t, "Seat in Publishing 102 with verified certificate", p["title"])
			}
		}
		require.Equal(t, 2, h.count("SELECT count(*) FROM products WHERE course_id = $1", id))

		body = requireStatus(t, h.do("POST", "/api/v2/publication/", staff, seatsBody(id, "Again", "1.00")), http.StatusBadRequest)
		require.Equal(t, "id", body["field"])
	})

	t.Run("PriceAsJSONNumberIsExact", func(t *testing.T) {
		id := dbtest.Unique("course-v1:edX+Num") + "+2026"
		raw := `{"id":"` + id + `","name":"N","products":[{"product_class":"Seat","price":19.99,"attribute_values":[{"name":"certificate_type","value":"verified"},{"name":"id_verification_required","value":true}]}]}`
		body := requireStatus(t, h.do("POST", "/api/v2/publication/", staff, raw), http.StatusCreated)
		require.Equal(t, "19.99", body["products"].([]any)[0].(map[string]any)["price"])
	})

	t.Run("CreditSeat", func(t *testing.T) {
		id := dbtest.Unique("course-v1:edX+Cred") + "+2026"
		raw := `{"id":"` + id + `","name":"Credit","products":[{"product_class":"Seat","price":"300","attribute_values":[{"name":"certificate_type","value":"credit"},{"name":"id_verification_required","value":true},{"name":"credit_provider","value":"asu"},{"name":"credit_hours","value":3}]}]}`
		body := requireStatus(t, h.do("POST", "/api/v2/publication/", staff, raw), http.StatusCreated)
		attrs := body["products"].([]any)[0].(map[string]any)["attribute_values"].([]any)
		found := map[string]any{}
		for _, a := range attrs {
			found[a.(map[string]any)["name"].(string)] = a.(map[string]any)["value"]
		}
		require.Equal(t, "asu", found["credit_provider"])
		require.Equal(t, float64(3), found["credit_hours"])
	})

	t.Run("InvalidPartsAre400AndWriteNothing", func(t *testing.T) {
		seat := func(price any, attrs string) string {
			p := "null"
			switch v := price.(type) {
			case string:
				p = `"` + v + `"`
			case nil:
			default:
				p = v.(string)
			}
			return `{"product_class":"Seat","price":` + p + `,"attribute_values":[` + attrs + `]}`
		}
		idv := `{"name":"id_verification_required","value":true}`
		cases := map[string]struct {
			body  func(id string) string
			field string
		}{
			"NegativePrice":   {func(id string) string { return pubJSON(id, "C", seat("-1.00", idv)) }, "products[0].price"},
			"NonNumericPrice": {func(id string) string { return pubJSON(id, "C", seat("abc", idv)) }, "products[0].price"},
			"ThreeDecimals":   {func(id string) string { return pubJSON(id, "C", seat("1.005", idv)) }, "products[0].price"},
			"MissingPrice":    {func(id string) string { return pubJSON(id, "C", seat(nil, idv)) }, "products[0].price"},
			"BoolPrice": {func(id string) string {
				return pubJSON(id, "C", `{"product_class":"Seat","price":true,"attribute_values":[`+idv+`]}`)
			}, "products[0].price"},
			"UnknownCertType": {func(id string) string {
				return pubJSON(id, "C", seat("1.00", idv+`,{"name":"certificate_type","value":"gold"}`))
			}, "products[0].attribute_values.certificate_type"},
			"UnknownAttribute": {func(id string) string { return pubJSON(id, "C", seat("1.00", idv+`,{"name":"colour","value":"red"}`)) }, "products[0].attribute_values"},
			"MissingIDV":       {func(id string) string { return pubJSON(id, "C", seat("1.00", "")) }, "products[0].attribute_values.id_verification_required"},
			"WrongClass": {func(id string) string {
				return pubJSON(id, "C", `{"product_class":"Coupon","price":"1","attribute_values":[]}`)
			}, "products[0].product_class"},
			"SecondSeatBad": {func(id string) string { return pubJSON(id, "C", seat("1.00", idv)+","+seat("-5", idv)) }, "products[1].price"},
			"DuplicateSeat": {func(id string) string { return pubJSON(id, "C", seat("1.00", idv)+","+seat("2.00", idv)) }, "products[1]"},
			"BadCourseID":   {func(string) string { return pubJSON("not-a-key", "C", seat("1.00", idv)) }, "id"},
			"MissingName":   {func(id string) string { return pubJSON(id, "", seat("1.00", idv)) }, "name"},
			"NameWrongType": {func(id string) string { return `{"id":"` + id + `","name":5,"products":[]}` }, "name"},
			"BadExpires": {func(id string) string {
				return pubJSON(id, "C", `{"product_class":"Seat","price":"1","expires":"tomorrow","attribute_values":[`+idv+`]}`)
			}, "products[0].expires"},
			"BadDeadline": {func(id string) string {
				return `{"id":"` + id + `","name":"C","verification_deadline":"soon","products":[]}`
			}, "verification_deadline"},
			"MissingProducts": {func(id string) string { return `{"id":"` + id + `","name":"C"}` }, "products"},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				id := dbtest.Unique("course-v1:edX+Bad") + "+2026"
				body := requireStatus(t, h.do("POST", "/api/v2/publication/", staff, tc.body(id)), http.StatusBadRequest)
				require.Equal(t, tc.field, body["field"], body)
				require.Equal(t, 0, h.count("SELECT count(*) FROM courses WHERE id = $1", id))
			})
		}
	})

	t.Run("MalformedJSONIs400", func(t *testing.T) {
		for _, raw := range []string{`{"id":`, `[1,2]`, `"x"`, ``, `{"id":"a"} trailing`} {
			rec := h.do("POST", "/api/v2/publication/", staff, raw)
			require.Equal(t, http.StatusBadRequest, rec.Code, raw)
			jsonBody(t, rec)
		}
	})

	t.Run("BodyOver1MiBIs413", func(t *testing.T) {
		big := `{"id":"course-v1:a+b+c","name":"` + strings.Repeat("x", 1<<20) + `","products":[]}`
		requireStatus(t, h.do("POST", "/api/v2/publication/", staff, big), http.StatusRequestEntityTooLarge)
	})

	t.Run("AnonymousIs401AndLearnerIs403", func(t *testing.T) {
		requireStatus(t, h.do("POST", "/api/v2/publication/", "", seatsBody("course-v1:a+b+c", "C", "1")), http.StatusUnauthorized)
		requireStatus(t, h.do("POST", "/api/v2/publication/", h.token("learner", false), seatsBody("course-v1:a+b+c", "C", "1")), http.StatusForbidden)
		requireStatus(t, h.do("PUT", "/api/v2/publication/course-v1:a+b+c", h.token("learner", false), seatsBody("course-v1:a+b+c", "C", "1")), http.StatusForbidden)
	})

	t.Run("UpdateOfMissingCourseIs404", func(t *testing.T) {
		id := dbtest.Unique("course-v1:edX+Missing") + "+2026"
		requireStatus(t, h.do("PUT", "/api/v2/publication/"+id, staff, seatsBody(id, "C", "1")), http.StatusNotFound)
	})

	t.Run("BodyIDMustMatchPath", func(t *testing.T) {
		body := requireStatus(t, h.do("PUT", "/api/v2/publication/course-v1:a+b+c", staff, seatsBody("course-v1:x+y+z", "C", "1")), http.StatusBadRequest)
		require.Equal(t, "id", body["field"])
	})
}

func pubJSON(id, name, products string) string {
	return `{"id":"` + id + `","name":"` + name + `","products":[` + products + `]}`
}

func TestCatalogReads(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := dbtest.Unique("course-v1:edX+Read") + "+2026"
	skus := h.publish(id, "25.00")

	t.Run("CourseDetailWithProducts", func(t *testing.T) {
		body := requireStatus(t, h.do("GET", "/api/v2/courses/"+id+"/?include_products=true", "", nil), http.StatusOK)
		require.Equal(t, id, body["id"])
		require.Equal(t, "verified", body["type"])
		require.Len(t, body["products"], 2)
		body = requireStatus(t, h.do("GET", "/api/v2/courses/"+id+"/", "", nil), http.StatusOK)
		require.NotContains(t, body, "products")
	})
	t.Run("UnknownCourseIs404", func(t *testing.T) {
		requireStatus(t, h.do("GET", "/api/v2/courses/course-v1:no+such+course/", "", nil), http.StatusNotFound)
	})
	t.Run("CoursesArePaginated", func(t *testing.T) {
		h.publish(dbtest.Unique("course-v1:edX+Page")+"+2026", "1.00")
		body := requireStatus(t, h.do("GET", "/api/v2/courses/?page_size=1", "", nil), http.StatusOK)
		require.GreaterOrEqual(t, body["count"], float64(2))
		require.Len(t, body["results"], 1)
		require.Contains(t, body["next"], "page=2")
		require.Nil(t, body["previous"])
		body = requireStatus(t, h.do("GET", "/api/v2/courses/?page_size=1&page=2", "", nil), http.StatusOK)
		require.Contains(t, body["previous"], "page=1")
		requireStatus(t, h.do("GET", "/api/v2/courses/?page=0", "", nil), http.StatusBadRequest)
		requireStatus(t, h.do("GET", "/api/v2/courses/?page_size=abc", "", nil), http.StatusBadRequest)
	})
	t.Run("ProductsListAndDetail", func(t *testing.T) {
		body := requireStatus(t, h.do("GET", "/api/v2/products/?course_id="+strings.ReplaceAll(id, "+", "%2B"), "", nil), http.StatusOK)
		require.Equal(t, float64(2), body["count"])
		first := body["results"].([]any)[0].(map[string]any)
		pid := int64(first["id"].(float64))
		detail := requireStatus(t, h.do("GET", "/api/v2/products/"+itoa(pid)+"/", "", nil), http.StatusOK)
		require.Equal(t, first["partner_sku"], detail["partner_sku"])
		require.Equal(t, true, detail["is_available_to_buy"])
		requireStatus(t, h.do("GET", "/api/v2/products/999999999/", "", nil), http.StatusNotFound)
		requireStatus(t, h.do("GET", "/api/v2/products/abc/", "", nil), http.StatusNotFound)
	})
	t.Run("StockRecordsReadAnonymouslyAndPriceChangesByStaff", func(t *testing.T) {
		sku := skus["verified"]
		body := requireStatus(t, h.do("GET", "/api/v2/stockrecords/"+sku+"/", "", nil), http.StatusOK)
		require.Equal(t, "25.00", body["price"])
		require.Equal(t, "USD", body["price_currency"])

		staff := h.token("price-staff", true)
		body = requireStatus(t, h.do("PUT", "/api/v2/stockrecords/"+sku+"/", staff, `{"price":"30.10"}`), http.StatusOK)
		require.Equal(t, "30.10", body["price"])

		body = requireStatus(t, h.do("PUT", "/api/v2/stockrecords/"+sku+"/", staff, `{"price":"1.00","partner_sku":"HACKED"}`), http.StatusBadRequest)
		require.Equal(t, "Only the price_currency and price fields are allowed to be modified.", body["message"])
		requireStatus(t, h.do("PUT", "/api/v2/stockrecords/"+sku+"/", staff, `{"price":"-3"}`), http.StatusBadRequest)
		requireStatus(t, h.do("PUT", "/api/v2/stockrecords/"+sku+"/", staff, `{"price_currency":"dollars"}`), http.StatusBadRequest)
		requireStatus(t, h.do("PUT", "/api/v2/stockrecords/"+sku+"/", h.token("learner", false), `{"price":"1.00"}`), http.StatusForbidden)
		requireStatus(t, h.do("PUT", "/api/v2/stockrecords/NOSUCH/", staff, `{"price":"1.00"}`), http.StatusNotFound)

		body = requireStatus(t, h.do("GET", "/api/v2/stockrecords/"+sku+"/", "", nil), http.StatusOK)
		require.Equal(t, "30.10", body["price"], "rejected updates changed nothing")
	})
	t.Run("ExpiredSeatIsNotAvailable", func(t *testing.T) {
		eid := dbtest.Unique("course-v1:edX+Exp") + "+2026"
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		raw := pubJSON(eid, "E", `{"product_class":"Seat","price":"5","expires":"`+past+`","attribute_values":[{"name":"certificate_type","value":"verified"},{"name":"id_verification_required","value":true}]}`)
		body := requireStatus(t, h.do("POST", "/api/v2/publication/", h.token("s", true), raw), http.StatusCreated)
		require.Equal(t, false, body["products"].([]any)[0].(map[string]any)["is_available_to_buy"])
	})
}

func TestHugePageNumbersAre400(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, path := range []string{"/api/v2/products/?page=2147485&page_size=1000", "/api/v2/courses/?page=9999999999"} {
		requireStatus(t, h.do("GET", path, "", nil), http.StatusBadRequest)
	}
}
