package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/auth"
	"github.com/coursecommerce/commerce/loadtest"
)

// loadFlags are the flags of `ecommerce load`.
type loadFlags struct {
	opts     loadtest.Options
	json     bool
	database string
}

// parseLoadFlags reads the flags of `ecommerce load`; the URLs default to the configuration's
// (PUBLIC_URL, LMS_URL, CYBERSOURCE_REST_URL: make run's when nothing is set).
func parseLoadFlags(cfg config, args []string, stderr io.Writer) (loadFlags, error) {
	var f loadFlags
	o := &f.opts
	fs := newFlagSet("load", stderr)
	fs.DurationVar(&o.Duration, "duration", 0, "how long each phase starts operations (default 30s unless --count is set)")
	fs.IntVar(&o.Count, "count", 0, "how many purchases (and bare workflows) each phase starts; 0 is no limit")
	fs.IntVar(&o.Users, "users", 10, "concurrent learners (and concurrent bare workflows)")
	fs.Float64Var(&o.Rate, "rate", 0, "start at most this many purchases a second (never more than --users in flight); 0 is as fast as the learners go")
	fs.StringVar(&o.API, "api", cfg.PublicURL, "base URL of the service")
	fs.StringVar(&o.LMS, "lms", cfg.LMSURL, "base URL of the LMS simulator (enrollments are read there)")
	fs.StringVar(&o.CyberSource, "cybersource", cfg.CyberSourceRESTURL, "base URL of the CyberSource simulator (its /pay page)")
	fs.StringVar(&o.SKU, "sku", "", "seat to buy; empty publishes a new course for the run (every purchase is by a new learner)")
	fs.StringVar(&o.Voucher, "voucher", "", `code applied to every basket; "auto" creates a 10% Multi-use code for the seat`)
	fs.BoolVar(&o.Bare, "bare", false, "then run the bare workflow (start, signal, 4 no-op activities) on the same Temporal, for the ratio")
	fs.DurationVar(&o.Timeout, "timeout", time.Minute, "longest one purchase may take, waits included")
	fs.DurationVar(&o.Poll, "poll", 20*time.Millisecond, "interval of the order and enrollment status reads")
	fs.BoolVar(&f.json, "json", false, "print the summary as JSON")
	fs.StringVar(&f.database, "database", databaseName(cfg.DatabaseURL), "database whose PostgreSQL backends are counted in the CPU figures")
	if err := fs.Parse(args); err != nil {
		return f, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if o.Duration == 0 && o.Count == 0 {
		o.Duration = 30 * time.Second
	}
	for _, u := range []*string{&o.API, &o.LMS, &o.CyberSource} {
		*u = strings.TrimSuffix(*u, "/")
	}
	o.LMSAPIKey = cfg.LMSAPIKey
	o.TemporalAddress, o.TemporalNamespace = cfg.TemporalAddress, cfg.TemporalNamespace
	o.Processes = loadtest.ProcessGroups{APIPort: urlPort(o.API), TemporalPort: addrPort(cfg.TemporalAddress), Database: f.database}
	return f, nil
}

// loadCommand runs `ecommerce load`: many learners buying at once against a running stack (see
// package loadtest), then prints the summary on stdout; progress goes to stderr.
func loadCommand(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	f, err := parseLoadFlags(cfg, args, stderr)
	if err != nil {
		return err
	}
	f.opts.Token = func(username string, admin bool) (string, error) {
		return auth.Mint(cfg.JWTSecretKey, auth.TokenOptions{Username: username, Email: username + "@example.com",
			Admin: admin, LMSUserID: auth.DevUserID(username), Issuer: cfg.issuers()[0], TTL: time.Hour})
	}
	f.opts.Progress = stderr
	f.opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	summary, err := loadtest.Run(ctx, f.opts)
	if summary.Date != "" && summary.Checkout.Name != "" {
		if werr := writeSummary(stdout, summary, f.json); werr != nil {
			return werr
		}
	}
	return err
}

// writeSummary prints the summary as text or as indented JSON.
func writeSummary(w io.Writer, s loadtest.Summary, asJSON bool) error {
	if !asJSON {
		s.WriteText(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// databaseName is the database named by a PostgreSQL URL, or "".
func databaseName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// urlPort is the port of a URL (80 or 443 by default), or 0.
func urlPort(rawURL string) int {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0
	}
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// addrPort is the port of host:port, or 0.
func addrPort(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}
