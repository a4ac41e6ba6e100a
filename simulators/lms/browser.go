package lms

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// Paths of what edX's payment page (frontend-app-payment) asks of the LMS.
const (
	// LoginPath shows a page to log a development user in (GET) and logs them in (POST form:
	// username, staff, next).
	LoginPath = "/login"
	// LogoutPath forgets the session and its cookies, then redirects to next or LoginPath.
	LogoutPath = "/logout"
	// LoginRefreshPath sets fresh JWT cookies for the session's user (POST); 401 without one.
	LoginRefreshPath = "/login_refresh"
	// AccountsPath is followed by a username: that user's profile (GET), for a logged-in caller.
	AccountsPath = "/api/user/v1/accounts/"
	// DiscountsPath is followed by a course key: the LMS's first-purchase discount, never
	// applicable here (GET).
	DiscountsPath = "/api/discounts/course/"
	// SessionCookie names the simulator's login session (HttpOnly).
	SessionCookie = "lms_sessionid"
	// TokenLifetime is how long the JWTs of the cookies are valid, as the cookies themselves.
	TokenLifetime = time.Hour
)

// account is a development user of the simulator.
type account struct {
	Username string
	Name     string
	Email    string
	Staff    bool
}

// devAccounts are the users the login page offers; any other valid username may be typed.
var devAccounts = []account{
	{Username: "alice", Name: "Alice Learner", Email: "alice@example.com"},
	{Username: "bob", Name: "Bob Learner", Email: "bob@example.com"},
	{Username: "staff", Name: "Staff Member", Email: "staff@example.com", Staff: true},
}

// validUsername is what the login page accepts: Django's username characters, at most 30.
var validUsername = regexp.MustCompile(`^[A-Za-z0-9_.@+-]{1,30}$`)

// accountFor returns the development user named username: a known one, or one made up from
// the name (staff when staff is set).
func accountFor(username string, staff bool) account {
	for _, a := range devAccounts {
		if a.Username == username {
			a.Staff = a.Staff || staff
			return a
		}
	}
	return account{Username: username, Name: username, Email: username + "@example.com", Staff: staff}
}

// handleBrowserRoutes registers the routes of the payment page's LMS calls.
func (s *Simulator) handleBrowserRoutes() {
	s.mux.HandleFunc("GET "+LoginPath, s.handleLoginPage)
	s.mux.HandleFunc("POST "+LoginPath, s.handleLogin)
	s.mux.HandleFunc("GET "+LogoutPath, s.handleLogout)
	s.mux.HandleFunc("POST "+LoginRefreshPath, s.handleLoginRefresh)
	s.mux.HandleFunc("GET "+AccountsPath+"{username}", s.handleAccount)
	s.mux.HandleFunc("GET "+DiscountsPath+"{course_key...}", s.handleDiscount)
}

