// Command ecommerce is the commerce service for online courses: one binary with the API
// (serve), the Temporal worker (worker), database migrations (migrate), a demo catalog (seed),
// development tokens (token), and everything in one process for newcomers (dev).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: ecommerce <command> [flags]

commands:
  serve     run the REST API
  worker    run the Temporal worker (checkout workflows and activities)
  migrate   apply database migrations
  seed      publish the demo catalog (idempotent)
  token     print a JWT for the running configuration (--username alice [--admin] [--email ...])
  dev       migrate, seed and serve in one process, for trying the service locally
  config    print the configuration reference as a Markdown table
  load      buy seats as many learners at once against a running stack and print the figures
            (--users 20 --count 200 [--bare] [--json]; see docs/benchmarks.md)
  help      print this text

Configuration comes from environment variables; see 'ecommerce config'.
To try the service, run 'make run' in the repository (it starts Temporal, then 'ecommerce dev').
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecommerce:", err)
		os.Exit(exitCode(err))
	}
}

// errNoCommand marks a missing or unknown command: the usage was printed, and the exit status
// is 2 (as for any command-line mistake of the shell's tools), not 0.
var errNoCommand = errors.New("no such command")

// exitCode is the exit status of a failed run: 2 for a missing or unknown command, else 1.
func exitCode(err error) int {
	if errors.Is(err, errNoCommand) {
		return 2
	}
	return 1
}

// run dispatches a subcommand; it is main without the process around it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: a command is required", errNoCommand)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	if cmd == "config" {
		fmt.Fprint(stdout, markdownTable())
		return nil
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	logger := newLogger(cfg, stderr)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, logger)
	case "worker":
		return runWorker(ctx, cfg, logger)
	case "migrate":
		return migrate(ctx, cfg, logger)
	case "seed":
		return seedCommand(ctx, cfg, logger)
	case "token":
		return tokenCommand(cfg, rest, stdout, stderr)
	case "dev":
		return dev(ctx, cfg, logger, stdout)
	case "load":
		return loadCommand(ctx, cfg, rest, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errNoCommand, cmd)
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// errUsage marks a command-line mistake.
var errUsage = errors.New("usage")

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
