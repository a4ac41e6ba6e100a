package db_test

import (
	"context"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

func TestUpsertUser(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()

	t.Run("AbsentClaimsKeepStoredValues", func(t *testing.T) {
		t.Parallel()
		name := dbtest.Unique("claims-")
		email, full, staff, lmsID := name+"@example.com", "Ada Lovelace", true, int64(42)
		u, err := s.UpsertUser(ctx, commerce.UserClaims{Username: name, Email: &email, FullName: &full, IsStaff: &staff, LMSUserID: &lmsID})
		require.NoError(t, err)

		again, err := s.UpsertUser(ctx, commerce.UserClaims{Username: name})
		require.NoError(t, err)
		require.Equal(t, u.ID, again.ID)
		require.Equal(t, email, again.Email)
		require.Equal(t, full, again.FullName)
		require.True(t, again.IsStaff)
		require.NotNil(t, again.LMSUserID)
		require.Equal(t, lmsID, *again.LMSUserID)

		other := "new-" + email
		changed, err := s.UpsertUser(ctx, commerce.UserClaims{Username: name, Email: &other})
		require.NoError(t, err)
		require.Equal(t, other, changed.Email)
		require.Equal(t, full, changed.FullName)

		byName, err := s.UserByUsername(ctx, name)
		require.NoError(t, err)
		require.Equal(t, changed.ID, byName.ID)
		require.Equal(t, other, byName.Email)
	})

	t.Run("ConcurrentFirstLoginsMakeOneUser", func(t *testing.T) {
		t.Parallel()
		name := dbtest.Unique("first-login-")
		email := name + "@example.com"
		const calls = 10
		ids := make([]int64, calls)
		errs := make([]error, calls)
		parallel(calls, func(i int) {
			u, err := s.UpsertUser(ctx, commerce.UserClaims{Username: name, Email: &email})
			ids[i], errs[i] = u.ID, err
		})
		for i := range ids {
			require.NoError(t, errs[i], "call %d", i)
			require.Equal(t, ids[0], ids[i])
		}
		require.Equal(t, 1, count(t, "SELECT count(*) FROM users WHERE username = $1", name))
	})

	t.Run("UnknownUserIsNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := s.UserByUsername(ctx, dbtest.Unique("nobody-"))
		requireCode(t, err, commerce.ENotFound)
	})
}
