// Package auth verifies the LMS's JWTs (HS256 with a shared secret, issuer checked, exp and iat
// required) and turns their claims into the user they describe. It also mints tokens for
// development and tests with the same rules.
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

// Claims are the claims of an LMS JWT that the service reads.
type Claims struct {
	jwt.RegisteredClaims
	PreferredUsername string  `json:"preferred_username,omitempty"`
	Username          string  `json:"username,omitempty"`
	Email             *string `json:"email,omitempty"`
	FullName          *string `json:"full_name,omitempty"`
	Administrator     *bool   `json:"administrator,omitempty"`
	UserID            *int64  `json:"user_id,omitempty"`
	Version           string  `json:"version,omitempty"`
}

// Verifier checks tokens against one shared secret and a list of accepted issuers.
type Verifier struct {
	secret  []byte
	issuers []string
	now     func() time.Time
}

// NewVerifier returns a verifier for HS256 tokens signed with secret and issued by one of issuers.
func NewVerifier(secret string, issuers []string) (*Verifier, error) {
	if secret == "" {
		return nil, errors.New("auth: the JWT secret key is empty")
	}
	if len(issuers) == 0 {
		return nil, errors.New("auth: no JWT issuer is accepted")
	}
	return &Verifier{secret: []byte(secret), issuers: issuers, now: time.Now}, nil
}

// Verify checks the token and returns the user claims it carries. Every failure wraps
// ErrInvalidToken with a message fit for a 401 answer.
func (v *Verifier) Verify(token string) (commerce.UserClaims, error) {
	var c Claims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(v.now),
	)
	_, err := parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return commerce.UserClaims{}, fmt.Errorf("%w: Signature has expired.", ErrInvalidToken)
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
	Username  string
	Email     string
	FullName  string
	Admin     bool
	LMSUserID int64
	Issuer    string
	TTL       time.Duration
	Now       time.Time
}

// Mint signs a token the Verifier accepts (given the same secret and issuer). Zero TTL means
// one hour; zero Now means the current time.
func Mint(secret string, o TokenOptions) (string, error) {
	if o.Username == "" {
		return "", errors.New("auth: a token needs a username")
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
		Administrator:     &admin,
		Version:           "1.2.0",
	}
	if o.Email != "" {
		c.Email = &o.Email
	}
	if o.FullName != "" {
		c.FullName = &o.FullName
	}
	if o.LMSUserID != 0 {
		c.UserID = &o.LMSUserID
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return token, nil
}
