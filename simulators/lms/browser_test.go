package lms_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/simulators/lms"
)

const (
	jwtSecret   = "sim-jwt-secret"
	jwtIssuer   = "http://lms.test/oauth2"
	paymentPage = "http://localhost:1998"
)

// newBrowserSim returns a simulator that logs users in and allows the payment page's origin.
func newBrowserSim() *lms.Simulator {
	return lms.New(apiKey, lms.WithJWT(jwtSecret, jwtIssuer), lms.WithCORSOrigins(paymentPage))
}

// browse sends a request as a browser: host lms.test:18000, the cookies, a form body when form
// is not nil, and extra headers as name, value pairs.
func browse(h http.Handler, method, path string, cookies []*http.Cookie, form url.Values, headers ...string) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, "http://lms.test:18000"+path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// cookiesOf returns the cookies an answer sets, by name.
func cookiesOf(rec *httptest.ResponseRecorder) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range rec.Result().Cookies() {
		out[c.Name] = c
	}
	return out
}

// login logs username in and returns the answer and the cookies a browser would keep.
func login(t *testing.T, h http.Handler, form url.Values) (*httptest.ResponseRecorder, []*http.Cookie) {
	t.Helper()
	rec := browse(h, "POST", lms.LoginPath, nil, form)
	requireStatus(t, rec, http.StatusSeeOther)
	var kept []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		kept = append(kept, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return rec, kept
}

// verifiedClaims joins the two JWT cookies of rec and verifies them as the service does.
func verifiedClaims(t *testing.T, rec *httptest.ResponseRecorder) (username string, staff bool, userID int64) {
	t.Helper()
	cs := cookiesOf(rec)
	hp, sig := cs[auth.HeaderPayloadCookie], cs[auth.SignatureCookie]
	if hp == nil || sig == nil {
		t.Fatalf("JWT cookies missing: %v", rec.Header()["Set-Cookie"])
	}
	for _, c := range []*http.Cookie{hp, sig} {
		if c.Path != "/" || c.SameSite != http.SameSiteLaxMode || c.Domain != "" || c.MaxAge <= 0 {
			t.Fatalf("cookie %s: path %q, samesite %v, domain %q, max-age %d", c.Name, c.Path, c.SameSite, c.Domain, c.MaxAge)
		}
	}
	if hp.HttpOnly || !sig.HttpOnly {
		t.Fatalf("HttpOnly: header-payload %v, signature %v; want false, true", hp.HttpOnly, sig.HttpOnly)
	}
	v, err := auth.NewVerifier(jwtSecret, []string{jwtIssuer})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(auth.JoinCookies(hp.Value, sig.Value))
	if err != nil {
		t.Fatalf("the service refuses the simulator's cookies: %v", err)
	}
	return claims.Username, claims.IsStaff != nil && *claims.IsStaff, *claims.LMSUserID
}

func TestLoginPageOffersDevelopmentUsers(t *testing.T) {
	t.Parallel()
	sim := newBrowserSim()
	rec := browse(sim, "GET", lms.LoginPath+"?next="+url.QueryEscape(paymentPage+"/basket/"), nil, nil)
	requireStatus(t, rec, http.StatusOK)
	page := rec.Body.String()
	for _, want := range []string{`<form method="post" action="/login">`, `value="alice"`, `value="staff"`, `name="username"`, `name="staff"`,
		`name="next" value="http://localhost:1998/basket/"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("login page lacks %q:\n%s", want, page)
		}
	}
	rec = browse(sim, "GET", lms.LoginPath+"?next=%22%3E%3Cscript%3E", nil, nil)
	if strings.Contains(rec.Body.String(), `"><script>`) {
		t.Fatal("next is not escaped in the page")
	}
}

func TestLoginSetsVerifiableJWTCookiesAndRedirects(t *testing.T) {
	t.Parallel()
	sim := newBrowserSim()
	rec, _ := login(t, sim, url.Values{"username": {"alice"}, "next": {paymentPage + "/basket/?sku=ABC"}})
	if loc := rec.Header().Get("Location"); loc != paymentPage+"/basket/?sku=ABC" {
		t.Fatalf("Location = %q", loc)
	}
	user, staff, id := verifiedClaims(t, rec)
	if user != "alice" || staff || id != auth.DevUserID("alice") {
		t.Fatalf("claims: %s staff=%v user_id=%d", user, staff, id)
	}
	session := cookiesOf(rec)[lms.SessionCookie]
	if session == nil || !session.HttpOnly || session.Value == "" {
		t.Fatalf("session cookie = %+v", session)
	}

	rec, _ = login(t, sim, url.Values{"username": {"staff"}})
	if _, staff, _ := verifiedClaims(t, rec); !staff {
		t.Fatal("the staff development user is not staff")
	}
	rec, _ = login(t, sim, url.Values{"username": {"zoe"}, "staff": {"1"}})
	if user, staff, _ := verifiedClaims(t, rec); user != "zoe" || !staff {
		t.Fatalf("typed staff user: %s staff=%v", user, staff)
	}

	for name, form := range map[string]url.Values{
		"Empty":   {"username": {""}},
		"Spaces":  {"username": {"a b"}},
		"TooLong": {"username": {strings.Repeat("a", 31)}},
	} {
		rec := browse(sim, "POST", lms.LoginPath, nil, form)
		requireStatus(t, rec, http.StatusBadRequest)
		if len(cookiesOf(rec)) != 0 {
			t.Fatalf("%s: a refused login set cookies", name)
		}
	}
	unsigned := lms.New(apiKey)
	requireStatus(t, browse(unsigned, "POST", lms.LoginPath, nil, url.Values{"username": {"alice"}}), http.StatusServiceUnavailable)
}

func TestLoginRedirectsOnlyToSafePlaces(t *testing.T) {
	t.Parallel()
	sim := newBrowserSim()
	for next, want := range map[string]string{
		"/dashboard":                           "/dashboard",
		paymentPage + "/basket/":               paymentPage + "/basket/",
		"http://lms.test:8130/checkout/":       "http://lms.test:8130/checkout/",
		"":                                     lms.LoginPath,
		"https://evil.test/":                   lms.LoginPath,
		"//evil.test/":                         lms.LoginPath,
		"/\\evil.test":                         lms.LoginPath,
		"javascript:alert(1)":                  lms.LoginPath,
		"http://localhost:1998@evil.test/":     lms.LoginPath,
		"http://localhost:1998.evil.test/":     lms.LoginPath,
		"http://user@lms.test:8130/":           lms.LoginPath,
		"ftp://lms.test/":                      lms.LoginPath,
		"http://evil.test/?x=" + paymentPage:   lms.LoginPath,
		"https://localhost:1998/not-that-page": lms.LoginPath,
	} {
		rec, _ := login(t, sim, url.Values{"username": {"bob"}, "next": {next}})
		if loc := rec.Header().Get("Location"); loc != want {
			t.Errorf("next %q: Location %q, want %q", next, loc, want)
		}
	}
}

func TestLoginRefreshNeedsASession(t *testing.T) {
	t.Parallel()
	sim := newBrowserSim()
	rec := browse(sim, "POST", lms.LoginRefreshPath, nil, nil)
	requireStatus(t, rec, http.StatusUnauthorized)
	requireJSONEqual(t, rec.Body.Bytes(), `"Unauthorized"`)
	if len(cookiesOf(rec)) != 0 {
		t.Fatal("a refused refresh set cookies")
	}
	requireStatus(t, browse(sim, "POST", lms.LoginRefreshPath, []*http.Cookie{{Name: lms.SessionCookie, Value: "guessed"}}, nil), http.StatusUnauthorized)

	_, cookies := login(t, sim, url.Values{"username": {"alice"}})
	rec = browse(sim, "POST", lms.LoginRefreshPath, cookies, nil, "USE-JWT-COOKIE", "true")
	requireStatus(t, rec, http.StatusOK)
	if user, _, _ := verifiedClaims(t, rec); user != "alice" {
		t.Fatalf("refreshed cookies name %q", user)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["success"] != true || body["user_id"] != float64(auth.DevUserID("alice")) {
		t.Fatalf("body %s (%v)", rec.Body, err)
	}

	rec = browse(sim, "GET", lms.LogoutPath, cookies, nil)
	requireStatus(t, rec, http.StatusFound)
	for _, name := range []string{lms.SessionCookie, auth.HeaderPayloadCookie, auth.SignatureCookie} {
		if c := cookiesOf(rec)[name]; c == nil || c.MaxAge >= 0 {
			t.Fatalf("logout does not expire %s: %+v", name, c)
		}
	}
	requireStatus(t, browse(sim, "POST", lms.LoginRefreshPath, cookies, nil), http.StatusUnauthorized)
}

func TestAccountsAndDiscountsAPIs(t *testing.T) {
	t.Parallel()
	sim := newBrowserSim()
	requireStatus(t, browse(sim, "GET", lms.AccountsPath+"alice", nil, nil), http.StatusUnauthorized)
	_, cookies := login(t, sim, url.Values{"username": {"alice"}})
	rec := browse(sim, "GET", lms.AccountsPath+"alice", cookies, nil)
	requireStatus(t, rec, http.StatusOK)
	requireJSONEqual(t, rec.Body.Bytes(), `{"username":"alice","name":"Alice Learner","email":"alice@example.com","profile_image":{"has_image":false}}`)
	rec = browse(sim, "GET", lms.AccountsPath+"newbie", cookies, nil)
	requireStatus(t, rec, http.StatusOK)
	requireJSONEqual(t, rec.Body.Bytes(), `{"username":"newbie","name":"newbie","email":"newbie@example.com","profile_image":{"has_image":false}}`)

	rec = browse(sim, "GET", lms.DiscountsPath+"course-v1:edX+DemoX+Demo_Course", nil, nil)
	requireStatus(t, rec, http.StatusOK)
	requireJSONEqual(t, rec.Body.Bytes(), `{"discount_applicable":false,"jwt":null}`)
}

func TestSimulatorCORS(t *testing.T) {
	t.Parallel()
	sim := newBrowserSim()
	for _, tc := range []struct{ method, path string }{
		{"POST", lms.LoginRefreshPath},
		{"GET", lms.AccountsPath + "alice"},
		{"GET", lms.DiscountsPath + "course-v1:edX+DemoX+Demo_Course"},
		{"GET", "/no/such/path"},
	} {
		rec := browse(sim, "OPTIONS", tc.path, nil, nil, "Origin", paymentPage, "Access-Control-Request-Method", tc.method,
			"Access-Control-Request-Headers", "use-jwt-cookie,x-csrftoken,content-type")
		requireStatus(t, rec, http.StatusNoContent)
		h := rec.Header()
		if h.Get("Access-Control-Allow-Origin") != paymentPage || h.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), tc.method) ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "use-jwt-cookie, x-csrftoken, content-type") {
			t.Fatalf("%s preflight headers: %v", tc.path, h)
		}
		rec = browse(sim, "OPTIONS", tc.path, nil, nil, "Origin", "http://evil.test", "Access-Control-Request-Method", tc.method)
		requireStatus(t, rec, http.StatusForbidden)
		if rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("%s: a foreign origin got CORS headers", tc.path)
		}
	}
	rec := browse(sim, "POST", lms.LoginRefreshPath, nil, nil, "Origin", paymentPage)
	requireStatus(t, rec, http.StatusUnauthorized)
	if rec.Header().Get("Access-Control-Allow-Origin") != paymentPage || rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("the page cannot read the 401: %v", rec.Header())
	}
	rec = browse(sim, "GET", lms.DiscountsPath+"x", nil, nil, "Origin", "http://evil.test")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("a foreign origin got CORS headers")
	}

	plain := lms.New(apiKey, lms.WithJWT(jwtSecret, jwtIssuer))
	rec = browse(plain, "OPTIONS", lms.LoginRefreshPath, nil, nil, "Origin", paymentPage, "Access-Control-Request-Method", "POST")
	if rec.Code == http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("without origins no CORS: %d %v", rec.Code, rec.Header())
	}
}

func TestEnrollmentAPIStillWorksWithBrowserOptions(t *testing.T) {
	t.Parallel()
	sim := newBrowserSim()
	enroll(t, sim, "alice", course, "verified")
	if e, ok := sim.Enrollment("alice", course); !ok || e.Mode != "verified" {
		t.Fatalf("enrollment = %+v, %v", e, ok)
	}
	requireStatus(t, serve(t, sim, request{body: enrollBody("alice", course, "verified", true), header: map[string]string{"X-Edx-Api-Key": "wrong"}}), http.StatusUnauthorized)
}
