// Package auth verifies the LMS's JWTs and turns their claims into the user they describe: HS256
// tokens signed with a shared secret, and RS256/RS512 tokens signed by a key of the LMS's public
// JWK set (selected by the token's kid), issuer checked, exp and iat required. A token arrives in
// an Authorization header or split across edX's two JWT cookies (see JoinCookies). The package
// also mints tokens for development and tests with the same rules.
package auth

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/golang-jwt/jwt/v5"
)

// Leeway is the clock skew tolerated on exp, iat and nbf.
const Leeway = time.Second

// ErrInvalidToken is wrapped by every verification failure; its text is safe to show a client.
var ErrInvalidToken = errors.New("invalid token")

// Claims are the claims of an LMS JWT that the service reads (and Name, which the payment page
// reads and development tokens carry; the service stores full_name only).
type Claims struct {
	jwt.RegisteredClaims
	PreferredUsername string  `json:"preferred_username,omitempty"`
	Username          string  `json:"username,omitempty"`
	Email             *string `json:"email,omitempty"`
	FullName          *string `json:"full_name,omitempty"`
	Name              string  `json:"name,omitempty"`
	Administrator     *bool   `json:"administrator,omitempty"`
	UserID            *int64  `json:"user_id,omitempty"`
	Version           string  `json:"version,omitempty"`
}

// acceptedAlgorithms are the signing algorithms a token may name: HS256 with the shared secret,
// RS256 and RS512 with a key of the JWK set. Every other alg, "none" included, is refused.
var acceptedAlgorithms = []string{jwt.SigningMethodHS256.Alg(), jwt.SigningMethodRS256.Alg(), jwt.SigningMethodRS512.Alg()}

// Verifier checks tokens against a shared secret (HS256), the public keys of a JWK set
// (RS256/RS512) and a list of accepted issuers.
type Verifier struct {
	secret  []byte
	keys    keySet
	issuers []string
	now     func() time.Time
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier) error

// WithJWKSet makes the verifier accept RS256 and RS512 tokens signed by a key of the JSON Web
// Key Set in rawJSON (edX's JWT_PUBLIC_SIGNING_JWK_SET): RSA public keys of at least 2048 bits,
// each with a distinct kid, use "sig" or none, alg RS256, RS512 or none. A set holding private
// key material, or any other kind of key, is refused. An empty rawJSON adds nothing.
func WithJWKSet(rawJSON string) VerifierOption {
	return func(v *Verifier) error {
		if strings.TrimSpace(rawJSON) == "" {
			return nil
		}
		keys, err := parseJWKSet([]byte(rawJSON))
		if err != nil {
			return fmt.Errorf("auth: public JWK set: %w", err)
		}
		v.keys = keys
		return nil
	}
}

// NewVerifier returns a verifier for HS256 tokens signed with secret (none when secret is empty)
// and, with WithJWKSet, RS256/RS512 tokens, issued by one of issuers. It needs a secret or a key.
func NewVerifier(secret string, issuers []string, opts ...VerifierOption) (*Verifier, error) {
	if len(issuers) == 0 {
		return nil, errors.New("auth: no JWT issuer is accepted")
	}
	v := &Verifier{issuers: issuers, now: time.Now}
	if secret != "" {
		v.secret = []byte(secret)
	}
	for _, opt := range opts {
		if err := opt(v); err != nil {
			return nil, err
		}
	}
	if v.secret == nil && len(v.keys) == 0 {
		return nil, errors.New("auth: the JWT secret key is empty and no public signing key is configured")
	}
	return v, nil
}

// errNoSecret is the key lookup's refusal of an HS256 token when no secret is configured.
var errNoSecret = errors.New("HS256 tokens are not accepted")

// signingKey returns the key that must have signed t: the shared secret for HS256, the JWK set's
// RSA public key for RS256/RS512. The key's Go type matches the algorithm's family, so a token
// can never be checked with the other family's key (an HS256 token "signed" with an RSA public
// key is checked against the secret and fails).
func (v *Verifier) signingKey(t *jwt.Token) (any, error) {
	switch t.Method.(type) {
	case *jwt.SigningMethodHMAC:
		if v.secret == nil {
			return nil, errNoSecret
		}
		return v.secret, nil
	case *jwt.SigningMethodRSA:
		return v.keys.lookup(t)
	}
	return nil, fmt.Errorf("unexpected signing method %q", t.Method.Alg())
}

