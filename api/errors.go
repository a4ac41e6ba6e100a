package api

import (
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
	status, e := statusOf(err)
	if status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "err", err)
	}
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

// detail answers with {"detail": msg} and stops the chain.
func detail(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"detail": msg})
}
