package api_test

import (
	"net/http"
	"testing"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// csrfToken fetches a token from handler, with the cookies given, and returns it and the
// cookie the answer set.
func csrfToken(t *testing.T, handler http.Handler, cookies ...*http.Cookie) (string, *http.Cookie) {
	t.Helper()
	rec := serveHandler(handler, browserRequest("GET", api.CSRFTokenPath, cookies, ""))
	body := requireStatus(t, rec, http.StatusOK)
	token, _ := body["csrfToken"].(string)
	require.NotEmpty(t, token)
	for _, c := range rec.Result().Cookies() {
		if c.Name == api.CSRFCookieName {
			return token, c
		}
	}
	t.Fatalf("no %s cookie in %v", api.CSRFCookieName, rec.Header())
	return "", nil
}

func TestCSRFTokenEndpoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token, cookie := csrfToken(t, h.handler)
	require.Equal(t, token, cookie.Value, "double submit: the cookie holds the token")
	require.Equal(t, "/", cookie.Path)
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	require.False(t, cookie.Secure, "the harness's public URL is http")
	require.Greater(t, cookie.MaxAge, 0)

	again, _ := csrfToken(t, h.handler)
	require.NotEqual(t, token, again, "each new token is random")
	kept, _ := csrfToken(t, h.handler, cookie)
	require.Equal(t, token, kept, "a browser that has a token keeps it")
	replaced, _ := csrfToken(t, h.handler, &http.Cookie{Name: api.CSRFCookieName, Value: "planted"})
	require.NotEqual(t, "planted", replaced, "a token not of ours is replaced")

	secure := h.withConfig(func(c *api.Config) { c.PublicURL = "https://shop.example.com" })
	_, cookie = csrfToken(t, secure)
	require.True(t, cookie.Secure, "an https service marks the cookie Secure")
}

func TestCookieAuthenticatedMutationsNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:Csrf+C")+"+2026", "49.00")
	basketBody := `{"products":[{"sku":"` + skus["verified"] + `"}]}`
	tok := h.token(dbtest.Unique("csrf-user-"), false)
	login := jwtCookies(t, tok)
	token, csrfCookie := csrfToken(t, h.handler, login...)
	other := h.withConfig(func(c *api.Config) { c.CSRFSecretKey = "another-service" })
	foreign, foreignCookie := csrfToken(t, other)
	post := func(cookies []*http.Cookie, headers ...string) map[string]any {
		rec := serve(h, browserRequest("POST", "/api/v2/baskets/", cookies, basketBody, headers...))
		if rec.Code == http.StatusForbidden {
			return jsonBody(t, rec)
		}
		return map[string]any{"status": rec.Code}
	}
	with := func(extra ...*http.Cookie) []*http.Cookie {
		return append(append([]*http.Cookie{}, login...), extra...)
	}

	for name, tc := range map[string]struct {
		cookies []*http.Cookie
		headers []string
		want    string
	}{
		"NoCookieNoHeader":      {login, nil, "CSRF Failed: CSRF cookie not set."},
		"HeaderWithoutCookie":   {login, []string{api.CSRFHeader, token}, "CSRF Failed: CSRF cookie not set."},
		"CookieWithoutHeader":   {with(csrfCookie), nil, "CSRF Failed: CSRF token missing."},
		"HeaderNotTheCookie":    {with(csrfCookie), []string{api.CSRFHeader, foreign}, "CSRF Failed: CSRF token incorrect."},
		"PlantedCookieAndValue": {with(&http.Cookie{Name: api.CSRFCookieName, Value: "planted.value"}), []string{api.CSRFHeader, "planted.value"}, "CSRF Failed: CSRF token incorrect."},
		"AnotherServicesToken":  {with(foreignCookie), []string{api.CSRFHeader, foreign}, "CSRF Failed: CSRF token incorrect."},
	} {
		t.Run(name, func(t *testing.T) {
			body := post(tc.cookies, tc.headers...)
			require.Equal(t, tc.want, body["detail"], body)
		})
	}
	t.Run("EveryUnsafeMethodIsChecked", func(t *testing.T) {
		for _, r := range []*http.Request{
			browserRequest("PUT", "/api/v2/stockrecords/NOPE/", login, `{"price":"1.00"}`),
			browserRequest("PATCH", "/api/v2/stockrecords/NOPE/", login, `{"price":"1.00"}`),
			browserRequest("DELETE", "/api/v2/baskets/1/vouchers/X", login, ""),
			browserRequest("POST", "/bff/payment/v0/vouchers/", login, `{"code":"X"}`),
		} {
			body := requireStatus(t, serve(h, r), http.StatusForbidden)
			require.Equal(t, "CSRF Failed: CSRF cookie not set.", body["detail"], r.Method)
		}
	})
	t.Run("WithTheTokenItPasses", func(t *testing.T) {
		require.Equal(t, http.StatusOK, post(with(csrfCookie), api.CSRFHeader, token)["status"])
	})
	t.Run("SafeMethodsNeedNoToken", func(t *testing.T) {
		requireStatus(t, serve(h, browserRequest("GET", "/api/v2/orders/", login, "")), http.StatusOK)
	})
	t.Run("HeaderTokenClientsAreNotChecked", func(t *testing.T) {
		r := browserRequest("POST", "/api/v2/baskets/", nil, basketBody, "Authorization", "JWT "+tok)
		requireStatus(t, serve(h, r), http.StatusOK)
		r = browserRequest("POST", "/api/v2/baskets/", login, basketBody, "Authorization", "JWT "+tok)
		requireStatus(t, serve(h, r), http.StatusOK)
	})
	t.Run("AnonymousRequestsAreNotChecked", func(t *testing.T) {
		body := requireStatus(t, serve(h, browserRequest("POST", "/api/v2/baskets/", nil, basketBody)), http.StatusUnauthorized)
		require.Equal(t, "Authentication credentials were not provided.", body["detail"])
		body = requireStatus(t, serve(h, browserRequest("POST", "/api/v2/baskets/", login[:1], basketBody)), http.StatusUnauthorized)
		require.Equal(t, "Authentication credentials were not provided.", body["detail"], "one JWT cookie is no login")
	})
	t.Run("TheRefusalIsReadableCrossOrigin", func(t *testing.T) {
		rec := serveHandler(corsHandler(h), browserRequest("POST", "/api/v2/baskets/", login, basketBody, "Origin", paymentPage))
		require.Equal(t, http.StatusForbidden, rec.Code)
		requireCORSAllowed(t, rec.Header(), paymentPage)
	})
}
