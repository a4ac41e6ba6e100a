package api_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/db/dbtest"
	lmssim "github.com/coursecommerce/commerce/simulators/lms"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// jwtCookies splits token into the LMS's two JWT cookies.
func jwtCookies(t *testing.T, token string) []*http.Cookie {
	t.Helper()
	hp, sig, err := auth.SplitToken(token)
	require.NoError(t, err)
	return []*http.Cookie{{Name: auth.HeaderPayloadCookie, Value: hp}, {Name: auth.SignatureCookie, Value: sig}}
}

// browserRequest builds a request as a browser sends it: cookies, no Authorization header, a
// JSON body when body is set, and extra headers as name, value pairs.
func browserRequest(method, path string, cookies []*http.Cookie, body string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

// serveHandler sends r to handler.
func serveHandler(handler http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	return rec
}

func TestJWTCookiesAuthenticateLikeTheAuthorizationHeader(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:Cookie+C")+"+2026", "49.00")
	owner := dbtest.Unique("cookie-owner-")
	tok := h.token(owner, false)
	body := requireStatus(t, h.do("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": skus["verified"]}}}), http.StatusOK)
	path := "/api/v2/baskets/" + itoa(int64(body["id"].(float64))) + "/"
	viaHeader := requireStatus(t, h.do("GET", path, tok, nil), http.StatusOK)

	for name, headers := range map[string][]string{
		"XHR":        {"USE-JWT-COOKIE", "true", "X-Requested-With", "XMLHttpRequest", "Accept", "application/json"},
		"Navigation": {"Accept", "text/html,application/xhtml+xml", "Sec-Fetch-Mode", "navigate"},
	} {
		t.Run(name, func(t *testing.T) {
			rec := serve(h, browserRequest("GET", path, jwtCookies(t, tok), "", headers...))
			require.Equal(t, viaHeader, requireStatus(t, rec, http.StatusOK), "the cookies are the same login as the header")
		})
	}
	t.Run("AnotherUsersCookiesDoNotOwnTheBasket", func(t *testing.T) {
		rec := serve(h, browserRequest("GET", path, jwtCookies(t, h.token(dbtest.Unique("cookie-other-"), false)), ""))
		require.NotEqual(t, http.StatusOK, rec.Code, rec.Body.String())
	})
	t.Run("UserIsProvisionedFromTheCookieClaims", func(t *testing.T) {
		name := dbtest.Unique("cookie-claims-")
		minted, err := auth.Mint(testSecret, auth.TokenOptions{Username: name, Email: "c@example.com", FullName: "C C", Admin: true, LMSUserID: 31, Issuer: testIssuer})
		require.NoError(t, err)
		requireStatus(t, serve(h, browserRequest("GET", "/api/v2/courses/", jwtCookies(t, minted), "")), http.StatusOK)
		u, err := h.store.UserByUsername(t.Context(), name)
		require.NoError(t, err)
		require.True(t, u.IsStaff)
		require.Equal(t, "c@example.com", u.Email)
		require.Equal(t, "C C", u.FullName)
		require.Equal(t, int64(31), *u.LMSUserID)
	})
}

func TestBadJWTCookiesAre401(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	good := h.token(dbtest.Unique("cookie-good-"), false)
	hp, sig, err := auth.SplitToken(good)
	require.NoError(t, err)
	header, payload, _ := strings.Cut(hp, ".")
	claims, err := base64.RawURLEncoding.DecodeString(payload)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(claims, &m))
	m["administrator"] = true
	raised, err := json.Marshal(m)
	require.NoError(t, err)
	flipped := []byte(sig)
	flipped[3] ^= 'A' ^ 'B'
	expired, err := auth.Mint(testSecret, auth.TokenOptions{Username: "old", Issuer: testIssuer, Now: time.Now().Add(-2 * time.Hour), TTL: time.Hour})
	require.NoError(t, err)
	wrongKey, err := auth.Mint("other-secret", auth.TokenOptions{Username: "x", Issuer: testIssuer})
	require.NoError(t, err)
	pair := func(hp, sig string) []*http.Cookie {
		return []*http.Cookie{{Name: auth.HeaderPayloadCookie, Value: hp}, {Name: auth.SignatureCookie, Value: sig}}
	}

	for name, cookies := range map[string][]*http.Cookie{
		"TamperedSignature": pair(hp, string(flipped)),
		"TamperedPayload":   pair(header+"."+base64.RawURLEncoding.EncodeToString(raised), sig),
		"Expired":           jwtCookies(t, expired),
		"WrongKey":          jwtCookies(t, wrongKey),
		"SignatureOfAnother": pair(hp, func() string {
			_, s, _ := auth.SplitToken(h.token("someone-else", false))
			return s
		}()),
		"ThreePartsInTheHeaderPayloadCookie": pair(good, sig),
		"Garbage":                            pair("abc", "def"),
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/api/v2/courses/", "/api/v2/orders/", "/checkout/receipt/?order_number=EDX-1"} {
				body := requireStatus(t, serve(h, browserRequest("GET", path, cookies, "")), http.StatusUnauthorized)
				require.NotEmpty(t, body["detail"])
			}
		})
	}
	t.Run("OneCookieAloneIsAnonymous", func(t *testing.T) {
		for _, cookies := range [][]*http.Cookie{jwtCookies(t, good)[:1], jwtCookies(t, good)[1:], pair(hp, "")} {
			requireStatus(t, serve(h, browserRequest("GET", "/api/v2/courses/", cookies, "")), http.StatusOK)
			body := requireStatus(t, serve(h, browserRequest("GET", "/api/v2/orders/", cookies, "")), http.StatusUnauthorized)
			require.Equal(t, "Authentication credentials were not provided.", body["detail"])
		}
	})
	t.Run("TheAuthorizationHeaderWinsOverCookies", func(t *testing.T) {
		r := browserRequest("GET", "/api/v2/orders/", jwtCookies(t, expired), "", "Authorization", "JWT "+good)
		requireStatus(t, serve(h, r), http.StatusOK)
	})
	t.Run("ProcessorCallbacksIgnoreCookies", func(t *testing.T) {
		number := dbtest.Unique("EDX-COOKIE-")
		r := browserRequest("POST", "/payment/cybersource/redirect/", jwtCookies(t, expired), unsignedReply(number),
			"Content-Type", "application/x-www-form-urlencoded")
		rec := serve(h, r)
		require.Equal(t, http.StatusBadRequest, rec.Code, "refused as unsigned, neither 401 for the stale cookies nor 403 for CSRF: %s", rec.Body)
		require.Equal(t, 1, h.responsesFor(number), "the reply reached the callback and was recorded")
	})
}

