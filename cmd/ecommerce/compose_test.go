package main

import (
	"bufio"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// composeEnv reads docker-compose.yml's shared service environment (x-ecommerce-env), each
// `${NAME:-default}` taken at its default, as a user without an .env file gets it.
func composeEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../../docker-compose.yml")
	require.NoError(t, err)
	defer f.Close()
	entry := regexp.MustCompile(`^  ([A-Z][A-Z0-9_]*): (.*)$`)
	substitution := regexp.MustCompile(`\$\{[A-Z0-9_]+:-([^}]*)\}`)
	env := map[string]string{}
	inBlock := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "x-ecommerce-env:"):
			inBlock = true
		case inBlock && !strings.HasPrefix(line, "  "):
			return env
		case inBlock:
			m := entry.FindStringSubmatch(line)
			require.NotNil(t, m, "unexpected line in x-ecommerce-env: %q", line)
			env[m[1]] = substitution.ReplaceAllString(m[2], "$1")
		}
	}
	require.NotEmpty(t, env, "docker-compose.yml has no x-ecommerce-env block")
	return env
}

// TestDockerComposeConfigurationIsAccepted checks docker-compose.yml without Docker: every
// variable it gives the service is one the service reads (a typo would be silently ignored),
// and the service accepts the configuration as compose passes it (the API adds HTTP_ADDR).
func TestDockerComposeConfigurationIsAccepted(t *testing.T) {
	env := composeEnv(t)
	env["HTTP_ADDR"] = "0.0.0.0:8130"
	known := map[string]bool{}
	for f := range reflect.TypeOf(config{}).Fields() {
		known[f.Tag.Get("env")] = true
	}
	for name := range env {
		require.True(t, known[name], "docker-compose.yml sets %s, which the service does not read", name)
	}
	_, err := loadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)

	raw, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	for _, cmd := range regexp.MustCompile(`command: \["([a-z]+)"\]`).FindAllStringSubmatch(string(raw), -1) {
		require.Contains(t, []string{"serve", "worker", "migrate"}, cmd[1], "docker-compose.yml runs an unknown command")
	}
}
