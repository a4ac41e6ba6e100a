package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/auth"
	"github.com/stretchr/testify/require"
)

func TestClaimsTheUsersTableCannotHoldAreRefused(t *testing.T) {
	t.Parallel()
	v := newVerifier(t)
	for name, tc := range map[string]struct {
		claim string
		value any
	}{
		"NULInPreferredUsername": {"preferred_username", "ali\x00ce"},
		"NULInEmail":             {"email", "alice@example.com\x00"},
		"NULInFullName":          {"full_name", "\x00"},
		"LongPreferredUsername":  {"preferred_username", strings.Repeat("a", auth.MaxUsernameLength+1)},
		"LongEmail":              {"email", strings.Repeat("a", auth.MaxEmailLength-11) + "@example.com"},
		"LongFullName":           {"full_name", strings.Repeat("é", auth.MaxFullNameLength+1)},
	} {
		t.Run(name, func(t *testing.T) {
			claims := baseClaims()
			claims[tc.claim] = tc.value
			_, err := v.Verify(sign(t, claims, secret))
			require.True(t, errors.Is(err, auth.ErrInvalidToken), "%v", err)
			require.Contains(t, err.Error(), tc.claim)
		})
	}
	t.Run("NULInUsernameWhenThereIsNoPreferredUsername", func(t *testing.T) {
		claims := baseClaims()
		delete(claims, "preferred_username")
		claims["username"] = "bob\x00"
		_, err := v.Verify(sign(t, claims, secret))
		require.ErrorIs(t, err, auth.ErrInvalidToken)
		require.Contains(t, err.Error(), `"username" claim contains a NUL character`)
	})
	t.Run("AtTheBoundsIsAccepted", func(t *testing.T) {
		claims := baseClaims()
		claims["preferred_username"] = strings.Repeat("ü", auth.MaxUsernameLength)
		claims["email"] = strings.Repeat("a", auth.MaxEmailLength-12) + "@example.com"
		claims["full_name"] = strings.Repeat("é", auth.MaxFullNameLength)
		u, err := v.Verify(sign(t, claims, secret))
		require.NoError(t, err)
		require.Len(t, *u.Email, auth.MaxEmailLength)
	})
}
