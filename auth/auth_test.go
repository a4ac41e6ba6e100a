package auth_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/auth"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

const (
	secret = "test-secret"
	issuer = "http://lms/oauth2"
)

func newVerifier(t *testing.T) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(secret, []string{issuer, "ecommerce_worker"})
	require.NoError(t, err)
	return v
}

func sign(t *testing.T, claims jwt.MapClaims, key string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	require.NoError(t, err)
	return s
}

func baseClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": issuer, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"preferred_username": "alice", "email": "alice@example.com", "administrator": true,
		"full_name": "Alice A", "user_id": 42,
	}
}

func TestVerifyAcceptsMintedAndLMSTokens(t *testing.T) {
	t.Parallel()
	v := newVerifier(t)
	c, err := v.Verify(sign(t, baseClaims(), secret))
	require.NoError(t, err)
	require.Equal(t, "alice", c.Username)
	require.Equal(t, "alice@example.com", *c.Email)
	require.True(t, *c.IsStaff)
	require.Equal(t, int64(42), *c.LMSUserID)
	require.Equal(t, "Alice A", *c.FullName)

	minted, err := auth.Mint(secret, auth.TokenOptions{Username: "bob", Issuer: "ecommerce_worker"})
	require.NoError(t, err)
	c, err = v.Verify(minted)
	require.NoError(t, err)
	require.Equal(t, "bob", c.Username)
	require.False(t, *c.IsStaff)
	require.Nil(t, c.Email)
}

func TestVerifyFallsBackToUsernameClaim(t *testing.T) {
	t.Parallel()
	claims := baseClaims()
	delete(claims, "preferred_username")
	claims["username"] = "carol"
	delete(claims, "administrator")
	c, err := newVerifier(t).Verify(sign(t, claims, secret))
	require.NoError(t, err)
	require.Equal(t, "carol", c.Username)
	require.Nil(t, c.IsStaff, "an absent administrator claim leaves the stored flag alone")
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	v := newVerifier(t)
	without := func(k string) string {
		c := baseClaims()
		delete(c, k)
		return sign(t, c, secret)
	}
	with := func(k string, val any) string {
		c := baseClaims()
		c[k] = val
		return sign(t, c, secret)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"` + issuer + `","preferred_username":"x","iat":1,"exp":9999999999}`))
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, baseClaims()).SignedString([]byte(secret))
	require.NoError(t, err)
	cases := map[string]struct {
		token string
		want  string
	}{
		"expired":      {with("exp", time.Now().Add(-time.Minute).Unix()), "Signature has expired."},
		"wrong secret": {sign(t, baseClaims(), "other"), "Error decoding signature."},
		"wrong issuer": {with("iss", "https://evil"), "Invalid issuer."},
		"no exp":       {without("exp"), "Invalid token"},
		"no iat":       {without("iat"), "iat"},
		"future iat":   {with("iat", time.Now().Add(time.Hour).Unix()), "Invalid token"},
		"alg none":     {header + "." + payload + ".", "Error decoding signature."},
		"alg HS512":    {hs512, "Error decoding signature."},
		"no username":  {without("preferred_username"), "preferred_username or username"},
		"garbage":      {"not.a.jwt", "Invalid token"},
		"version 2":    {with("version", "2.0.0"), "Unsupported token version"},
		"bad user_id":  {with("user_id", "abc"), "Invalid token"},
	}
	for name, tc := range cases {
		_, err := v.Verify(tc.token)
		require.ErrorIs(t, err, auth.ErrInvalidToken, name)
		require.True(t, strings.Contains(err.Error(), tc.want), "%s: %v", name, err)
	}
}

func TestVerifyAllowsOneSecondLeeway(t *testing.T) {
	t.Parallel()
	v := newVerifier(t)
	c := baseClaims()
	// exp is in whole seconds: truncating now puts it less than a second in the past.
	c["exp"] = time.Now().Unix()
	_, err := v.Verify(sign(t, c, secret))
	require.NoError(t, err)
	c["exp"] = time.Now().Add(-3 * time.Second).Unix()
	_, err = v.Verify(sign(t, c, secret))
	require.ErrorIs(t, err, auth.ErrInvalidToken)
}

func TestNewVerifierNeedsSecretAndIssuer(t *testing.T) {
	t.Parallel()
	_, err := auth.NewVerifier("", []string{issuer})
	require.Error(t, err)
	_, err = auth.NewVerifier(secret, nil)
	require.Error(t, err)
}