// Verify checks the token and returns the user claims it carries. Every failure wraps
// ErrInvalidToken with a message fit for a 401 answer.
func (v *Verifier) Verify(token string) (commerce.UserClaims, error) {
	var c Claims
	parser := jwt.NewParser(
		jwt.WithValidMethods(acceptedAlgorithms),
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(v.now),
	)
	_, err := parser.ParseWithClaims(token, &c, v.signingKey)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return commerce.UserClaims{}, fmt.Errorf("%w: Signature has expired.", ErrInvalidToken)
	case errors.Is(err, errUnknownKey):
		return commerce.UserClaims{}, fmt.Errorf("%w: Unknown signing key.", ErrInvalidToken)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return commerce.UserClaims{}, fmt.Errorf("%w: Error decoding signature.", ErrInvalidToken)
	case err != nil:
		return commerce.UserClaims{}, fmt.Errorf("%w: Invalid token (%s).", ErrInvalidToken, reason(err))
	}
	if c.IssuedAt == nil {
		return commerce.UserClaims{}, fmt.Errorf("%w: Token is missing the \"iat\" claim.", ErrInvalidToken)
	}
	if !slices.Contains(v.issuers, c.Issuer) {
		return commerce.UserClaims{}, fmt.Errorf("%w: Invalid issuer.", ErrInvalidToken)
	}
	if major, _, _ := strings.Cut(c.Version, "."); c.Version != "" {
		if n, err := strconv.Atoi(major); err != nil || n > 1 {
			return commerce.UserClaims{}, fmt.Errorf("%w: Unsupported token version %q.", ErrInvalidToken, c.Version)
		}
	}
	username, claim := c.PreferredUsername, "preferred_username"
	if username == "" {
		username, claim = c.Username, "username"
	}
	if username == "" {
		return commerce.UserClaims{}, fmt.Errorf("%w: JWT must include a preferred_username or username claim!", ErrInvalidToken)
	}
	if err := checkClaims(claim, username, c.Email, c.FullName); err != nil {
		return commerce.UserClaims{}, err
	}
	return commerce.UserClaims{
		Username: username, Email: c.Email, FullName: c.FullName, IsStaff: c.Administrator, LMSUserID: c.UserID,
	}, nil
}

// Bounds of the user claims, in characters: Django's username (150) and email (254), and
// ecommerce's full_name (255).
const (
	MaxUsernameLength = 150
	MaxEmailLength    = 254
	MaxFullNameLength = 255
)

// checkClaims refuses user claims the users table cannot hold: a NUL character or invalid UTF-8
// (PostgreSQL refuses them in text) or more characters than their bounds. Failures wrap
// ErrInvalidToken.
func checkClaims(usernameClaim, username string, email, fullName *string) error {
	claims := []struct {
		name  string
		value *string
		max   int
	}{{usernameClaim, &username, MaxUsernameLength}, {"email", email, MaxEmailLength}, {"full_name", fullName, MaxFullNameLength}}
	for _, cl := range claims {
		if cl.value == nil {
			continue
		}
		if p := commerce.TextProblem(*cl.value); p != "" {
			return fmt.Errorf("%w: The %q claim %s.", ErrInvalidToken, cl.name, p)
		}
		if utf8.RuneCountInString(*cl.value) > cl.max {
			return fmt.Errorf("%w: The %q claim is longer than %d characters.", ErrInvalidToken, cl.name, cl.max)
		}
	}
	return nil
}

// reason gives the parser's complaint without the library's prefix.
func reason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// TokenOptions describe a token to mint.
type TokenOptions struct {
	Username string
	Email    string
	// FullName is the full_name claim and the name claim; without it name is the username.
	FullName  string
	Admin     bool
	LMSUserID int64
	Issuer    string
	TTL       time.Duration
	Now       time.Time
}

// Mint signs an HS256 token the Verifier accepts (given the same secret and issuer). Zero TTL
// means one hour; zero Now means the current time.
func Mint(secret string, o TokenOptions) (string, error) {
	token, err := newToken(jwt.SigningMethodHS256, o)
	if err != nil {
		return "", err
	}
	signed, err := token.SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

// newToken builds the unsigned token o describes, with the claims the LMS puts in its JWTs and
// the payment page reads: preferred_username, name, email, administrator, user_id (when given),
// full_name (when given), iss, iat and exp.
func newToken(method jwt.SigningMethod, o TokenOptions) (*jwt.Token, error) {
	if o.Username == "" {
		return nil, errors.New("auth: a token needs a username")
	}
	if o.TTL == 0 {
		o.TTL = time.Hour
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	admin := o.Admin
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    o.Issuer,
			IssuedAt:  jwt.NewNumericDate(o.Now),
			ExpiresAt: jwt.NewNumericDate(o.Now.Add(o.TTL)),
		},
		PreferredUsername: o.Username,
		Name:              o.Username,
		Administrator:     &admin,
		Version:           "1.2.0",
	}
	if o.Email != "" {
		c.Email = &o.Email
	}
	if o.FullName != "" {
		c.FullName = &o.FullName
		c.Name = o.FullName
	}
	if o.LMSUserID != 0 {
		c.UserID = &o.LMSUserID
	}
	return jwt.NewWithClaims(method, c), nil
}
