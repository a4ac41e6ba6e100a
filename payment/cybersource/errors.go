package cybersource

import "errors"

// Sentinel errors returned (wrapped) by this package. Test them with errors.Is.
var (
	// ErrInvalidSignature means a reply is unsigned, incompletely signed or
	// its signature does not match: nothing in it may be trusted.
	ErrInvalidSignature = errors.New("cybersource: invalid signature")
	// ErrUnknownProfile means a reply names a profile (and access key) that
	// is not configured, so its signature cannot be checked.
	ErrUnknownProfile = errors.New("cybersource: unknown profile")
	// ErrMalformedReply means an authentic reply lacks a field its decision
	// requires or carries a value that cannot be parsed.
	ErrMalformedReply = errors.New("cybersource: malformed reply")
	// ErrUnknownDecision means an authentic reply carries a decision other
	// than ACCEPT, DECLINE, REVIEW, ERROR or CANCEL.
	ErrUnknownDecision = errors.New("cybersource: unknown decision")
	// ErrInvalidRequest means a payment request or the configuration it is
	// signed with, or a REST refund request, is incomplete or invalid. Nothing
	// was sent.
	ErrInvalidRequest = errors.New("cybersource: invalid payment request")
	// ErrPCIViolation means a card field would have been signed by the
	// merchant, which would mean card data passed through our servers.
	ErrPCIViolation = errors.New("cybersource: card field must not be signed by the merchant")
	// ErrNotConfigured means the REST client lacks its base URL, merchant id,
	// key id or shared secret, or one of them is invalid. Nothing was sent.
	ErrNotConfigured = errors.New("cybersource: REST client not configured")
	// ErrNoAnswer means a REST request got no complete answer (network error,
	// timeout): it may or may not have been carried out.
	ErrNoAnswer = errors.New("cybersource: no answer from the REST API")
	// ErrNotRecorded means a REST answer could not be recorded
	// (RESTConfig.Record failed), so it was not acted on.
	ErrNotRecorded = errors.New("cybersource: the exchange could not be recorded")
	// ErrMalformedResponse means the REST API answered 2xx with a body that
	// cannot be understood (not JSON, no id, too large, an unknown status).
	ErrMalformedResponse = errors.New("cybersource: malformed REST response")
)
