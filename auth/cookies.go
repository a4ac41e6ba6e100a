package auth

import (
	"errors"
	"hash/fnv"
	"strings"
)

// The LMS splits a JWT across two cookies on the shared host name so that pages can read the
// claims but not the signature: the header-payload cookie ("header.payload", readable by
// JavaScript) and the signature cookie (HttpOnly). Joined with a dot they are the token.
const (
	HeaderPayloadCookie = "edx-jwt-cookie-header-payload"
	SignatureCookie     = "edx-jwt-cookie-signature"
)

// SplitToken splits a JWT into the values of HeaderPayloadCookie and SignatureCookie.
func SplitToken(token string) (headerPayload, signature string, err error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 || strings.Count(token, ".") != 2 {
		return "", "", errors.New("auth: a JWT has three dot-separated parts")
	}
	return token[:i], token[i+1:], nil
}

// JoinCookies returns the JWT whose parts the two cookies hold. The result is verified like a
// header token; a pair that does not make a token fails verification.
func JoinCookies(headerPayload, signature string) string {
	return headerPayload + "." + signature
}

// DevUserID is the LMS user id (user_id claim) development tokens give username when none is
// chosen: a stable number from 1 to 2^31-1 derived from the name, so the same development user
// always carries the same id.
func DevUserID(username string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(username))
	return int64(h.Sum32()%(1<<31-1)) + 1
}
