package commerce_test

import (
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/stretchr/testify/require"
)

func TestISOCurrency(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"USD", "EUR", "GBP", "JPY", "INR", "XOF", "XCG", "ZWG"} {
		require.True(t, commerce.ISOCurrency(c), c)
	}
	for _, c := range []string{"XYZ", "usd", "Usd", "USD1", "US", "", " USD", "XTS", "XXX", "XAU", "HRK", "U\x00D", "€UR"} {
		require.False(t, commerce.ISOCurrency(c), c)
	}
}

func TestTextBounds(t *testing.T) {
	t.Parallel()
	require.NoError(t, commerce.CheckText("name", strings.Repeat("é", commerce.MaxNameLength), commerce.MaxNameLength))
	err := commerce.CheckText("name", strings.Repeat("é", commerce.MaxNameLength+1), commerce.MaxNameLength)
	require.Equal(t, commerce.EInvalid, commerce.ErrorCodeOf(err))
	require.ErrorContains(t, err, "no more than 255 characters")
	require.ErrorContains(t, commerce.CheckText("title", "a\x00b", 10), "NUL")
	require.ErrorContains(t, commerce.CheckText("title", "a\xffb", 10), "UTF-8")
	require.Empty(t, commerce.TextProblem("Grüße, 世界"))
}
