package commerce

import (
	"errors"
	"fmt"
)

// ErrorCode classifies a domain error; the HTTP edge maps each code to one status.
type ErrorCode string

// Error codes understood by every edge.
const (
	// EInvalid means the request is malformed or breaks a rule; nothing was changed.
	EInvalid ErrorCode = "invalid"
	// ENotFound means the object does not exist or is not visible to the caller.
	ENotFound ErrorCode = "not_found"
	// EConflict means the request clashes with the current state (a duplicate, a race lost).
	EConflict ErrorCode = "conflict"
	// EForbidden means the caller is known but may not do this.
	EForbidden ErrorCode = "forbidden"
	// EUnauthorized means the caller could not be authenticated.
	EUnauthorized ErrorCode = "unauthorized"
	// ENotAcceptable means the object is in a state where the action makes no sense.
	ENotAcceptable ErrorCode = "not_acceptable"
	// EUnavailable means a dependency is down; the caller should retry later.
	EUnavailable ErrorCode = "unavailable"
	// EInternal is anything else; its details never reach a client.
	EInternal ErrorCode = "internal"
)

// Error is a domain error with a code, a message for developers and, where the API follows
// edX's two-message shape, a message fit to show a learner. Field names the offending input.
type Error struct {
	Code        ErrorCode
	Message     string
	UserMessage string
	Field       string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf builds an Error with a formatted developer message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError builds an EInvalid error naming the offending field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// UserError builds an Error carrying both edX messages (developer_message, user_message).
func UserError(code ErrorCode, developer, user string) *Error {
	return &Error{Code: code, Message: developer, UserMessage: user}
}

// ErrorCodeOf returns the code of err, or EInternal when err is not a domain error.
func ErrorCodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// Sentinel errors returned by stores; check them with errors.Is.
var (
	// ErrNotFound is returned when a looked-up object does not exist.
	ErrNotFound = &Error{Code: ENotFound, Message: "Not found."}
	// ErrConflict is returned when a unique rule would be broken.
	ErrConflict = &Error{Code: EConflict, Message: "The object conflicts with an existing one."}
	// ErrInvalidInput is returned when the database refuses a value (a CHECK or a range).
	ErrInvalidInput = &Error{Code: EInvalid, Message: "A value is out of range or breaks a rule."}
	// ErrInvalidReference is returned when a referenced object does not exist.
	ErrInvalidReference = &Error{Code: EInvalid, Message: "A referenced object does not exist."}
	// ErrForgedMessage wraps a processor message whose signature does not verify.
	ErrForgedMessage = &Error{Code: EInvalid, Message: "The message's signature is invalid."}
	// ErrMalformedMessage wraps an authentic processor message that cannot be understood.
	ErrMalformedMessage = &Error{Code: EInvalid, Message: "The message is malformed."}
	// ErrUnavailable is returned when the database cannot be reached.
	ErrUnavailable = &Error{Code: EUnavailable, Message: "The service is temporarily unavailable."}
)
