package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// mainArgsEnv makes TestMainProcess run main with these arguments (separated by spaces).
const mainArgsEnv = "ECOMMERCE_TEST_MAIN_ARGS"

// TestMainProcess is the ecommerce process of TestNoOrUnknownCommandExitsTwo.
func TestMainProcess(t *testing.T) {
	args, ok := os.LookupEnv(mainArgsEnv)
	if !ok {
		t.Skip("run by TestNoOrUnknownCommandExitsTwo")
	}
	os.Args = append([]string{"ecommerce"}, strings.Fields(args)...)
	main()
	os.Exit(0)
}

// A newcomer typing `ecommerce` (or a typo) gets the usage on stderr and a failing exit status;
// help asks for the usage and succeeds.
func TestNoOrUnknownCommandExitsTwo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args     string
		code     int
		stdout   string
		stderr   []string
		noStdout bool
	}{
		{args: "", code: 2, stderr: []string{"usage: ecommerce <command>", "ecommerce: no such command: a command is required"}, noStdout: true},
		{args: "srve", code: 2, stderr: []string{"usage: ecommerce <command>", `ecommerce: no such command: unknown command "srve"`}, noStdout: true},
		{args: "help", code: 0, stdout: "usage: ecommerce <command>"},
		{args: "--help", code: 0, stdout: "usage: ecommerce <command>"},
	} {
		t.Run("args="+tc.args, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), mainArgsEnv+"="+tc.args)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				code = exitErr.ExitCode()
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			for _, s := range tc.stderr {
				require.Contains(t, stderr.String(), s)
			}
			if tc.stdout != "" {
				require.Contains(t, stdout.String(), tc.stdout)
			}
			if tc.noStdout {
				require.NotContains(t, stdout.String(), "usage:", "the usage of a mistake goes to stderr")
			}
		})
	}
}

func TestRunWithoutOrWithUnknownCommand(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), nil, env(nil), &stdout, &stderr)
	require.ErrorIs(t, err, errNoCommand)
	require.Equal(t, 2, exitCode(err))
	require.Contains(t, stderr.String(), "commands:")
	require.Empty(t, stdout.String())

	stderr.Reset()
	err = run(context.Background(), []string{"nope"}, env(nil), &stdout, &stderr)
	require.ErrorIs(t, err, errNoCommand)
	require.Contains(t, err.Error(), `"nope"`)
	require.Contains(t, stderr.String(), "commands:")

	require.Equal(t, 1, exitCode(errors.New("database down")))
}
