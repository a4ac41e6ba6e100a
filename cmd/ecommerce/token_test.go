package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/auth"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

func TestTokenCommandCarriesWhatThePaymentPageReads(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	getenv := env(map[string]string{"JWT_SECRET_KEY": "s3", "JWT_ISSUERS": "iss-a"})
	require.NoError(t, run(context.Background(), []string{"token", "--username", "bob", "--user-id", "4242", "--full-name", "Bob B"}, getenv, &out, &errOut))
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(out.String()), claims)
	require.NoError(t, err)
	for _, k := range []string{"preferred_username", "user_id", "email", "name", "administrator", "exp", "iat", "iss"} {
		require.Contains(t, claims, k)
	}
	require.Equal(t, float64(4242), claims["user_id"])
	require.Equal(t, "Bob B", claims["name"])
	require.Equal(t, "iss-a", claims["iss"])

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"token", "--username", "bob"}, getenv, &out, &errOut))
	claims = jwt.MapClaims{}
	_, _, err = jwt.NewParser().ParseUnverified(strings.TrimSpace(out.String()), claims)
	require.NoError(t, err)
	require.Equal(t, float64(auth.DevUserID("bob")), claims["user_id"], "a stable user id by default")
}

func TestTokenCommandPrintsTheTwoCookies(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	getenv := env(map[string]string{"JWT_SECRET_KEY": "s3", "JWT_ISSUERS": "iss-a"})
	require.NoError(t, run(context.Background(), []string{"token", "--username", "carol", "--cookies"}, getenv, &out, &errOut))
	line := strings.TrimSpace(out.String())
	first, second, ok := strings.Cut(line, "; ")
	require.True(t, ok, line)
	hp, ok := strings.CutPrefix(first, auth.HeaderPayloadCookie+"=")
	require.True(t, ok, line)
	sig, ok := strings.CutPrefix(second, auth.SignatureCookie+"=")
	require.True(t, ok, line)
	v, err := auth.NewVerifier("s3", []string{"iss-a"})
	require.NoError(t, err)
	claims, err := v.Verify(auth.JoinCookies(hp, sig))
	require.NoError(t, err)
	require.Equal(t, "carol", claims.Username)
}

func TestTokenCommandSignsWithADevelopmentRSAKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "dev-jwk.json")
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"token", "--generate-jwk", keyFile, "--kid", "dev-7"}, env(nil), &out, &errOut))
	set, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "JWT_PUBLIC_SIGNING_JWK_SET='")
	require.True(t, ok, out.String())
	set = strings.TrimSuffix(set, "'")
	info, err := os.Stat(keyFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the private key is its owner's only")

	getenv := env(map[string]string{"JWT_ISSUERS": "iss-a", "JWT_PUBLIC_SIGNING_JWK_SET": set})
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"token", "--username", "dave", "--signing-jwk", keyFile}, getenv, &out, &errOut))
	tok := strings.TrimSpace(out.String())
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	require.NoError(t, err)
	require.Equal(t, "RS256", parsed.Header["alg"])
	require.Equal(t, "dev-7", parsed.Header["kid"])

	cfg, err := loadConfig(getenv)
	require.NoError(t, err)
	v, err := auth.NewVerifier(cfg.JWTSecretKey, cfg.issuers(), auth.WithJWKSet(cfg.JWTPublicSigningJWKSet))
	require.NoError(t, err)
	claims, err := v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, "dave", claims.Username)

	require.Error(t, run(context.Background(), []string{"token", "--username", "dave", "--signing-jwk", filepath.Join(dir, "missing.json")}, getenv, &out, &errOut))
}

func TestBrowserSettingsAreChecked(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(map[string]string{"CORS_ORIGINS": " http://localhost:1998 , https://pay.example.com ,"}))
	require.NoError(t, err)
	require.Equal(t, []string{"http://localhost:1998", "https://pay.example.com"}, c.corsOrigins())
	c, err = loadConfig(env(nil))
	require.NoError(t, err)
	require.Empty(t, c.corsOrigins())
	require.NotContains(t, fmt.Sprint(c.logAttrs()...), "dev-csrf-secret-change-me", "the CSRF key is masked in logs")

	for k, v := range map[string]string{
		"CORS_ORIGINS":               "http://localhost:1998/",
		"JWT_PUBLIC_SIGNING_JWK_SET": `{"keys":[{"kty":"oct","kid":"x","k":"c2VjcmV0"}]}`,
	} {
		_, err := loadConfig(env(map[string]string{k: v}))
		require.ErrorContains(t, err, k)
	}
	_, err = loadConfig(env(map[string]string{"CORS_ORIGINS": "*"}))
	require.ErrorContains(t, err, "CORS_ORIGINS")
}
