package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// MinRSABits is the smallest RSA modulus accepted in a JWK set or used to sign.
const MinRSABits = 2048

// errUnknownKey is the key lookup's refusal of a token whose kid names no key of the JWK set.
var errUnknownKey = errors.New("unknown signing key")

// publicKey is one verification key of the JWK set.
type publicKey struct {
	key *rsa.PublicKey
	// alg is the key's alg parameter; empty allows RS256 and RS512.
	alg jwkset.ALG
}

// keySet holds the JWK set's RSA public keys by kid.
type keySet map[string]publicKey

// parseJWKSet reads a JSON Web Key Set of RSA signing public keys with jwkset. It refuses what
// should never be there (private key material, symmetric or elliptic keys, encryption keys,
// short moduli) and keys it could not tell apart (a missing or repeated kid).
func parseJWKSet(raw []byte) (keySet, error) {
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("not a JSON JWK set: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New(`the set has no keys (expected {"keys": [...]})`)
	}
	keys := make(keySet, len(set.Keys))
	for i, m := range set.Keys {
		k, err := publicRSAKey(m)
		if err != nil {
			return nil, fmt.Errorf("key %d (kid %q): %w", i, m.KID, err)
		}
		if _, dup := keys[m.KID]; dup {
			return nil, fmt.Errorf("key %d: kid %q is used twice", i, m.KID)
		}
		keys[m.KID] = k
	}
	return keys, nil
}

// publicRSAKey checks one JWK of the set and returns its RSA public key.
func publicRSAKey(m jwkset.JWKMarshal) (publicKey, error) {
	switch {
	case m.KTY != jwkset.KtyRSA:
		return publicKey{}, fmt.Errorf("kty %q: only RSA keys are supported", m.KTY)
	case m.KID == "":
		return publicKey{}, errors.New("the key has no kid")
	case m.D != "" || m.P != "" || m.Q != "" || m.DP != "" || m.DQ != "" || m.QI != "" || len(m.OTH) > 0:
		return publicKey{}, errors.New("the key holds private key material: give the public key only")
	case m.USE != "" && m.USE != jwkset.UseSig:
		return publicKey{}, fmt.Errorf("use %q: only signing keys (use \"sig\") are accepted", m.USE)
	case m.ALG != "" && m.ALG != jwkset.AlgRS256 && m.ALG != jwkset.AlgRS512:
		return publicKey{}, fmt.Errorf("alg %q: only RS256 and RS512 are accepted", m.ALG)
	}
	jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return publicKey{}, fmt.Errorf("invalid JWK: %w", err)
	}
	pub, ok := jwk.Key().(*rsa.PublicKey)
	if !ok {
		return publicKey{}, fmt.Errorf("not an RSA public key (%T)", jwk.Key())
	}
	if pub.N.BitLen() < MinRSABits {
		return publicKey{}, fmt.Errorf("the RSA key has %d bits, fewer than %d", pub.N.BitLen(), MinRSABits)
	}
	return publicKey{key: pub, alg: m.ALG}, nil
}

// lookup returns the public key that must have signed the RS256/RS512 token t: the key named by
// its kid or, when t has no kid and the set holds a single key, that key. A key whose alg is set
// verifies only tokens of that alg.
func (ks keySet) lookup(t *jwt.Token) (any, error) {
	var (
		k  publicKey
		ok bool
	)
	kid, hasKid := t.Header["kid"]
	switch id, isString := kid.(string); {
	case hasKid && isString:
		k, ok = ks[id]
	case !hasKid && len(ks) == 1:
		for _, only := range ks {
			k, ok = only, true
		}
	}
	if !ok {
		return nil, errUnknownKey
	}
	if k.alg != "" && string(k.alg) != t.Method.Alg() {
		return nil, fmt.Errorf("the key is for %s, the token is %s", k.alg, t.Method.Alg())
	}
	return k.key, nil
}

// MintWithJWK signs a token with the RSA private key in privateJWK (a JSON Web Key with a kid,
// such as GenerateDevJWK's), RS512 when the key's alg says so and RS256 otherwise, its kid in the
// header. A Verifier given the matching public key (WithJWKSet) and issuer accepts it.
func MintWithJWK(privateJWK []byte, o TokenOptions) (string, error) {
	jwk, err := jwkset.NewJWKFromRawJSON(privateJWK, jwkset.JWKMarshalOptions{Private: true}, jwkset.JWKValidateOptions{})
	if err != nil {
		return "", fmt.Errorf("auth: signing JWK: %w", err)
	}
	priv, ok := jwk.Key().(*rsa.PrivateKey)
	if !ok {
		return "", fmt.Errorf("auth: signing JWK: not an RSA private key (%T)", jwk.Key())
	}
	m := jwk.Marshal()
	if m.KID == "" {
		return "", errors.New("auth: signing JWK: the key has no kid")
	}
	method := jwt.SigningMethodRS256
	switch m.ALG {
	case "", jwkset.AlgRS256:
	case jwkset.AlgRS512:
		method = jwt.SigningMethodRS512
	default:
		return "", fmt.Errorf("auth: signing JWK: alg %q: only RS256 and RS512 are supported", m.ALG)
	}
	token, err := newToken(method, o)
	if err != nil {
		return "", err
	}
	token.Header["kid"] = m.KID
	signed, err := token.SignedString(priv)
	if err != nil {
		return "", fmt.Errorf("sign token with key %q: %w", m.KID, err)
	}
	return signed, nil
}

// GenerateDevJWK creates a 2048-bit RSA key for development, kid kid and alg RS256, and returns
// it as a private JWK (for MintWithJWK) and its public half as a JWK set (for WithJWKSet, or
// JWT_PUBLIC_SIGNING_JWK_SET), both JSON.
func GenerateDevJWK(kid string) (privateJWK, publicSet []byte, err error) {
	if kid == "" {
		return nil, nil, errors.New("auth: a development JWK needs a kid")
	}
	priv, err := rsa.GenerateKey(rand.Reader, MinRSABits)
	if err != nil {
		return nil, nil, fmt.Errorf("generate RSA key: %w", err)
	}
	meta := jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.AlgRS256, USE: jwkset.UseSig}
	private, err := jwkset.NewJWKFromKey(priv, jwkset.JWKOptions{Metadata: meta, Marshal: jwkset.JWKMarshalOptions{Private: true}})
	if err != nil {
		return nil, nil, fmt.Errorf("private JWK: %w", err)
	}
	public, err := jwkset.NewJWKFromKey(&priv.PublicKey, jwkset.JWKOptions{Metadata: meta})
	if err != nil {
		return nil, nil, fmt.Errorf("public JWK: %w", err)
	}
	if privateJWK, err = json.Marshal(private.Marshal()); err != nil {
		return nil, nil, fmt.Errorf("encode private JWK: %w", err)
	}
	if publicSet, err = json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{public.Marshal()}}); err != nil {
		return nil, nil, fmt.Errorf("encode public JWK set: %w", err)
	}
	return privateJWK, publicSet, nil
}
