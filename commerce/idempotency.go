package commerce

// IdempotencyKey is a user's Idempotency-Key for one request: the request it was first used for
// is named by its method, path and a hash of its body.
type IdempotencyKey struct {
	UserID      int64
	Key         string
	Method      string
	Path        string
	RequestHash []byte
}

// IdempotentAnswer is what an Idempotency-Key holds: the first request's answer (Status zero
// while it is being answered), and whether a retry is the same request.
type IdempotentAnswer struct {
	Status      int
	ContentType string
	Body        []byte
	SameRequest bool
}
