package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/coursecommerce/commerce/auth"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// rsaKeys are generated once: RSA key generation is the slow part of these tests.
var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// publicJWK is the public JWK of key with kid and alg (none when empty).
func publicJWK(t *testing.T, key *rsa.PrivateKey, kid string, alg jwkset.ALG) jwkset.JWKMarshal {
	t.Helper()
	j, err := jwkset.NewJWKFromKey(&key.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg}})
	require.NoError(t, err)
	return j.Marshal()
}

// jwkSet encodes keys as a JWK set.
func jwkSet(t *testing.T, keys ...jwkset.JWKMarshal) string {
	t.Helper()
	raw, err := json.Marshal(jwkset.JWKSMarshal{Keys: keys})
	require.NoError(t, err)
	return string(raw)
}

// signRSA signs claims with key, method and kid (no kid header when empty).
func signRSA(t *testing.T, method jwt.SigningMethod, claims jwt.MapClaims, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestVerifyRSATokensFromTheJWKSet(t *testing.T) {
	t.Parallel()
	keys := rsaKeys()
	set := jwkSet(t, publicJWK(t, keys[0], "lms-1", ""), publicJWK(t, keys[1], "lms-2", jwkset.AlgRS512))
	v, err := auth.NewVerifier(secret, []string{issuer}, auth.WithJWKSet(set))
	require.NoError(t, err)

	for name, tok := range map[string]string{
		"RS256ByKey1":  signRSA(t, jwt.SigningMethodRS256, baseClaims(), keys[0], "lms-1"),
		"RS512ByKey1":  signRSA(t, jwt.SigningMethodRS512, baseClaims(), keys[0], "lms-1"),
		"RS512ByKey2":  signRSA(t, jwt.SigningMethodRS512, baseClaims(), keys[1], "lms-2"),
		"HS256StillOK": sign(t, baseClaims(), secret),
	} {
		c, err := v.Verify(tok)
		require.NoError(t, err, name)
		require.Equal(t, "alice", c.Username, name)
	}

	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&keys[0].PublicKey))})
	confused := func(key []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, baseClaims())
		tok.Header["kid"] = "lms-1"
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}
	noneTok := func(kid string) string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + kid + `"}`))
		p := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"` + issuer + `","preferred_username":"x","iat":1,"exp":9999999999}`))
		return h + "." + p + "."
	}
	cases := map[string]struct {
		token, want string
	}{
		"SignedByAnotherKeyUnderAKnownKid": {signRSA(t, jwt.SigningMethodRS256, baseClaims(), keys[2], "lms-1"), "Error decoding signature."},
		"UnknownKid":                       {signRSA(t, jwt.SigningMethodRS256, baseClaims(), keys[0], "lms-9"), "Unknown signing key."},
		"NoKidWithTwoKeys":                 {signRSA(t, jwt.SigningMethodRS256, baseClaims(), keys[0], ""), "Unknown signing key."},
		"RS256ForAnRS512Key":               {signRSA(t, jwt.SigningMethodRS256, baseClaims(), keys[1], "lms-2"), "Error decoding signature."},
		"PS256":                            {signRSA(t, jwt.SigningMethodPS256, baseClaims(), keys[0], "lms-1"), "Error decoding signature."},
		"RS384":                            {signRSA(t, jwt.SigningMethodRS384, baseClaims(), keys[0], "lms-1"), "Error decoding signature."},
		"HS256WithThePublicKeyPEMAsSecret": {confused(publicPEM), "Error decoding signature."},
		"HS256WithThePublicKeyNAsSecret":   {confused(keys[0].N.Bytes()), "Error decoding signature."},
		"AlgNoneWithAKnownKid":             {noneTok("lms-1"), "Error decoding signature."},
	}
	for name, tc := range cases {
		_, err := v.Verify(tc.token)
		require.ErrorIs(t, err, auth.ErrInvalidToken, name)
		require.Contains(t, err.Error(), tc.want, name)
	}

	expired := baseClaims()
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	_, err = v.Verify(signRSA(t, jwt.SigningMethodRS256, expired, keys[0], "lms-1"))
	require.ErrorContains(t, err, "Signature has expired.", "RSA tokens follow the same claim rules")
	wrongIssuer := baseClaims()
	wrongIssuer["iss"] = "https://evil"
	_, err = v.Verify(signRSA(t, jwt.SigningMethodRS256, wrongIssuer, keys[0], "lms-1"))
	require.ErrorContains(t, err, "Invalid issuer.")
}

func TestVerifyWithASingleKeyAcceptsATokenWithoutKid(t *testing.T) {
	t.Parallel()
	keys := rsaKeys()
	v, err := auth.NewVerifier("", []string{issuer}, auth.WithJWKSet(jwkSet(t, publicJWK(t, keys[0], "only", ""))))
	require.NoError(t, err)
	_, err = v.Verify(signRSA(t, jwt.SigningMethodRS256, baseClaims(), keys[0], ""))
	require.NoError(t, err)

	_, err = v.Verify(sign(t, baseClaims(), secret))
	require.ErrorIs(t, err, auth.ErrInvalidToken, "without a secret no HS256 token passes")
	_, err = v.Verify(sign(t, baseClaims(), ""))
	require.ErrorIs(t, err, auth.ErrInvalidToken, "nor one signed with an empty secret")
}

func TestWithJWKSetRefusesUnusableSets(t *testing.T) {
	t.Parallel()
	keys := rsaKeys()
	good := publicJWK(t, keys[0], "k", "")
	with := func(change func(*jwkset.JWKMarshal)) string {
		m := good
		change(&m)
		return jwkSet(t, m)
	}
	private, err := jwkset.NewJWKFromKey(keys[0], jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: "k"}, Marshal: jwkset.JWKMarshalOptions{Private: true}})
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	for name, tc := range map[string]struct{ set, want string }{
		"NotJSON":        {"{keys", "not a JSON JWK set"},
		"NoKeys":         {`{"keys": []}`, "no keys"},
		"Symmetric":      {`{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}]}`, "only RSA"},
		"Elliptic":       {`{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"AA","y":"AA"}]}`, "only RSA"},
		"NoKid":          {with(func(m *jwkset.JWKMarshal) { m.KID = "" }), "no kid"},
		"DuplicateKid":   {jwkSet(t, good, publicJWK(t, keys[1], "k", "")), "used twice"},
		"PrivateKey":     {jwkSet(t, private.Marshal()), "private key material"},
		"EncryptionUse":  {with(func(m *jwkset.JWKMarshal) { m.USE = jwkset.UseEnc }), "only signing keys"},
		"HS256Alg":       {with(func(m *jwkset.JWKMarshal) { m.ALG = jwkset.AlgHS256 }), "only RS256 and RS512"},
		"BrokenModulus":  {with(func(m *jwkset.JWKMarshal) { m.N = "!!!" }), "invalid JWK"},
		"1024BitModulus": {jwkSet(t, publicJWK(t, small, "small", "")), "fewer than 2048"},
	} {
		_, err := auth.NewVerifier(secret, []string{issuer}, auth.WithJWKSet(tc.set))
		require.ErrorContains(t, err, tc.want, name)
	}
	_, err = auth.NewVerifier("", []string{issuer}, auth.WithJWKSet("  "))
	require.ErrorContains(t, err, "no public signing key", "a blank set adds no key")
}

func TestMintWithJWKAndGenerateDevJWK(t *testing.T) {
	t.Parallel()
	private, public, err := auth.GenerateDevJWK("dev-1")
	require.NoError(t, err)
	require.NotContains(t, string(public), `"d"`, "the public set carries no private exponent")
	v, err := auth.NewVerifier(secret, []string{issuer}, auth.WithJWKSet(string(public)))
	require.NoError(t, err)

	tok, err := auth.MintWithJWK(private, auth.TokenOptions{Username: "dana", Email: "d@example.com", LMSUserID: 9, Issuer: issuer})
	require.NoError(t, err)
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	require.NoError(t, err)
	require.Equal(t, "RS256", parsed.Header["alg"])
	require.Equal(t, "dev-1", parsed.Header["kid"])
	c, err := v.Verify(tok)
	require.NoError(t, err)
	require.Equal(t, "dana", c.Username)
	require.Equal(t, int64(9), *c.LMSUserID)

	other, _, err := auth.GenerateDevJWK("dev-1")
	require.NoError(t, err)
	forged, err := auth.MintWithJWK(other, auth.TokenOptions{Username: "dana", Issuer: issuer})
	require.NoError(t, err)
	_, err = v.Verify(forged)
	require.ErrorIs(t, err, auth.ErrInvalidToken, "another key under the same kid")

	_, err = auth.MintWithJWK(public, auth.TokenOptions{Username: "dana", Issuer: issuer})
	require.Error(t, err, "a public key cannot sign")
	_, _, err = auth.GenerateDevJWK("")
	require.Error(t, err)
}

func TestMintedTokensCarryWhatThePaymentPageReads(t *testing.T) {
	t.Parallel()
	tok, err := auth.Mint(secret, auth.TokenOptions{Username: "erin", Email: "erin@example.com", LMSUserID: 12, Issuer: issuer})
	require.NoError(t, err)
	claims := jwt.MapClaims{}
	_, _, err = jwt.NewParser().ParseUnverified(tok, claims)
	require.NoError(t, err)
	for _, k := range []string{"preferred_username", "user_id", "email", "name", "administrator", "exp", "iat", "iss"} {
		require.Contains(t, claims, k)
	}
	require.Equal(t, "erin", claims["name"], "name falls back to the username")
	require.Equal(t, false, claims["administrator"])

	tok, err = auth.Mint(secret, auth.TokenOptions{Username: "erin", FullName: "Erin E", Issuer: issuer})
	require.NoError(t, err)
	claims = jwt.MapClaims{}
	_, _, err = jwt.NewParser().ParseUnverified(tok, claims)
	require.NoError(t, err)
	require.Equal(t, "Erin E", claims["name"])
	require.Equal(t, "Erin E", claims["full_name"])
}

func TestCookiesSplitAndJoinAToken(t *testing.T) {
	t.Parallel()
	tok := sign(t, baseClaims(), secret)
	hp, sig, err := auth.SplitToken(tok)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(hp, "."))
	require.NotContains(t, sig, ".")
	require.Equal(t, tok, auth.JoinCookies(hp, sig))
	_, err = newVerifier(t).Verify(auth.JoinCookies(hp, sig))
	require.NoError(t, err)
	for _, bad := range []string{"abc", "a.b", "a.b.c.d"} {
		_, _, err := auth.SplitToken(bad)
		require.Error(t, err, bad)
	}
}

func TestDevUserIDIsStableAndPositive(t *testing.T) {
	t.Parallel()
	require.Equal(t, auth.DevUserID("alice"), auth.DevUserID("alice"))
	require.NotEqual(t, auth.DevUserID("alice"), auth.DevUserID("bob"))
	for _, name := range []string{"", "a", "alice", strings.Repeat("z", 200)} {
		id := auth.DevUserID(name)
		require.True(t, id >= 1 && id <= 1<<31-1, "%s: %d", name, id)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