// rsaHandler is the harness's API with a verifier that also accepts the keys of publicSet.
func rsaHandler(t *testing.T, h *harness, publicSet []byte) http.Handler {
	t.Helper()
	verifier, err := auth.NewVerifier(testSecret, []string{testIssuer}, auth.WithJWKSet(string(publicSet)))
	require.NoError(t, err)
	return h.withConfig(func(c *api.Config) { c.Verifier = verifier })
}

func TestRSATokensFromTheJWKSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	private, public, err := auth.GenerateDevJWK("lms-1")
	require.NoError(t, err)
	handler := rsaHandler(t, h, public)
	mint := func(key []byte) string {
		tok, err := auth.MintWithJWK(key, auth.TokenOptions{Username: dbtest.Unique("rsa-"), Issuer: testIssuer})
		require.NoError(t, err)
		return tok
	}
	good := mint(private)
	requireStatus(t, serveHandler(handler, httptestRequest("GET", "/api/v2/orders/", "JWT "+good)), http.StatusOK)
	requireStatus(t, serveHandler(handler, browserRequest("GET", "/api/v2/orders/", jwtCookies(t, good), "")), http.StatusOK)
	requireStatus(t, serveHandler(handler, httptestRequest("GET", "/api/v2/orders/", "JWT "+h.token("hs-user", false))), http.StatusOK)

	otherKey, _, err := auth.GenerateDevJWK("lms-1")
	require.NoError(t, err)
	unknownKid, _, err := auth.GenerateDevJWK("lms-9")
	require.NoError(t, err)
	pub, err := jwkset.NewJWKFromRawJSON(firstKey(t, public), jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(pub.Key())
	require.NoError(t, err)
	confused := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": testIssuer, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "preferred_username": "mallory",
	})
	confused.Header["kid"] = "lms-1"
	confusedTok, err := confused.SignedString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	require.NoError(t, err)

	for name, tc := range map[string]struct{ token, want string }{
		"SignedByAnotherKey":            {mint(otherKey), "Error decoding signature."},
		"UnknownKid":                    {mint(unknownKid), "Unknown signing key."},
		"HS256WithThePublicKeyAsSecret": {confusedTok, "Error decoding signature."},
	} {
		t.Run(name, func(t *testing.T) {
			body := requireStatus(t, serveHandler(handler, httptestRequest("GET", "/api/v2/orders/", "JWT "+tc.token)), http.StatusUnauthorized)
			require.Equal(t, tc.want, body["detail"])
			body = requireStatus(t, serveHandler(handler, browserRequest("GET", "/api/v2/courses/", jwtCookies(t, tc.token), "")), http.StatusUnauthorized)
			require.Equal(t, tc.want, body["detail"], "the same through the cookies")
		})
	}
}

// firstKey returns the first JWK of a JWK set, as JSON.
func firstKey(t *testing.T, set []byte) []byte {
	t.Helper()
	var s struct {
		Keys []json.RawMessage `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(set, &s))
	require.NotEmpty(t, s.Keys)
	return s.Keys[0]
}

func TestLMSSimulatorCookiesAuthenticateAtTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sim := lmssim.New("", lmssim.WithJWT(testSecret, testIssuer))
	name := dbtest.Unique("sim-user-")
	login := httptest.NewRequest("POST", lmssim.LoginPath, strings.NewReader("username="+name))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := serveHandler(sim, login)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	var cookies []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.HeaderPayloadCookie || c.Name == auth.SignatureCookie {
			cookies = append(cookies, c)
		}
	}
	require.Len(t, cookies, 2)
	requireStatus(t, serve(h, browserRequest("GET", "/api/v2/orders/", cookies, "")), http.StatusOK)
	u, err := h.store.UserByUsername(t.Context(), name)
	require.NoError(t, err)
	require.Equal(t, auth.DevUserID(name), *u.LMSUserID)
	require.Equal(t, name+"@example.com", u.Email)
}
