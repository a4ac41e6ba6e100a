package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	expired, err := auth.Mint(testSecret, auth.TokenOptions{Username: "old", Issuer: testIssuer, Now: time.Now().Add(-2 * time.Hour), TTL: time.Hour})
	require.NoError(t, err)
	wrongIssuer, err := auth.Mint(testSecret, auth.TokenOptions{Username: "x", Issuer: "https://elsewhere"})
	require.NoError(t, err)
	wrongKey, err := auth.Mint("other-secret", auth.TokenOptions{Username: "x", Issuer: testIssuer})
	require.NoError(t, err)

	t.Run("MissingTokenIs401", func(t *testing.T) {
		body := requireStatus(t, h.do("GET", "/api/v2/baskets/calculate/?sku=A", "", nil), http.StatusUnauthorized)
		require.Equal(t, "Authentication credentials were not provided.", body["detail"])
	})
	for name, tok := range map[string]string{"Expired": expired, "WrongIssuer": wrongIssuer, "WrongKey": wrongKey, "Garbage": "abc.def.ghi"} {
		t.Run(name+"TokenIs401", func(t *testing.T) {
			body := requireStatus(t, h.do("GET", "/api/v2/baskets/calculate/?sku=A", tok, nil), http.StatusUnauthorized)
			require.NotEmpty(t, body["detail"])
		})
	}
	t.Run("BadTokenIs401EvenOnAnonymousEndpoint", func(t *testing.T) {
		requireStatus(t, h.do("GET", "/api/v2/courses/", expired, nil), http.StatusUnauthorized)
	})
	t.Run("MalformedHeaderIs401", func(t *testing.T) {
		for _, header := range []string{"Basic abc", "JWT", "Token x"} {
			r := httptestRequest("GET", "/api/v2/courses/", header)
			rec := serve(h, r)
			require.Equal(t, http.StatusUnauthorized, rec.Code, header)
		}
	})
	t.Run("BearerSchemeIsAccepted", func(t *testing.T) {
		r := httptestRequest("GET", "/api/v2/baskets/calculate/", "Bearer "+h.token("bearer-user", false))
		rec := serve(h, r)
		require.Equal(t, http.StatusBadRequest, rec.Code, "authenticated, then refused for lack of skus")
	})
	t.Run("UserIsCreatedAndUpdatedFromClaims", func(t *testing.T) {
		name := dbtest.Unique("claims-")
		tok, err := auth.Mint(testSecret, auth.TokenOptions{Username: name, Email: "a@example.com", FullName: "A", Admin: true, LMSUserID: 77, Issuer: testIssuer})
		require.NoError(t, err)
		h.do("GET", "/api/v2/courses/", tok, nil)
		u, err := h.store.UserByUsername(t.Context(), name)
		require.NoError(t, err)
		require.True(t, u.IsStaff)
		require.Equal(t, "a@example.com", u.Email)
		require.Equal(t, int64(77), *u.LMSUserID)

		demoted, err := auth.Mint(testSecret, auth.TokenOptions{Username: name, Email: "b@example.com", Issuer: testIssuer})
		require.NoError(t, err)
		h.do("GET", "/api/v2/courses/", demoted, nil)
		u, err = h.store.UserByUsername(t.Context(), name)
		require.NoError(t, err)
		require.False(t, u.IsStaff, "administrator:false demotes")
		require.Equal(t, "b@example.com", u.Email)
		require.Equal(t, "A", u.FullName, "an absent claim keeps the stored value")
		require.Equal(t, 1, h.count("SELECT count(*) FROM users WHERE username = $1", name))
	})
}

func TestRoutingErrorsAreJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := requireStatus(t, h.do("GET", "/api/v2/nothing-here/", "", nil), http.StatusNotFound)
	require.Equal(t, "Not found.", body["detail"])
	body = requireStatus(t, h.do("DELETE", "/api/v2/products/", "", nil), http.StatusMethodNotAllowed)
	require.True(t, strings.Contains(body["detail"].(string), "DELETE"))
	requireStatus(t, h.do("POST", "/api/v2/courses/", h.token("s", true), "{}"), http.StatusMethodNotAllowed)
}
