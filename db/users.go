package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
)

// UpsertUser creates the user named by the claims or updates the attributes they carry; it
// writes nothing when the stored user already matches.
func (s *Store) UpsertUser(ctx context.Context, c commerce.UserClaims) (commerce.User, error) {
	key := claimsKey(c)
	if e, ok := s.cache.users.get(c.Username); ok && e.tag == key && time.Since(e.at) < userCacheTTL {
		return e.value, nil
	}
	u, err := s.upsertUser(ctx, c)
	if err != nil {
		return u, err
	}
	s.cache.users.put(c.Username, entry[commerce.User]{value: u, at: time.Now(), tag: key})
	return u, nil
}

func (s *Store) upsertUser(ctx context.Context, c commerce.UserClaims) (commerce.User, error) {
	row, err := s.q.UpsertUserFromClaims(ctx, s.pool, dbgen.UpsertUserFromClaimsParams{
		Username: c.Username, Email: c.Email, FullName: c.FullName, IsStaff: c.IsStaff, LMSUserID: c.LMSUserID,
	})
	if errors.Is(err, pgx.ErrNoRows) { // unchanged: the conditional update touched nothing
		row, err = s.q.GetUserByUsername(ctx, s.pool, c.Username)
	}
	if err != nil {
		return commerce.User{}, interpretError(fmt.Errorf("upsert user %q: %w", c.Username, err))
	}
	return userFromRow(row), nil
}

// UserByUsername returns the user with that username, or commerce.ErrNotFound.
func (s *Store) UserByUsername(ctx context.Context, username string) (commerce.User, error) {
	row, err := s.q.GetUserByUsername(ctx, s.pool, username)
	if err != nil {
		return commerce.User{}, interpretError(fmt.Errorf("get user %q: %w", username, err))
	}
	return userFromRow(row), nil
}
