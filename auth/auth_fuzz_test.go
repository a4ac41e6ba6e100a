package auth

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/MicahParks/jwkset"
	"github.com/coursecommerce/commerce/commerce"
)

// The fuzz targets below check Verify against an oracle that verifies signatures with the
// crypto primitives themselves, not the JWT library: a token Verify accepts is signed, with the
// algorithm its header names, by the shared secret or by the JWK set's key its kid names, and
// carries valid claims. The verifier's clock is fixed (fuzzNow) so that the seeds in
// testdata/fuzz/<name>/ stay valid.

// fuzzNow is the verifier's clock: the seeds' tokens are issued at 2026-03-01T12:00:00Z and
// expire an hour later.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const fuzzSecret = "fuzz-secret"

var fuzzIssuers = []string{"http://lms.test/oauth2", "ecommerce_worker"}

// fuzzKeys are the RSA keys of the fuzz targets: "fuzz-a" (any RS alg) and "fuzz-b" (RS512
// only) are in the verifier's JWK set, "fuzz-unknown" is not. They are made once per process.
var fuzzKeys = sync.OnceValue(func() map[string]*rsa.PrivateKey {
	keys := map[string]*rsa.PrivateKey{}
	for _, kid := range []string{"fuzz-a", "fuzz-b", "fuzz-unknown"} {
		k, err := rsa.GenerateKey(rand.Reader, MinRSABits)
		if err != nil {
			panic(err)
		}
		keys[kid] = k
	}
	return keys
})

// fuzzVerifier accepts HS256 tokens signed with fuzzSecret and RS256/RS512 tokens signed by
// fuzz-a or (RS512 only) fuzz-b, issued by fuzzIssuers, at fuzzNow.
func fuzzVerifier(t testing.TB) *Verifier {
	t.Helper()
	keys := fuzzKeys()
	var set jwkset.JWKSMarshal
	for kid, alg := range map[string]jwkset.ALG{"fuzz-a": "", "fuzz-b": jwkset.AlgRS512} {
		jwk, err := jwkset.NewJWKFromKey(&keys[kid].PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg}})
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(fuzzSecret, fuzzIssuers, WithJWKSet(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return fuzzNow }
	return v
}

// FuzzVerifyToken gives Verify arbitrary tokens: it never panics, and a token it accepts passes
// checkAcceptedToken.
func FuzzVerifyToken(f *testing.F) {
	v := fuzzVerifier(f)
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := v.Verify(token)
		if err != nil {
			if claims != (commerce.UserClaims{}) {
				t.Fatalf("Verify returned claims %+v with the error %v", claims, err)
			}
			return
		}
		checkAcceptedToken(t, token, claims)
	})
}

// fuzzSigners sign a token's "header.payload" for FuzzVerifySignedClaims; the ones named in
// fuzzGenuine hold a key the verifier trusts for that algorithm.
var fuzzSigners = []struct {
	alg, kid string
	sign     func(input []byte) []byte
}{
	{"HS256", "", func(in []byte) []byte { return hmacSHA256([]byte(fuzzSecret), in) }},
	{"HS256", "", func(in []byte) []byte { return hmacSHA256([]byte("another-secret"), in) }},
	{"RS256", "fuzz-a", func(in []byte) []byte { return rsaSign("fuzz-a", crypto.SHA256, in) }},
	{"RS512", "fuzz-a", func(in []byte) []byte { return rsaSign("fuzz-a", crypto.SHA512, in) }},
	{"RS512", "fuzz-b", func(in []byte) []byte { return rsaSign("fuzz-b", crypto.SHA512, in) }},
	{"RS256", "fuzz-b", func(in []byte) []byte { return rsaSign("fuzz-b", crypto.SHA256, in) }},
	{"RS256", "fuzz-unknown", func(in []byte) []byte { return rsaSign("fuzz-unknown", crypto.SHA256, in) }},
	// The classic confusion: HS256 keyed with the RSA public key everybody may know.
	{"HS256", "fuzz-a", func(in []byte) []byte {
		der, _ := x509.MarshalPKIXPublicKey(&fuzzKeys()["fuzz-a"].PublicKey)
		return hmacSHA256(der, in)
	}},
}

// fuzzGenuine are the signers whose tokens the verifier may accept.
var fuzzGenuine = []int{0, 2, 3, 4}

// FuzzVerifySignedClaims signs an arbitrary header and payload (JSON text, base64url-encoded
// here) with one of fuzzSigners and verifies the token: a token signed with a wrong key, an
// untrusted key or another algorithm than its header names is refused, and a token accepted
// passes checkAcceptedToken.
func FuzzVerifySignedClaims(f *testing.F) {
	v := fuzzVerifier(f)
	f.Fuzz(func(t *testing.T, header, payload string, signer uint8) {
		s := fuzzSigners[int(signer)%len(fuzzSigners)]
		input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
		token := input + "." + base64.RawURLEncoding.EncodeToString(s.sign([]byte(input)))
		claims, err := v.Verify(token)
		if err != nil {
			return
		}
		if !slices.Contains(fuzzGenuine, int(signer)%len(fuzzSigners)) {
			t.Fatalf("accepted a token signed by %s with key %q", s.alg, s.kid)
		}
		var h struct {
			Alg string `json:"alg"`
		}
		if json.Unmarshal([]byte(header), &h) != nil || h.Alg != s.alg {
			t.Fatalf("accepted a token whose header %s does not name its algorithm %s", header, s.alg)
		}
		checkAcceptedToken(t, token, claims)
	})
}

