package openapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// schemaCache validates JSON values against the schemas of the document, each compiled once by
// the JSON Schema 2020-12 validator kin-openapi uses (santhosh-tekuri/jsonschema), with the
// whole document as the resource, so that a schema's $ref to #/components/schemas/... resolves
// in the document itself.
type schemaCache struct {
	doc map[string]any // the document as JSON values, for resolve
	mu  sync.Mutex
	// compiler compiles schemas of resourceURL on demand; compiled holds them by JSON pointer.
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
	// byRef holds the compiled schemas of parameters and headers.
	byRef map[*openapi3.SchemaRef]*jsonschema.Schema
}

const resourceURL = "file:///openapi.json"

func newSchemaCache(path string) (*schemaCache, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tree any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	asJSON, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("%s as JSON: %w", path, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(asJSON))
	if err != nil {
		return nil, err
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", path)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(resourceURL, doc); err != nil {
		return nil, err
	}
	return &schemaCache{doc: root, compiler: c, compiled: map[string]*jsonschema.Schema{},
		byRef: map[*openapi3.SchemaRef]*jsonschema.Schema{}}, nil
}

// escapeToken escapes one token of a JSON pointer.
func escapeToken(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// resolve follows the $ref of the object at ptr (a response or request body, which may be a
// reference to components), and returns the pointer of the object itself.
func (c *schemaCache) resolve(ptr string) string {
	for range 10 {
		node, ok := c.lookup(ptr).(map[string]any)
		if !ok {
			return ptr
		}
		ref, ok := node["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/") {
			return ptr
		}
		ptr = strings.TrimPrefix(ref, "#")
	}
	return ptr
}

// lookup is the value at ptr in the document, or nil.
func (c *schemaCache) lookup(ptr string) any {
	var node any = c.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")]
	}
	return node
}

// schema compiles the schema at ptr once.
func (c *schemaCache) schema(ptr string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.compiled[ptr]; ok {
		return s, nil
	}
	var frag strings.Builder
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		frag.WriteString("/" + url.PathEscape(tok))
	}
	s, err := c.compiler.Compile(resourceURL + "#" + frag.String())
	if err != nil {
		return nil, fmt.Errorf("compile the schema at %s: %w", ptr, err)
	}
	c.compiled[ptr] = s
	return s, nil
}

// validateJSON checks that body is JSON matching the schema at ptr.
func (c *schemaCache) validateJSON(ptr string, body []byte) error {
	s, err := c.schema(ptr)
	if err != nil {
		return err
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("the body is not JSON: %w", err)
	}
	if err := s.Validate(value); err != nil {
		return fmt.Errorf("the body does not match #%s: %w", ptr, err)
	}
	return nil
}

// validateValue checks value against schema, a schema of the document's loaded form (a
// parameter's or header's), compiled once.
func (c *schemaCache) validateValue(schema *openapi3.SchemaRef, value any) error {
	c.mu.Lock()
	s, ok := c.byRef[schema]
	c.mu.Unlock()
	if !ok {
		var err error
		if s, err = c.compileRef(schema); err != nil {
			return err
		}
	}
	return s.Validate(value)
}

// compileRef compiles a schema of the loaded document: a $ref to the document's components by
// its pointer, an inline schema (parameters' and headers' are small and have no $ref) on its own.
func (c *schemaCache) compileRef(schema *openapi3.SchemaRef) (*jsonschema.Schema, error) {
	var s *jsonschema.Schema
	var err error
	if strings.HasPrefix(schema.Ref, "#/") {
		s, err = c.schema(strings.TrimPrefix(schema.Ref, "#"))
	} else {
		s, err = compileStandalone(schema.Value)
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byRef[schema] = s
	return s, nil
}

func compileStandalone(schema *openapi3.Schema) (*jsonschema.Schema, error) {
	raw, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("file:///schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("file:///schema.json")
}
