package lms

import (
	"context"
	"errors"
	"time"
)

// Operations named in Call.Operation.
const (
	OperationEnroll   = "enroll"
	OperationUnenroll = "unenroll"
)

// Results named in Call.Result: one per way a call to the LMS can end.
const (
	// ResultOK: the operation succeeded (a 2xx answer, or Unenroll's "Enrollment mode
	// mismatch", which counts as done).
	ResultOK = "ok"
	// ResultClientError: a 4xx answer (KindClient).
	ResultClientError = "4xx"
	// ResultServerError: a 5xx answer, or another non-2xx answer that is not a 4xx (KindServer).
	ResultServerError = "5xx"
	// ResultNetwork: no answer, the connection failed or dropped (KindNetwork).
	ResultNetwork = "network"
	// ResultTimeout: the client's timeout or the caller's deadline expired (KindTimeout).
	ResultTimeout = "timeout"
	// ResultCanceled: the caller canceled its context before an answer arrived.
	ResultCanceled = "canceled"
)

// Call is one request the client sent to the LMS enrollment API, as an Observer sees it.
type Call struct {
	// Operation is OperationEnroll or OperationUnenroll.
	Operation string
	// Result is one of the Result constants.
	Result string
	// StatusCode is the HTTP status of the answer, 0 when none arrived.
	StatusCode int
	// Duration is how long the request took, from sending to the end of the answer.
	Duration time.Duration
}

// Observer is told of every request the client sends, once it has ended. Calls refused
// before sending (ErrNotConfigured, ErrInvalidEnrollment) are not requests and are not
// observed. It is called on the caller's goroutine, so it must be quick and safe for
// concurrent use; it cannot change the call's outcome.
type Observer func(Call)

// WithObserver makes the client tell o of every request it sends (metrics, for instance).
// A nil o is ignored.
func WithObserver(o Observer) Option {
	return func(c *Client) {
		if o != nil {
			c.observer = o
		}
	}
}

// observe tells the client's observer, if any, how the request of operation that started at
// start ended: status is the answer's HTTP status (0 when none arrived) and err the operation's
// own result (nil for success). An error that is not an *Error is the caller's cancellation, or
// a failure before anything was sent, which is not observed.
func (c *Client) observe(ctx context.Context, operation string, start time.Time, status int, err error) {
	if c.observer == nil {
		return
	}
	call := Call{Operation: operation, Result: ResultOK, StatusCode: status, Duration: time.Since(start)}
	var lmsErr *Error
	switch {
	case err == nil:
	case errors.As(err, &lmsErr):
		call.Result = resultOf(lmsErr.Kind)
	case errors.Is(ctx.Err(), context.Canceled):
		call.Result = ResultCanceled
	default:
		return
	}
	c.observer(call)
}

// resultOf names the Result of a failure of kind k.
func resultOf(k Kind) string {
	switch k {
	case KindClient:
		return ResultClientError
	case KindNetwork:
		return ResultNetwork
	case KindTimeout:
		return ResultTimeout
	default:
		return ResultServerError
	}
}
