package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/auth"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8130", c.HTTPAddr)
	require.Equal(t, "EDX", c.PartnerShortCode)
	require.Equal(t, []string{"http://127.0.0.1:18000/oauth2", "ecommerce_worker"}, c.issuers())

	c, err = loadConfig(env(map[string]string{"PARTNER_SHORT_CODE": "mitx", "JWT_ISSUERS": " a , b ,", "SHUTDOWN_TIMEOUT": "3s"}))
	require.NoError(t, err)
	require.Equal(t, "MITX", c.PartnerShortCode)
	require.Equal(t, []string{"a", "b"}, c.issuers())
	require.Equal(t, "3s", c.ShutdownTimeout.String())

	for k, v := range map[string]string{"SHUTDOWN_TIMEOUT": "soon", "JWT_ISSUERS": ",", "PARTNER_SHORT_CODE": "WAYTOOLONGCODE", "LOG_LEVEL": "loud"} {
		_, err := loadConfig(env(map[string]string{k: v}))
		require.ErrorContains(t, err, k)
	}
}

func TestLogAttrsMaskSecrets(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(map[string]string{"JWT_SECRET_KEY": "topsecret", "DATABASE_URL": "postgres://u:hunter2@db:5432/x"}))
	require.NoError(t, err)
	logged := fmt.Sprint(c.logAttrs()...)
	require.NotContains(t, logged, "topsecret")
	require.NotContains(t, logged, "hunter2")
	require.Contains(t, logged, "postgres://u:******@db:5432/x")
}

func TestConfigTableListsEveryVariable(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"config"}, env(nil), &out, &out))
	for _, name := range []string{"DATABASE_URL", "HTTP_ADDR", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "PARTNER_SHORT_CODE", "JWT_SECRET_KEY", "JWT_ISSUERS"} {
		require.Contains(t, out.String(), "`"+name+"`")
	}
}

func TestTokenCommandMintsAVerifiableToken(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	getenv := env(map[string]string{"JWT_SECRET_KEY": "s3", "JWT_ISSUERS": "iss-a,iss-b"})
	require.NoError(t, run(context.Background(), []string{"token", "--username", "alice", "--admin"}, getenv, &out, &errOut))
	v, err := auth.NewVerifier("s3", []string{"iss-a"})
	require.NoError(t, err)
	claims, err := v.Verify(strings.TrimSpace(out.String()))
	require.NoError(t, err)
	require.Equal(t, "alice", claims.Username)
	require.True(t, *claims.IsStaff)
	require.Equal(t, "alice@example.com", *claims.Email)

	require.Error(t, run(context.Background(), []string{"token"}, getenv, &out, &errOut))
	require.Error(t, run(context.Background(), []string{"nope"}, getenv, &out, &errOut))
}

func TestREADMEHasTheCurrentConfigurationTable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	require.Contains(t, string(readme), markdownTable(), "regenerate the README table with: go run ./cmd/ecommerce config")
}

// The published development secrets are refused when the service is reachable from elsewhere.
func TestDevelopmentSecretsAreRefusedOffLoopback(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PUBLIC_URL": "https://shop.example.com"}
	_, err := loadConfig(func(k string) string { return env[k] })
	require.ErrorContains(t, err, "JWT_SECRET_KEY is the published development default")
	for _, k := range []string{"JWT_SECRET_KEY", "LMS_API_KEY", "CYBERSOURCE_SECRET_KEY", "CYBERSOURCE_REST_SHARED_SECRET", "PAYPAL_CLIENT_SECRET", "CSRF_SECRET_KEY"} {
		env[k] = "a-real-secret-" + k
	}
	_, err = loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	for _, local := range []string{"http://127.0.0.1:8130", "http://localhost:8130", "http://[::1]:8130"} {
		_, err := loadConfig(func(k string) string {
			if k == "PUBLIC_URL" {
				return local
			}
			return ""
		})
		require.NoError(t, err, local)
	}
}