// loginPage is the development login page.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LMS simulator: sign in</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto}button{margin:.2rem}form{margin:1rem 0}</style>
</head><body>
<h1>LMS simulator</h1>
{{if .Current}}<p>Signed in as <strong>{{.Current.Username}}</strong>{{if .Current.Staff}} (staff){{end}}. <a href="/logout">Sign out</a></p>{{end}}
{{if .Error}}<p role="alert" style="color:#b00">{{.Error}}</p>{{end}}
<p>Sign in as a development user; the JWT cookies are set for this host name, so the payment page and the commerce service must use the same one (localhost or 127.0.0.1).</p>
<form method="post" action="/login"><input type="hidden" name="next" value="{{.Next}}">
{{range .Users}}<button type="submit" name="username" value="{{.Username}}">{{.Name}} ({{.Username}}{{if .Staff}}, staff{{end}})</button>
{{end}}</form>
<form method="post" action="/login"><input type="hidden" name="next" value="{{.Next}}">
<label>Username <input name="username" required pattern="[A-Za-z0-9_.@+\-]{1,30}"></label>
<label><input type="checkbox" name="staff" value="1"> staff</label>
<button type="submit">Sign in</button></form>
</body></html>
`))

// handleLoginPage serves GET /login: the users to pick from, and a field to type one.
func (s *Simulator) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, "")
}

// renderLogin answers the login page with status and an error message (none when empty).
func (s *Simulator) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	data := struct {
		Current *account
		Error   string
		Next    string
		Users   []account
	}{Error: msg, Next: r.FormValue("next"), Users: devAccounts}
	if a, ok := s.session(r); ok {
		data.Current = &a
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := loginPage.Execute(w, data); err != nil {
		s.log(r, slog.LevelError, "render login page: "+err.Error(), status)
	}
}

// handleLogin serves POST /login: it starts a session for the chosen user, sets the session
// and JWT cookies and redirects (303) to next when it is safe (see safeNext), else to the
// login page, which then shows who is signed in.
func (s *Simulator) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	if !validUsername.MatchString(username) {
		s.renderLogin(w, r, http.StatusBadRequest, "A username is 1 to 30 letters, digits or _ . @ + -.")
		return
	}
	if s.jwtSecret == "" {
		s.renderLogin(w, r, http.StatusServiceUnavailable, "This simulator cannot sign JWTs (it was started without lms.WithJWT).")
		return
	}
	a := accountFor(username, r.PostForm.Get("staff") != "")
	if err := s.setJWTCookies(w, a); err != nil {
		s.log(r, slog.LevelError, err.Error(), http.StatusInternalServerError)
		http.Error(w, "could not sign the JWT", http.StatusInternalServerError)
		return
	}
	id := newSessionID()
	s.mu.Lock()
	s.sessions[id] = a
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.log(r, slog.LevelInfo, "logged in", http.StatusSeeOther, "user", a.Username, "staff", a.Staff)
	target := LoginPath
	if next, ok := s.safeNext(r, r.PostForm.Get("next")); ok {
		target = next
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// handleLogout serves GET /logout: it forgets the session, expires the session and JWT cookies
// and redirects to next when it is safe, else to the login page.
func (s *Simulator) handleLogout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(SessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, ck.Value)
		s.mu.Unlock()
	}
	for _, name := range []string{SessionCookie, auth.HeaderPayloadCookie, auth.SignatureCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, SameSite: http.SameSiteLaxMode})
	}
	target := LoginPath
	if next, ok := s.safeNext(r, r.URL.Query().Get("next")); ok {
		target = next
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// handleLoginRefresh serves POST /login_refresh: fresh JWT cookies for the session's user and
// {"success": true, ...} as the LMS answers, or 401 "Unauthorized" when nobody is logged in.
func (s *Simulator) handleLoginRefresh(w http.ResponseWriter, r *http.Request) {
	a, ok := s.session(r)
	if !ok {
		simhttp.WriteJSON(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if s.jwtSecret == "" {
		simhttp.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "the simulator cannot sign JWTs (no lms.WithJWT)"})
		return
	}
	if err := s.setJWTCookies(w, a); err != nil {
		s.log(r, slog.LevelError, err.Error(), http.StatusInternalServerError)
		simhttp.WriteJSON(w, http.StatusInternalServerError, map[string]string{"detail": "could not sign the JWT"})
		return
	}
	expires := time.Now().Add(TokenLifetime).UTC()
	simhttp.WriteJSON(w, http.StatusOK, map[string]any{
		"success": true, "user_id": auth.DevUserID(a.Username),
		"expires": expires.Format(time.RFC3339), "expires_epoch_seconds": expires.Unix(),
	})
}

// profileImage is the accounts API's profile_image: development users have none.
type profileImage struct {
	HasImage bool `json:"has_image"`
}

// accountResponse is the accounts API's answer, trimmed to what the payment page reads.
type accountResponse struct {
	Username     string       `json:"username"`
	Name         string       `json:"name"`
	Email        string       `json:"email"`
	ProfileImage profileImage `json:"profile_image"`
}

// handleAccount serves GET /api/user/v1/accounts/{username} to a logged-in caller (401
// otherwise): the session's own account, or the development account of that name.
func (s *Simulator) handleAccount(w http.ResponseWriter, r *http.Request) {
	me, ok := s.session(r)
	if !ok {
		simhttp.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Authentication credentials were not provided."})
		return
	}
	username := r.PathValue("username")
	a := me
	if username != me.Username {
		if !validUsername.MatchString(username) {
			simhttp.WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
			return
		}
		a = accountFor(username, false)
	}
	simhttp.WriteJSON(w, http.StatusOK, accountResponse{Username: a.Username, Name: a.Name, Email: a.Email})
}

// handleDiscount serves GET /api/discounts/course/{course_key}: no discount, no discount JWT.
func (s *Simulator) handleDiscount(w http.ResponseWriter, _ *http.Request) {
	simhttp.WriteJSON(w, http.StatusOK, map[string]any{"discount_applicable": false, "jwt": nil})
}

// session returns the account logged in by the request's session cookie.
func (s *Simulator) session(r *http.Request) (account, bool) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return account{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.sessions[ck.Value]
	return a, ok
}

// setJWTCookies mints a token for a and sets it as the LMS's two JWT cookies: Path=/,
// SameSite=Lax, host-only, as long-lived as the token; the signature one HttpOnly.
func (s *Simulator) setJWTCookies(w http.ResponseWriter, a account) error {
	token, err := auth.Mint(s.jwtSecret, auth.TokenOptions{
		Username: a.Username, Email: a.Email, FullName: a.Name, Admin: a.Staff,
		LMSUserID: auth.DevUserID(a.Username), Issuer: s.jwtIssuer, TTL: TokenLifetime,
	})
	if err != nil {
		return fmt.Errorf("mint JWT for %q: %w", a.Username, err)
	}
	headerPayload, signature, err := auth.SplitToken(token)
	if err != nil {
		return fmt.Errorf("split JWT for %q: %w", a.Username, err)
	}
	maxAge := int(TokenLifetime / time.Second)
	http.SetCookie(w, &http.Cookie{Name: auth.HeaderPayloadCookie, Value: headerPayload, Path: "/", MaxAge: maxAge, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: auth.SignatureCookie, Value: signature, Path: "/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return nil
}

// safeNext returns next if redirecting there after a login cannot send the browser to a
// foreign site: a path on this host ("/x", not "//x"), or an http(s) URL on this host name
// (any port: cookies are per host name) or on one of the CORS origins.
func (s *Simulator) safeNext(r *http.Request, next string) (string, bool) {
	if next == "" || strings.ContainsAny(next, "\\\x00\t\r\n") {
		return "", false
	}
	u, err := url.Parse(next)
	if err != nil {
		return "", false
	}
	if u.Scheme == "" && u.Host == "" && u.User == nil && strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		return next, true
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	}
	if strings.EqualFold(u.Hostname(), host) || s.corsOrigins[u.Scheme+"://"+u.Host] {
		return next, true
	}
	return "", false
}

// newSessionID returns an unguessable session id.
func newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand aborts the program instead)
	return hex.EncodeToString(b)
}
