package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// FuzzDecodeJSON gives decodeJSON arbitrary bodies, strict or not, decoded into a JSON value and
// into request types of the API (a basket, an offer with raw JSON fields, a checkout with a
// json.Number): it never panics; it refuses with an EInvalid error (a 400, never a 500) whatever
// it refuses; it refuses every body that is not valid UTF-8, and every body it accepts is one
// JSON value with no NUL character in any string, key or value. The seeds
// (testdata/fuzz/FuzzDecodeJSON) are request bodies of those types, NUL escapes, invalid UTF-8,
// wrong types, unknown fields, trailing data and truncated JSON.
func FuzzDecodeJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, strict bool) {
		for _, dst := range []any{new(any), new(basketCreateRequest), new(offerRequest), new(checkoutRequest)} {
			err := decodeBody(body, dst, strict)
			if err != nil {
				if !errors.Is(err, errPayloadTooLarge) && commerce.ErrorCodeOf(err) != commerce.EInvalid {
					t.Fatalf("decodeJSON(%q) into %T: %v is not a 400", body, dst, err)
				}
				continue
			}
			if !utf8.Valid(body) {
				t.Fatalf("decodeJSON accepted a body that is not valid UTF-8: %q", body)
			}
			if !json.Valid(body) {
				t.Fatalf("decodeJSON accepted %q into %T, which is not one JSON value", body, dst)
			}
			decoded, err := json.Marshal(dst)
			if err != nil {
				t.Fatalf("re-encode %T: %v", dst, err)
			}
			var v any
			if err := json.Unmarshal(decoded, &v); err != nil {
				t.Fatalf("decode %s: %v", decoded, err)
			}
			if s, found := stringWithNUL(v); found {
				t.Fatalf("decodeJSON accepted %q into %T holding the string %q", body, dst, s)
			}
		}
	})
}

// decodeBody runs decodeJSON on a POST of body, its size bounded as limitBody bounds it.
func decodeBody(body []byte, dst any, strict bool) error {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	c.Request.Body = http.MaxBytesReader(rec, c.Request.Body, MaxBodyBytes)
	return decodeJSON(c, dst, strict)
}

// stringWithNUL returns the first string of a decoded JSON value, key or value, that holds a
// NUL character.
func stringWithNUL(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, strings.IndexByte(x, 0) >= 0
	case []any:
		for _, item := range x {
			if s, found := stringWithNUL(item); found {
				return s, true
			}
		}
	case map[string]any:
		for k, item := range x {
			if strings.IndexByte(k, 0) >= 0 {
				return k, true
			}
			if s, found := stringWithNUL(item); found {
				return s, true
			}
		}
	}
	return "", false
}
