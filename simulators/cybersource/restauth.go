package cybersource

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"
)

// MaxClockSkew is how far the signed date of a REST request may be from the simulator's clock.
const MaxClockSkew = 5 * time.Minute

// RESTKey is a REST API key the simulator accepts: a merchant id, and the id and shared secret
// (base64, as the Business Center shows it) of one of its keys.
type RESTKey struct {
	MerchantID   string
	KeyID        string
	SharedSecret string
}

// authenticate checks the HTTP Signature of a REST request, written independently of the
// merchant package so that each checks the other:
//
//   - Signature: keyid="…", algorithm="HmacSHA256", headers="…", signature="…", with a keyid
//     configured for the v-c-merchant-id header;
//   - headers lists host, date (or v-c-date), (request-target), digest and v-c-merchant-id;
//   - Digest is SHA-256=<base64 SHA-256 of the body>;
//   - the signed date is within MaxClockSkew of the simulator's clock;
//   - signature is base64(HMAC-SHA256(base64-decoded secret, signing string)), where the
//     signing string has one "name: value" line per listed header, in the listed order,
//     joined by "\n"; (request-target) is "<lower-case method> <path and query>".
//
// It returns the key, or why the request is not authentic.
func (s *Simulator) authenticate(r *http.Request, body []byte) (RESTKey, string) {
	params, ok := parseSignatureHeader(r.Header.Get("Signature"))
	if !ok {
		return RESTKey{}, "no or malformed Signature header"
	}
	key, ok := s.restKey(r.Header.Get("v-c-merchant-id"), params["keyid"])
	if !ok {
		return RESTKey{}, "unknown merchant id or key id"
	}
	if params["algorithm"] != "HmacSHA256" {
		return RESTKey{}, "algorithm is not HmacSHA256"
	}
	names := strings.Fields(strings.ToLower(params["headers"]))
	dateHeader := "date"
	if slices.Contains(names, "v-c-date") {
		dateHeader = "v-c-date"
	}
	for _, must := range []string{"host", dateHeader, "(request-target)", "digest", "v-c-merchant-id"} {
		if !slices.Contains(names, must) {
			return RESTKey{}, "the signature does not cover " + must
		}
	}
	sum := sha256.Sum256(body)
	if r.Header.Get("Digest") != "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]) {
		return RESTKey{}, "Digest does not match the body"
	}
	date, err := http.ParseTime(r.Header.Get(dateHeader))
	if err != nil {
		return RESTKey{}, "no valid " + dateHeader + " header"
	}
	if skew := s.now().Sub(date); skew > MaxClockSkew || skew < -MaxClockSkew {
		return RESTKey{}, "the signed date is too far from now"
	}
	lines := make([]string, len(names))
	for i, name := range names {
		var value string
		switch name {
		case "(request-target)":
			value = strings.ToLower(r.Method) + " " + r.URL.RequestURI()
		case "host":
			value = r.Host
		default:
			value = r.Header.Get(name)
		}
		if value == "" {
			return RESTKey{}, "signed header " + name + " is missing"
		}
		lines[i] = name + ": " + value
	}
	secret, err := base64.StdEncoding.DecodeString(key.SharedSecret)
	if err != nil {
		return RESTKey{}, "the configured shared secret is not base64"
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strings.Join(lines, "\n")))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(params["signature"])) {
		return RESTKey{}, "signature mismatch"
	}
	return key, ""
}

// parseSignatureHeader splits a Signature header into its parameters (names in lower case):
// comma-separated name="value" pairs. Each of keyid, algorithm, headers and signature must
// appear once.
func parseSignatureHeader(v string) (map[string]string, bool) {
	params := map[string]string{}
	for _, part := range strings.Split(v, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
			return nil, false
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if _, dup := params[name]; dup {
			return nil, false
		}
		params[name] = value[1 : len(value)-1]
	}
	for _, name := range []string{"keyid", "algorithm", "headers", "signature"} {
		if params[name] == "" {
			return nil, false
		}
	}
	return params, true
}

// restKey returns the configured key with this merchant id and key id.
func (s *Simulator) restKey(merchantID, keyID string) (RESTKey, bool) {
	for _, k := range s.cfg.RESTKeys {
		if k.MerchantID != "" && k.KeyID != "" && k.MerchantID == merchantID && k.KeyID == keyID {
			return k, true
		}
	}
	return RESTKey{}, false
}
