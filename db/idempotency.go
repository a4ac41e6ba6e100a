package db

import (
	"bytes"
	"context"
	"fmt"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
)

// ClaimIdempotencyKey claims the user's Idempotency-Key for a first request (claimed true), or
// returns what the key already holds: the first request's answer (Status non-zero), or a request
// still being answered (Status zero), and whether that was the same request (SameRequest). A key
// older than a day, or claimed a minute ago by a request that never answered, is forgotten first.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, k commerce.IdempotencyKey) (commerce.IdempotentAnswer, bool, error) {
	key := dbgen.ExpireIdempotencyKeyParams{UserID: k.UserID, Key: k.Key}
	if err := s.q.ExpireIdempotencyKey(ctx, s.pool, key); err != nil {
		return commerce.IdempotentAnswer{}, false, interpretError(fmt.Errorf("expire idempotency key: %w", err))
	}
	n, err := s.q.ClaimIdempotencyKey(ctx, s.pool, dbgen.ClaimIdempotencyKeyParams{
		UserID: k.UserID, Key: k.Key, Method: k.Method, Path: k.Path, RequestHash: k.RequestHash,
	})
	if err != nil {
		return commerce.IdempotentAnswer{}, false, interpretError(fmt.Errorf("claim idempotency key: %w", err))
	}
	if n == 1 {
		return commerce.IdempotentAnswer{}, true, nil
	}
	row, err := s.q.GetIdempotencyKey(ctx, s.pool, dbgen.GetIdempotencyKeyParams{UserID: k.UserID, Key: k.Key})
	if err != nil {
		return commerce.IdempotentAnswer{}, false, interpretError(fmt.Errorf("read idempotency key: %w", err))
	}
	a := commerce.IdempotentAnswer{
		SameRequest: row.Method == k.Method && row.Path == k.Path && bytes.Equal(row.RequestHash, k.RequestHash),
		ContentType: row.ContentType, Body: row.Body,
	}
	if row.Status != nil {
		a.Status = int(*row.Status)
	}
	return a, false, nil
}

// FinishIdempotencyKey keeps the first request's answer under its key.
func (s *Store) FinishIdempotencyKey(ctx context.Context, k commerce.IdempotencyKey, a commerce.IdempotentAnswer) error {
	err := s.q.FinishIdempotencyKey(ctx, s.pool, dbgen.FinishIdempotencyKeyParams{
		UserID: k.UserID, Key: k.Key, Status: new(int32(a.Status)), ContentType: a.ContentType, Body: a.Body,
	})
	return interpretError(err)
}

// ReleaseIdempotencyKey forgets a claimed key whose request failed on the server's side, so that
// a retry runs again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, k commerce.IdempotencyKey) error {
	return interpretError(s.q.ReleaseIdempotencyKey(ctx, s.pool, dbgen.ReleaseIdempotencyKeyParams{UserID: k.UserID, Key: k.Key}))
}
