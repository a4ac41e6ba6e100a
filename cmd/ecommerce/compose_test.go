package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
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

// loadCompose loads docker-compose.yml (or content in its place, when not nil) the way `docker
// compose config` does, with compose-go: YAML, interpolation of ${...} from env (nothing else of
// the machine's environment), validation against the compose specification's schema, then the
// consistency checks (dependencies, networks and volumes that exist).
func loadCompose(t *testing.T, content []byte, env map[string]string) (*types.Project, error) {
	t.Helper()
	wd, err := filepath.Abs("../..")
	require.NoError(t, err)
	file := types.ConfigFile{Filename: filepath.Join(wd, "docker-compose.yml"), Content: content}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir: wd, ConfigFiles: []types.ConfigFile{file}, Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("ecommerce", true) })
}

// TestDockerComposeFileIsValid checks docker-compose.yml as `docker compose config` would,
// without Docker, and that it describes the one-host topology of DESIGN.md §2: PostgreSQL,
// Temporal persisting in it, the Temporal UI, the namespace setup, and the service's migrate,
// api and worker started in order, with their ports.
func TestDockerComposeFileIsValid(t *testing.T) {
	project, err := loadCompose(t, nil, map[string]string{"JWT_SECRET_KEY": "from-the-environment"})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"postgres", "temporal", "temporal-setup", "temporal-ui", "migrate", "api", "worker"},
		project.ServiceNames())
	svc := func(name string) types.ServiceConfig {
		s, err := project.GetService(name)
		require.NoError(t, err)
		return s
	}
	env := func(name, key string) string {
		v := svc(name).Environment[key]
		require.NotNil(t, v, "%s has no %s", name, key)
		return *v
	}
	dependsOn := func(name string) map[string]string {
		deps := map[string]string{}
		for dep, d := range svc(name).DependsOn {
			deps[dep] = d.Condition
		}
		return deps
	}
	ports := func(name string) []string {
		var out []string
		for _, p := range svc(name).Ports {
			out = append(out, p.Published+":"+strconv.Itoa(int(p.Target))+"/"+p.Protocol)
		}
		return out
	}

	require.NotNil(t, svc("postgres").HealthCheck, "postgres needs a health check: temporal and migrate wait for it")
	require.Equal(t, "postgres12", env("temporal", "DB"), "Temporal persists in PostgreSQL")
	require.Equal(t, "postgres", env("temporal", "POSTGRES_SEEDS"))
	require.Equal(t, map[string]string{"postgres": types.ServiceConditionHealthy}, dependsOn("temporal"))
	require.Equal(t, []string{"7233:7233/tcp"}, ports("temporal"))
	require.NotNil(t, svc("temporal").HealthCheck)
	require.Equal(t, map[string]string{"temporal": types.ServiceConditionHealthy}, dependsOn("temporal-setup"))
	require.Contains(t, strings.Join(svc("temporal-setup").Command, " "), "${sa%%:*}", "$$ escapes a shell variable from interpolation")
	require.Equal(t, map[string]string{"temporal": types.ServiceConditionStarted}, dependsOn("temporal-ui"))
	require.Equal(t, []string{"8080:8080/tcp"}, ports("temporal-ui"))
	require.Equal(t, "temporal:7233", env("temporal-ui", "TEMPORAL_ADDRESS"))

	require.Equal(t, map[string]string{"postgres": types.ServiceConditionHealthy}, dependsOn("migrate"))
	for _, name := range []string{"api", "worker"} {
		require.Equal(t, map[string]string{"migrate": types.ServiceConditionCompletedSuccessfully,
			"temporal-setup": types.ServiceConditionCompletedSuccessfully}, dependsOn(name), name)
	}
	for name, command := range map[string]string{"migrate": "migrate", "api": "serve", "worker": "worker"} {
		s := svc(name)
		require.NotNil(t, s.Build, "%s is built from the repository", name)
		require.Equal(t, types.ShellCommand{command}, s.Command, name)
		require.Equal(t, "temporal:7233", env(name, "TEMPORAL_ADDRESS"), name)
		require.Equal(t, "from-the-environment", env(name, "JWT_SECRET_KEY"), "%s: ${JWT_SECRET_KEY:-...} is interpolated", name)
		require.Equal(t, "http://localhost:8130", env(name, "PUBLIC_URL"), "%s: the default of an unset variable", name)
	}
	require.Equal(t, "0.0.0.0:8130", env("api", "HTTP_ADDR"))
	require.Equal(t, []string{"8130:8130/tcp"}, ports("api"))
	require.Empty(t, ports("worker"))
	require.Contains(t, project.VolumeNames(), "pgdata")
}

// TestDockerComposeCheckRejectsMistakes shows that the check of TestDockerComposeFileIsValid
// has teeth: a misspelt key fails the compose schema, and a dependency on a missing service
// fails the consistency check.
func TestDockerComposeCheckRejectsMistakes(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	for name, c := range map[string]struct{ old, new, want string }{
		"misspelt key":      {"    depends_on: [temporal]", "    depend_on: [temporal]", "depend_on"},
		"unknown service":   {"    depends_on: [temporal]", "    depends_on: [temporal-server]", "temporal-server"},
		"unknown condition": {"{condition: service_healthy}", "{condition: healthy}", "healthy"},
	} {
		t.Run(name, func(t *testing.T) {
			broken := strings.Replace(string(raw), c.old, c.new, 1)
			require.NotEqual(t, string(raw), broken, "docker-compose.yml no longer has %q", c.old)
			_, err := loadCompose(t, []byte(broken), map[string]string{})
			require.ErrorContains(t, err, c.want)
		})
	}
}
