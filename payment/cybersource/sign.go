package cybersource

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Field names with a special role in the signing scheme.
const (
	FieldSignedFieldNames   = "signed_field_names"
	FieldUnsignedFieldNames = "unsigned_field_names"
	FieldSignature          = "signature"
)

// Sign returns base64(HMAC-SHA256(secret, message)).
func Sign(message, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(message))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignedNames splits a signed_field_names value into field names. An empty
// value yields no names.
func SignedNames(signedFieldNames string) []string {
	if signedFieldNames == "" {
		return nil
	}
	return strings.Split(signedFieldNames, ",")
}

// SignedMessage builds the message covered by the signature: the fields named
// in fields["signed_field_names"], in that order, as "name=value" joined by
// commas, without any encoding. An absent field contributes an empty value.
func SignedMessage(fields map[string]string) string {
	names := SignedNames(fields[FieldSignedFieldNames])
	pairs := make([]string, len(names))
	for i, name := range names {
		pairs[i] = name + "=" + fields[name]
	}
	return strings.Join(pairs, ",")
}

// SignFields signs the fields named in fields["signed_field_names"] with
// secret and returns the base64 signature.
func SignFields(fields map[string]string, secret string) string {
	return Sign(SignedMessage(fields), secret)
}
