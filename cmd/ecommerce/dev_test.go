package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// The banner links to the Temporal UI where it is (TEMPORAL_UI_PORT, else the dev server's
// TEMPORAL_ADDRESS port + 1000), and knows whether one answers there.
func TestTemporalUIForTheBanner(t *testing.T) {
	t.Parallel()
	ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/settings" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"Auth":{"Enabled":false}}`))
	}))
	defer ui.Close()
	_, uiPort, err := net.SplitHostPort(ui.Listener.Addr().String())
	require.NoError(t, err)

	ctx := context.Background()
	url, ok := temporalUI(ctx, config{TemporalAddress: "127.0.0.1:7253", TemporalUIPort: uiPort})
	require.Equal(t, "http://127.0.0.1:"+uiPort, url)
	require.True(t, ok)

	url, _ = temporalUI(ctx, config{TemporalAddress: "127.0.0.1:7233"})
	require.Equal(t, "http://127.0.0.1:8233", url, "the dev server's default")
	url, _ = temporalUI(ctx, config{TemporalAddress: "0.0.0.0:7300"})
	require.Equal(t, "http://127.0.0.1:8300", url)

	// Nothing listens: the banner says so rather than printing a dead link as if it worked.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, freePort, _ := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, ln.Close())
	url, ok = temporalUI(ctx, config{TemporalAddress: "127.0.0.1:7233", TemporalUIPort: freePort})
	require.Equal(t, "http://127.0.0.1:"+freePort, url)
	require.False(t, ok)

	_, ok = temporalUI(ctx, config{TemporalAddress: "no-port"})
	require.False(t, ok)
}
