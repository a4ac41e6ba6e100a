package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// statusFor is the one table from domain error codes to HTTP statuses.
var statusFor = map[commerce.ErrorCode]int{
	commerce.EInvalid:       http.StatusBadRequest,
	commerce.ENotFound:      http.StatusNotFound,
	commerce.EConflict:      http.StatusConflict,
	commerce.EForbidden:     http.StatusForbidden,
	commerce.EUnauthorized:  http.StatusUnauthorized,
	commerce.ENotAcceptable: http.StatusNotAcceptable,
	commerce.EUnavailable:   http.StatusServiceUnavailable,
	commerce.EInternal:      http.StatusInternalServerError,
}

// errPayloadTooLarge marks a body over the size limit.
var errPayloadTooLarge = errors.New("request body too large")

// fail answers the request with the JSON form of err and stops the handler chain. Domain
// errors keep their messages; anything else is logged and answered as a bare 500.
func (s *Server) fail(c *gin.Context, err error) {
	if errors.Is(err, errPayloadTooLarge) {
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, gin.H{"detail": "Request body is larger than 1 MiB."})
		return
	}
	status, e := s.statusOfRequest(c, err)
	body := gin.H{}
	if e.UserMessage != "" {
		body["developer_message"] = e.Message
		body["user_message"] = e.UserMessage
	} else {
		body["detail"] = e.Message
	}
	if e.Field != "" {
		body["field"] = e.Field
	}
	c.AbortWithStatusJSON(status, body)
}

// statusClientClosedRequest is the status recorded for a request whose client went away before
// the answer (nginx's 499): nobody reads it, and it is not the server's failure.
const statusClientClosedRequest = 499

// statusOfRequest is statusOf for a request's failure, logged: a 5xx as an error, except when the
// client went away (its cancellation failed the work), which is 499 and logged as information.
func (s *Server) statusOfRequest(c *gin.Context, err error) (int, *commerce.Error) {
	ctx := c.Request.Context()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		s.log.InfoContext(ctx, "client went away", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		return statusClientClosedRequest, &commerce.Error{Code: commerce.EInternal, Message: "The client closed the request."}
	}
	status, e := statusOf(err)
	if status >= 500 {
		s.log.ErrorContext(ctx, "request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	}
	return status, e
}

// detail answers with {"detail": msg} and stops the chain.
func detail(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"detail": msg})
}
