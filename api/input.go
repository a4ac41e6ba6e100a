package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// Strings are checked at the edge. PostgreSQL refuses a NUL character or invalid UTF-8 in text
// (SQLSTATE 22021) and \u0000 in jsonb (22P05); such a string reaching the store was a 500.
// checkURLText refuses it in the path and the query of every request, decodeJSON in every JSON
// body, and auth in the token's claims, so it is a 4xx that changes nothing. Processor callbacks'
// form bodies are recorded whatever they hold (see readCallbackForm).

// checkURLText answers 400 when the (unescaped) path or a query parameter, name or value, holds
// a NUL character or invalid UTF-8. It runs before authentication and routing touch the store.
func (s *Server) checkURLText(c *gin.Context) {
	if p := commerce.TextProblem(c.Request.URL.Path); p != "" {
		s.fail(c, commerce.Errorf(commerce.EInvalid, "The path %s.", p))
		return
	}
	if name, p := queryProblem(c.Request.URL.RawQuery); p != "" {
		s.fail(c, commerce.FieldError(name, "The query parameter %s.", p))
		return
	}
	c.Next()
}

// queryProblem returns the first query parameter (in name order) whose name or values cannot be
// stored as text, and what is wrong with it. Malformed pairs, which the handlers never see, are
// left alone.
func queryProblem(rawQuery string) (name, problem string) {
	if rawQuery == "" {
		return "", ""
	}
	q, _ := url.ParseQuery(rawQuery)
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if p := commerce.TextProblem(k); p != "" {
			return printable(k), "name " + p
		}
		for _, v := range q[k] {
			if p := commerce.TextProblem(v); p != "" {
				return k, p
			}
		}
	}
	return "", ""
}

// printable replaces what cannot be shown or stored (NUL, invalid UTF-8) with U+FFFD.
func printable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// checkJSONText refuses a JSON body that is not valid UTF-8 or holds a string (a value or a key)
// with a NUL character (\u0000), naming the field. Malformed JSON is left to the decoder.
func checkJSONText(body []byte) error {
	if !utf8.Valid(body) {
		return commerce.Errorf(commerce.EInvalid, "The request body is not valid UTF-8 (at byte %d).", invalidUTF8At(body))
	}
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	if field, found := nulField(v, ""); found {
		return commerce.FieldError(field, "The value contains a NUL character (\\u0000).")
	}
	return nil
}

// invalidUTF8At is the offset of the first byte of b that is not valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// nulField returns the path (as the API names fields: "products[0].sku") of the first string
// in v, key or value, that holds a NUL character. Keys are visited in sorted order.
func nulField(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		return path, strings.IndexByte(x, 0) >= 0
	case []any:
		for i, item := range x {
			if field, found := nulField(item, fmt.Sprintf("%s[%d]", path, i)); found {
				return field, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			field := joinField(path, printable(k))
			if strings.IndexByte(k, 0) >= 0 {
				return field, true
			}
			if field, found := nulField(x[k], field); found {
				return field, true
			}
		}
	}
	return "", false
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
