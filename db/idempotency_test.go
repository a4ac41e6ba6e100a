package db_test

import (
	"context"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// An Idempotency-Key is claimed once: a second claim sees the first request still being answered
// (Status 0), then its answer; another request under the key is told apart; a released key (the
// first request failed) can be claimed again.
func TestIdempotencyKeyClaim(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	u := newUser(t, s)
	k := commerce.IdempotencyKey{UserID: u.ID, Key: "k-1", Method: "POST", Path: "/api/v2/checkout/", RequestHash: []byte{1, 2, 3}}

	_, claimed, err := s.ClaimIdempotencyKey(ctx, k)
	require.NoError(t, err)
	require.True(t, claimed)

	prior, claimed, err := s.ClaimIdempotencyKey(ctx, k)
	require.NoError(t, err)
	require.False(t, claimed)
	require.Equal(t, commerce.IdempotentAnswer{SameRequest: true, Body: []byte{}}, prior, "still being answered")

	answer := commerce.IdempotentAnswer{Status: 200, ContentType: "application/json; charset=utf-8", Body: []byte(`{"id":1}`)}
	require.NoError(t, s.FinishIdempotencyKey(ctx, k, answer))
	prior, claimed, err = s.ClaimIdempotencyKey(ctx, k)
	require.NoError(t, err)
	require.False(t, claimed)
	answer.SameRequest = true
	require.Equal(t, answer, prior)

	other := k
	other.RequestHash = []byte{9}
	prior, _, err = s.ClaimIdempotencyKey(ctx, other)
	require.NoError(t, err)
	require.False(t, prior.SameRequest)

	failed := k
	failed.Key = "k-2"
	_, claimed, err = s.ClaimIdempotencyKey(ctx, failed)
	require.NoError(t, err)
	require.True(t, claimed)
	require.NoError(t, s.ReleaseIdempotencyKey(ctx, failed))
	_, claimed, err = s.ClaimIdempotencyKey(ctx, failed)
	require.NoError(t, err)
	require.True(t, claimed, "a released key is claimed again")
}
