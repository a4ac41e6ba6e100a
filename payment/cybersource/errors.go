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
	// signed with is incomplete or invalid.
	ErrInvalidRequest = errors.New("cybersource: invalid payment request")
	// ErrPCIViolation means a card field would have been signed by the
	// merchant, which would mean card data passed through our servers.
	ErrPCIViolation = errors.New("cybersource: card field must not be signed by the merchant")
)
