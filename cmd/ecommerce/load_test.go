package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/loadtest"
	"github.com/stretchr/testify/require"
)

func TestLoadFlagsDefaultToTheConfiguration(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(env(map[string]string{"PUBLIC_URL": "http://127.0.0.1:8230/", "LMS_URL": "http://127.0.0.1:18100",
		"CYBERSOURCE_REST_URL": "http://127.0.0.1:18101", "TEMPORAL_NAMESPACE": "load-x", "TEMPORAL_ADDRESS": "127.0.0.1:7234",
		"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ecommerce_load?sslmode=disable"}))
	require.NoError(t, err)
	f, err := parseLoadFlags(cfg, nil, &bytes.Buffer{})
	require.NoError(t, err)
	o := f.opts
	require.Equal(t, "http://127.0.0.1:8230", o.API, "the trailing slash is dropped")
	require.Equal(t, "http://127.0.0.1:18100", o.LMS)
	require.Equal(t, "http://127.0.0.1:18101", o.CyberSource)
	require.Equal(t, 30*time.Second, o.Duration, "30 s when neither --duration nor --count is set")
	require.Equal(t, 10, o.Users)
	require.Equal(t, time.Minute, o.Timeout)
	require.False(t, o.Bare)
	require.False(t, f.json)
	require.Equal(t, "load-x", o.TemporalNamespace)
	require.Equal(t, loadtest.ProcessGroups{APIPort: 8230, TemporalPort: 7234, Database: "ecommerce_load"}, o.Processes)
	require.Equal(t, "dev-lms-api-key", o.LMSAPIKey)
}

func TestLoadFlagsAreRead(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(env(nil))
	require.NoError(t, err)
	f, err := parseLoadFlags(cfg, []string{"--users", "20", "--count", "200", "--rate", "12.5", "--bare", "--json",
		"--api", "http://h:9000", "--lms", "http://l", "--cybersource", "https://c/", "--sku", "ABC1234",
		"--voucher", "auto", "--timeout", "2m", "--poll", "5ms", "--database", "other"}, &bytes.Buffer{})
	require.NoError(t, err)
	o := f.opts
	require.Equal(t, 20, o.Users)
	require.Equal(t, 200, o.Count)
	require.Equal(t, time.Duration(0), o.Duration, "--count alone sets no duration")
	require.Equal(t, 12.5, o.Rate)
	require.True(t, o.Bare)
	require.True(t, f.json)
	require.Equal(t, "ABC1234", o.SKU)
	require.Equal(t, "auto", o.Voucher)
	require.Equal(t, 2*time.Minute, o.Timeout)
	require.Equal(t, 5*time.Millisecond, o.Poll)
	require.Equal(t, "https://c", o.CyberSource)
	require.Equal(t, loadtest.ProcessGroups{APIPort: 9000, TemporalPort: 7233, Database: "other"}, o.Processes)
	require.Equal(t, 80, urlPort("http://l"))
	require.Equal(t, 443, urlPort("https://c"))
}

func TestLoadRefusesBadFlags(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"load", "--users", "many"}, env(nil), &bytes.Buffer{}, &stderr)
	require.ErrorIs(t, err, errUsage)
	require.Contains(t, stderr.String(), "-users")
	err = run(context.Background(), []string{"load", "extra"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorIs(t, err, errUsage)
	err = run(context.Background(), []string{"load", "--users", "0", "--api", "http://127.0.0.1:1"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "users must be at least 1")
}
