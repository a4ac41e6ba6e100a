package cybersource

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// HTTP Signature authentication of the REST API (CyberSource's "HTTP Signature" scheme, after
// draft-cavage-http-signatures):
//
//	Digest:    SHA-256=<base64(sha256(body))>
//	Signature: keyid="<key id>", algorithm="HmacSHA256",
//	           headers="host date (request-target) digest v-c-merchant-id", signature="<sig>"
//
// where <sig> is base64(HMAC-SHA256(base64-decoded shared secret, signing string)) and the
// signing string is one "name: value" line per name of headers, in that order, joined by "\n"
// with no trailing newline; (request-target) is the lower-case method, a space and the path
// (with its query). The Date header is an RFC 1123 GMT date (http.TimeFormat).
const (
	// SignatureAlgorithm is the algorithm named in the Signature header.
	SignatureAlgorithm = "HmacSHA256"
	// SignedHeaders lists what the signature of a request with a body covers, in order.
	SignedHeaders = "host date (request-target) digest v-c-merchant-id"
	// HeaderMerchantID carries the merchant id of a REST request.
	HeaderMerchantID = "v-c-merchant-id"
	// HeaderCorrelationID carries CyberSource's id of an answer, for support requests.
	HeaderCorrelationID = "v-c-correlation-id"
)

// restSignature is what signs one REST request.
type restSignature struct {
	host, date, method, target, digest, merchantID string
}

// bodyDigest returns the Digest header of body: "SHA-256=" and the base64 SHA-256 of body.
func bodyDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// signingString is the text the HMAC covers: the headers of SignedHeaders, in that order.
func (s restSignature) signingString() string {
	return strings.Join([]string{
		"host: " + s.host,
		"date: " + s.date,
		"(request-target): " + strings.ToLower(s.method) + " " + s.target,
		"digest: " + s.digest,
		HeaderMerchantID + ": " + s.merchantID,
	}, "\n")
}

// header returns the Signature header value for keyID, signed with secret (the shared
// secret, already base64-decoded).
func (s restSignature) header(keyID string, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(s.signingString()))
	return fmt.Sprintf(`keyid="%s", algorithm="%s", headers="%s", signature="%s"`,
		keyID, SignatureAlgorithm, SignedHeaders, base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

// decodeSharedSecret decodes a shared secret key as the Business Center shows it (base64).
func decodeSharedSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(secret))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: the shared secret is not base64", ErrNotConfigured)
	}
	return key, nil
}
