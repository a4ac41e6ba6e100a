package api

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// CSRFFormField carries the CSRF token in the body of an HTML form post (the service's own
// pages: the basket page's voucher and checkout forms), where a browser cannot add the
// CSRFHeader. The name is Django's.
const CSRFFormField = "csrfmiddlewaretoken"

// formMIME is the body type of a form post (the only kind whose field is read).
const formMIME = "application/x-www-form-urlencoded"

// formToken returns the CSRF token of a form post that has no CSRFHeader: the CSRFFormField of
// an application/x-www-form-urlencoded body ("" when there is none), or why the token may not
// be taken from it. A form post, unlike a request with a custom header, needs no CORS preflight,
// so the double submit alone would let another site post one with a token it planted in the
// cookie (from a sibling subdomain); a form token is therefore only taken from the service's
// own origin (Origin, else Referer).
func (g csrfGuard) formToken(r *http.Request) (token, reason string) {
	media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || media != formMIME {
		return "", ""
	}
	if err := r.ParseForm(); err != nil {
		return "", ""
	}
	token = r.PostForm.Get(CSRFFormField)
	if token == "" {
		return "", ""
	}
	if !g.sameOrigin(r) {
		return "", "Origin checking failed."
	}
	return token, ""
}

// sameOrigin reports whether a browser says r comes from the service's own pages: its Origin
// header, else the origin of its Referer, is the service's public origin (or, with no public
// URL configured, names the request's host).
func (g csrfGuard) sameOrigin(r *http.Request) bool {
	from := originOf(r.Header.Get("Origin")) // "null" (an opaque origin) is no origin
	if from == "" {
		from = originOf(r.Referer())
	}
	if from == "" {
		return false
	}
	if g.origin != "" {
		return from == g.origin
	}
	return from == originOf("http://"+r.Host) || from == originOf("https://"+r.Host)
}

// originOf is the scheme://host[:port] of an absolute http(s) URL, lower-cased and without the
// scheme's default port (as browsers send Origin), or "" when raw is not one.
func originOf(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch {
	case scheme == "http":
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https":
		host = strings.TrimSuffix(host, ":443")
	default:
		return ""
	}
	return scheme + "://" + host
}

// pageToken returns the CSRF token a page of the service puts in its forms: the browser's
// token if it is one of ours, else a new one, which the answer sets as the cookie.
func (g csrfGuard) pageToken(c *gin.Context) string {
	if ck, err := c.Request.Cookie(CSRFCookieName); err == nil && g.valid(ck.Value) {
		return ck.Value
	}
	token := g.newToken()
	g.setCookie(c, token)
	return token
}
