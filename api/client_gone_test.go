package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/auth"
	"github.com/stretchr/testify/require"
)

// A request whose client went away fails its database work with the cancellation: that is not
// the server's failure, so it is recorded as 499 and logged as information, not as a 500 error
// (a load run's cancelled polls once filled the log with them).
func TestClientThatWentAwayIsNotAServerError(t *testing.T) {
	h := newHarness(t)
	var logs bytes.Buffer
	verifier, err := auth.NewVerifier(testSecret, []string{testIssuer})
	require.NoError(t, err)
	handler := api.NewHandler(api.Config{
		Store: h.store, Verifier: verifier, PartnerShortCode: "EDX", PublicURL: "http://shop.test", Checkouts: h.checkouts,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", "/api/v2/orders/EDX-100001/", nil).WithContext(ctx)
	req.Header.Set("Authorization", "JWT "+h.token("alice", false))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)

	require.Equal(t, 499, rec.Code, rec.Body.String())
	require.NotContains(t, logs.String(), "level=ERROR")
	require.Contains(t, logs.String(), "client went away")
}