// checkAcceptedToken checks what must hold of every token Verify accepted: three base64url
// segments; a signature that the crypto primitives verify under the algorithm the header names,
// with the shared secret or the JWK key its kid names (fuzz-b only for RS512); an accepted
// issuer, an iat, an exp not passed and an nbf reached (with Leeway); and user claims the users
// table can hold, returned as they were in the payload.
func checkAcceptedToken(t *testing.T, token string, claims commerce.UserClaims) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted a token of %d segments", len(parts))
	}
	var header struct {
		Alg string `json:"alg"`
		Kid any    `json:"kid"`
	}
	rawHeader := decodeSegment(t, parts[0])
	if err := json.Unmarshal(rawHeader, &header); err != nil {
		t.Fatalf("accepted a token whose header %q is not JSON: %v", rawHeader, err)
	}
	input, sig := []byte(parts[0]+"."+parts[1]), decodeSegment(t, parts[2])
	kid, _ := header.Kid.(string)
	signed := false
	switch header.Alg {
	case "HS256":
		signed = hmac.Equal(sig, hmacSHA256([]byte(fuzzSecret), input))
	case "RS256":
		signed = kid == "fuzz-a" && rsaVerify(kid, crypto.SHA256, input, sig)
	case "RS512":
		signed = (kid == "fuzz-a" || kid == "fuzz-b") && rsaVerify(kid, crypto.SHA512, input, sig)
	}
	if !signed {
		t.Fatalf("accepted a token that is not signed with the key (header %s)", rawHeader)
	}

	var payload struct {
		Iss               any `json:"iss"`
		Exp               any `json:"exp"`
		Iat               any `json:"iat"`
		Nbf               any `json:"nbf"`
		PreferredUsername any `json:"preferred_username"`
		Username          any `json:"username"`
	}
	rawPayload := decodeSegment(t, parts[1])
	dec := json.NewDecoder(bytes.NewReader(rawPayload))
	dec.UseNumber()
	if err := dec.Decode(&payload); err != nil {
		t.Fatalf("accepted a token whose payload %q is not a JSON object: %v", rawPayload, err)
	}
	if iss, _ := payload.Iss.(string); !slices.Contains(fuzzIssuers, iss) {
		t.Fatalf("accepted the issuer %v", payload.Iss)
	}
	leeway := Leeway.Seconds()
	now := float64(fuzzNow.Unix())
	if exp, ok := numericDate(payload.Exp); !ok || now >= exp+leeway {
		t.Fatalf("accepted exp %v at %v", payload.Exp, now)
	}
	if iat, ok := numericDate(payload.Iat); !ok || iat > now+leeway {
		t.Fatalf("accepted iat %v at %v", payload.Iat, now)
	}
	if payload.Nbf != nil {
		if nbf, ok := numericDate(payload.Nbf); !ok || nbf > now+leeway {
			t.Fatalf("accepted nbf %v at %v", payload.Nbf, now)
		}
	}
	username, _ := payload.PreferredUsername.(string)
	if username == "" {
		username, _ = payload.Username.(string)
	}
	if claims.Username != username || username == "" {
		t.Fatalf("accepted username %q from preferred_username %v, username %v", claims.Username, payload.PreferredUsername, payload.Username)
	}
	for _, c := range []struct {
		name  string
		value *string
		max   int
	}{{"username", &claims.Username, MaxUsernameLength}, {"email", claims.Email, MaxEmailLength}, {"full_name", claims.FullName, MaxFullNameLength}} {
		if c.value != nil && (!utf8.ValidString(*c.value) || strings.IndexByte(*c.value, 0) >= 0 || utf8.RuneCountInString(*c.value) > c.max) {
			t.Fatalf("accepted the %s claim %q", c.name, *c.value)
		}
	}
}

// decodeSegment decodes a segment of an accepted token.
func decodeSegment(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("accepted a token whose segment %q is not base64url: %v", s, err)
	}
	return b
}

// numericDate reads a date claim (seconds since the epoch): a JSON number or, as the JWT
// library also reads it (into a json.Number), a string holding one.
func numericDate(v any) (float64, bool) {
	var n json.Number
	switch x := v.(type) {
	case json.Number:
		n = x
	case string:
		if err := json.Unmarshal([]byte(x), &n); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func hmacSHA256(key, input []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(input)
	return mac.Sum(nil)
}

func digest(h crypto.Hash, input []byte) []byte {
	if h == crypto.SHA512 {
		sum := sha512.Sum512(input)
		return sum[:]
	}
	sum := sha256.Sum256(input)
	return sum[:]
}

func rsaSign(kid string, h crypto.Hash, input []byte) []byte {
	sig, err := rsa.SignPKCS1v15(nil, fuzzKeys()[kid], h, digest(h, input))
	if err != nil {
		panic(err)
	}
	return sig
}

func rsaVerify(kid string, h crypto.Hash, input, sig []byte) bool {
	return rsa.VerifyPKCS1v15(&fuzzKeys()[kid].PublicKey, h, digest(h, input), sig) == nil
}
