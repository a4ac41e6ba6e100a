package api

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// shopPage is a small HTML page for a browser that navigated here (a link, not an XHR).
type shopPage struct {
	Title   string
	Message string
}

var shopPageTemplate = template.Must(template.New("shop-page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
</body></html>
`))

// renderPage answers with p as HTML and stops the handler chain.
func renderPage(c *gin.Context, status int, p shopPage) {
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = shopPageTemplate.Execute(c.Writer, p)
	c.Abort()
}

// statusOf is the status the error table gives err and the domain error a client may see
// (anything that is not a domain error is an internal error whose details stay in the log).
func statusOf(err error) (int, *commerce.Error) {
	var e *commerce.Error
	if !errors.As(err, &e) {
		e = &commerce.Error{Code: commerce.EInternal, Message: "Internal server error."}
	}
	status, ok := statusFor[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return status, e
}

// failPage answers a navigation that cannot be done with a page saying why, with the status of
// the error table; a client that asks for JSON gets the API's JSON error instead.
func (s *Server) failPage(c *gin.Context, err error) {
	if c.NegotiateFormat(gin.MIMEHTML, gin.MIMEJSON) == gin.MIMEJSON {
		s.fail(c, err)
		return
	}
	status, e := s.statusOfRequest(c, err)
	msg := e.UserMessage
	if msg == "" {
		msg = e.Message
	}
	renderPage(c, status, shopPage{Title: "We couldn't do that", Message: msg})
}

// loggedIn returns the user of a navigation; one who is not logged in is sent to the LMS's
// login page, which brings them back to this URL.
func (f *shopFront) loggedIn(c *gin.Context) (commerce.User, bool) {
	user, ok := currentUser(c)
	if ok {
		return user, true
	}
	if f.lmsURL == "" {
		f.failPage(c, commerce.Errorf(commerce.EUnauthorized, "Please log in first: no LMS login page is configured on this server."))
		return user, false
	}
	next := f.publicURL + c.Request.URL.RequestURI()
	c.Redirect(http.StatusFound, f.lmsURL+"/login?next="+url.QueryEscape(next))
	c.Abort()
	return user, false
}
