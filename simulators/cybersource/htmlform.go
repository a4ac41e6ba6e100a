package cybersource

import (
	"html"
	"regexp"
	"strings"
)

// tagPattern matches <form ...>, </form> and <input ...> tags.
var tagPattern = regexp.MustCompile(`(?is)<(/?form|input)\b([^>]*)>`)

// attrPattern matches one attribute, quoted, unquoted or bare.
var attrPattern = regexp.MustCompile(`([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)

// htmlForm is a form found in a page.
type htmlForm struct {
	id     string
	action string
	fields map[string]string
}

// ParseAutoSubmitForm returns the action and the field values of the first
// form in page, such as the reply page the simulator sends to the browser.
// It reads named <input> elements (not buttons, nor unchecked boxes) and
// decodes HTML entities; it is meant for pages this simulator writes.
func ParseAutoSubmitForm(page []byte) (action string, fields map[string]string, err error) {
	f, err := parseFirstForm(page)
	if err != nil {
		return "", nil, err
	}
	return f.action, f.fields, nil
}

// parseFirstForm parses the first form of page.
func parseFirstForm(page []byte) (htmlForm, error) {
	var f *htmlForm
	for _, m := range tagPattern.FindAllSubmatch(page, -1) {
		tag, attrs := strings.ToLower(string(m[1])), parseAttrs(string(m[2]))
		switch {
		case tag == "form" && f == nil:
			f = &htmlForm{id: attrs["id"], action: attrs["action"], fields: map[string]string{}}
		case tag == "/form" && f != nil:
			return *f, nil
		case tag == "input" && f != nil:
			addInput(f.fields, attrs)
		}
	}
	if f == nil {
		return htmlForm{}, ErrNoForm
	}
	return *f, nil
}

// addInput adds the value of an <input> that a browser would submit.
func addInput(fields map[string]string, attrs map[string]string) {
	name := attrs["name"]
	if name == "" {
		return
	}
	switch strings.ToLower(attrs["type"]) {
	case "submit", "button", "reset", "image", "file":
		return
	case "checkbox", "radio":
		if _, checked := attrs["checked"]; !checked {
			return
		}
	}
	if _, dup := fields[name]; !dup {
		fields[name] = attrs["value"]
	}
}

// parseAttrs parses the attributes of a tag, decoding entities in values.
func parseAttrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrPattern.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if _, dup := out[name]; dup {
			continue
		}
		out[name] = html.UnescapeString(m[2] + m[3] + m[4])
	}
	return out
}
