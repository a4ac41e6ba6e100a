package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// MaxBodyBytes is the largest request body accepted; more is answered 413.
const MaxBodyBytes = 1 << 20

// decodeJSON reads the body into dst. Malformed JSON, wrong types, trailing data, invalid UTF-8
// and strings holding a NUL character are EInvalid errors naming the field; a body over
// MaxBodyBytes is errPayloadTooLarge. With strict set, unknown fields are rejected too.
func decodeJSON(c *gin.Context, dst any, strict bool) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errPayloadTooLarge
		}
		return commerce.Errorf(commerce.EInvalid, "Could not read the request body.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return commerce.Errorf(commerce.EInvalid, "The request body is empty; a JSON object is expected.")
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	// Token, not More: More reports no more data before a stray "]" or "}".
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return commerce.Errorf(commerce.EInvalid, "JSON parse error: unexpected data after the object.")
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return commerce.Errorf(commerce.EInvalid, "JSON parse error at byte %d: %s.", syntax.Offset, syntax.Error())
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return commerce.Errorf(commerce.EInvalid, "Expected a JSON %s, got %s.", jsonKind(typeErr.Type.String()), typeErr.Value)
		}
		return commerce.FieldError(field, "Expected %s, got %s.", jsonKind(typeErr.Type.String()), typeErr.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return commerce.Errorf(commerce.EInvalid, "JSON parse error: the body ends too early.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return commerce.FieldError(name, "Unknown field.")
	}
	return commerce.Errorf(commerce.EInvalid, "JSON parse error: %s.", err.Error())
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map"), strings.Contains(goType, "."):
		return "an object"
	case goType == "string", goType == "*string":
		return "a string"
	case goType == "bool", goType == "*bool":
		return "a boolean"
	case strings.Contains(goType, "int"):
		return "an integer"
	}
	return fmt.Sprintf("a %s", goType)
}

// rawText returns the text of a JSON string or number, and whether a value was present.
func rawText(raw json.RawMessage) (string, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", true, err
		}
		return s, true, nil
	}
	if (raw[0] >= '0' && raw[0] <= '9') || raw[0] == '-' {
		return string(raw), true, nil
	}
	return "", true, errors.New("expected a string or a number")
}
