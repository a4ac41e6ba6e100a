// Package openapitest checks the service against its OpenAPI document, docs/openapi.yaml, for
// tests: Handler wraps the API so that every request a test sends and every answer it gets are
// validated against the document, and Routes lists the document's operations for the test that
// compares them with the router's.
//
// The document is OpenAPI 3.1. kin-openapi (v0.153.0) loads and validates it as such, and finds
// the operation of a request (its gorillamux router). Values (JSON bodies, parameters, headers)
// are checked with JSON Schema 2020-12, the dialect of OpenAPI 3.1, by the validator kin-openapi
// itself uses for 3.1 documents (santhosh-tekuri/jsonschema), each schema compiled once; other
// bodies (HTML, CSV, forms, metrics) by openapi3filter's decoders.
package openapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Path is where the document lives, found from this file so that any package's tests can load
// it whatever their working directory.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "openapi.yaml")
}

// maxBodyBytes bounds how much of a request or response body is kept for validation; a body
// over it is validated by its status and headers only.
const maxBodyBytes = 4 << 20

// Validator validates request and response pairs against the document.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	// bodies checks values (bodies, parameters, headers) with schemas compiled once.
	// openapi3filter's ValidateRequest and ValidateResponse would do the same checks, but they
	// compile a JSON Schema 2020-12 validator for every value they check in a 3.1 document
	// (kin-openapi v0.153.0), which made the API tests 3.5 times slower.
	bodies *schemaCache
}

var (
	loadOnce sync.Once
	loaded   *Validator
	loadErr  error
)

func init() {
	// Pages are HTML; their bodies are documented as strings.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

// Load reads, checks and compiles the document once per test binary.
func Load() (*Validator, error) {
	loadOnce.Do(func() { loaded, loadErr = load(Path()) })
	return loaded, loadErr
}

func load(path string) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("%s: openapi %q, expected 3.1", path, doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	bodies, err := newSchemaCache(path)
	if err != nil {
		return nil, err
	}
	return &Validator{doc: doc, router: router, bodies: bodies}, nil
}

// Document is the loaded document.
func (v *Validator) Document() *openapi3.T { return v.doc }

// Route is one method and path of the document. GinRoute is the router's path it documents
// when that is a catch-all (the path item's x-gin-route), else empty.
type Route struct {
	Method, Path, GinRoute string
}

// Routes lists the document's operations, sorted by path and method.
func (v *Validator) Routes() []Route {
	var out []Route
	for path, item := range v.doc.Paths.Map() {
		gin, _ := item.Extensions["x-gin-route"].(string)
		for method := range item.Operations() {
			out = append(out, Route{Method: method, Path: path, GinRoute: gin})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Exchange is one request and the answer it got.
type Exchange struct {
	Request *http.Request
	// RequestBody is the body the handler read (all of it, unless it stopped early).
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
	// Truncated is set when a body was longer than what was kept.
	Truncated bool
}

// Validate checks an exchange against the document:
//   - a documented route: the request must match the operation unless the answer is an error
//     (a test may send a malformed request on purpose; accepting one the document says is
//     malformed is a mismatch), and the answer's status, headers and body must be documented;
//   - a CORS preflight: 204 with an empty body, or 403 {"detail"} (answered before routing);
//   - no documented route: see validateUnrouted.
func (v *Validator) Validate(x Exchange) error {
	r := x.Request
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		// Answered before routing when CORS is configured; without it, routed like any request.
		switch x.Status {
		case http.StatusNoContent:
			if len(x.Body) > 0 {
				return fmt.Errorf("CORS preflight: 204 with a body %q", x.Body)
			}
			return nil
		case http.StatusForbidden:
			return v.validateComponent(x, "Detail")
		}
	}
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return v.validateUnrouted(x, err)
	}

	if x.Status < 400 && !x.Truncated {
		reqErr := v.validateParameters(route, params, r)
		if reqErr == nil {
			reqErr = v.validateRequestBody(route, x)
		}
		if reqErr != nil {
			return fmt.Errorf("the request does not match %s %s, yet the service answered %d: %w", route.Method, route.Path, x.Status, reqErr)
		}
	}
	if err := v.validateResponse(route, x); err != nil {
		return fmt.Errorf("%s %s answered %d: %w", route.Method, route.Path, x.Status, err)
	}
	return nil
}

// validateParameters checks the request's path, query, header and cookie parameters: the
// required ones are there, and each one there matches its schema.
func (v *Validator) validateParameters(route *routers.Route, pathParams map[string]string, r *http.Request) error {
	params := map[string]*openapi3.Parameter{}
	for _, list := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range list {
			if p != nil && p.Value != nil {
				params[p.Value.In+" "+p.Value.Name] = p.Value // the operation's win
			}
		}
	}
	query := r.URL.Query()
	for _, p := range params {
		var values []string
		switch p.In {
		case openapi3.ParameterInPath:
			if value, ok := pathParams[p.Name]; ok {
				values = []string{value}
			}
		case openapi3.ParameterInQuery:
			values = query[p.Name]
		case openapi3.ParameterInHeader:
			values = r.Header.Values(p.Name)
		case openapi3.ParameterInCookie:
			if c, err := r.Cookie(p.Name); err == nil {
				values = []string{c.Value}
			}
		}
		if err := v.validateValues(fmt.Sprintf("%s parameter %q", p.In, p.Name), p.Required, p.Schema, values); err != nil {
			return err
		}
	}
	return nil
}

// validateValues checks the values of a parameter or header (several for an array schema, else
// the first) against its schema; required ones must be there.
func (v *Validator) validateValues(what string, required bool, schema *openapi3.SchemaRef, values []string) error {
	if len(values) == 0 {
		if required {
			return fmt.Errorf("%s is required", what)
		}
		return nil
	}
	if schema == nil {
		return nil
	}
	var value any = values[0]
	if schema.Value != nil && schema.Value.Type.Is(openapi3.TypeArray) {
		list := make([]any, len(values))
		for i, s := range values {
			list[i] = s
		}
		value = list
	}
	if err := v.bodies.validateValue(schema, value); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// validateResponse checks that the answer's status is documented for the operation, and its
// headers and body with it.
func (v *Validator) validateResponse(route *routers.Route, x Exchange) error {
	responses := route.Operation.Responses
	ref, key := responses.Status(x.Status), strconv.Itoa(x.Status)
	if ref == nil {
		ref, key = responses.Default(), "default"
	}
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("status %d is not documented", x.Status)
	}
	for name, h := range ref.Value.Headers {
		if h == nil || h.Value == nil || strings.EqualFold(name, "Content-Type") {
			continue
		}
		if err := v.validateValues(fmt.Sprintf("header %q", name), h.Value.Required, h.Value.Schema, x.Header.Values(name)); err != nil {
			return err
		}
	}
	if len(ref.Value.Content) == 0 || x.Truncated {
		return nil
	}
	ptr := v.bodies.resolve(operationPointer(route) + "/responses/" + key)
	return v.validateContent(ptr, ref.Value.Content, x.Header.Get("Content-Type"), x.Body)
}

// validateRequestBody checks a request's body against the operation's requestBody.
func (v *Validator) validateRequestBody(route *routers.Route, x Exchange) error {
	body := route.Operation.RequestBody
	if body == nil || body.Value == nil {
		return nil
	}
	if len(x.RequestBody) == 0 {
		if body.Value.Required {
			return errors.New("the request body is required")
		}
		return nil
	}
	ptr := v.bodies.resolve(operationPointer(route) + "/requestBody")
	return v.validateContent(ptr, body.Value.Content, x.Request.Header.Get("Content-Type"), x.RequestBody)
}

// validateContent checks body, of the media type contentType, against its schema in content,
// the content of the request body or response at ptr in the document.
func (v *Validator) validateContent(ptr string, content openapi3.Content, contentType string, body []byte) error {
	media := content.Get(contentType)
	if media == nil {
		return fmt.Errorf("Content-Type %q is not documented", contentType)
	}
	if media.Schema == nil {
		return nil
	}
	var key string
	for k, m := range content {
		if m == media {
			key = k
		}
	}
	if parsed, _, err := mime.ParseMediaType(contentType); err == nil && parsed == "application/json" {
		return v.bodies.validateJSON(ptr+"/content/"+escapeToken(key)+"/schema", body)
	}
	// Pages, CSV, metrics and forms: openapi3filter's decoders turn them into the values their
	// (few and small) schemas describe.
	in := &openapi3filter.RequestValidationInput{
		Request: &http.Request{Method: http.MethodPost, Header: http.Header{"Content-Type": {contentType}},
			Body: io.NopCloser(bytes.NewReader(body))},
		Options: &openapi3filter.Options{SkipSettingDefaults: true},
	}
	return openapi3filter.ValidateRequestBody(context.Background(), in, &openapi3.RequestBody{Required: true, Content: openapi3.Content{key: media}})
}

// operationPointer is the JSON pointer of route's operation in the document.
func operationPointer(route *routers.Route) string {
	return "/paths/" + escapeToken(route.Path) + "/" + strings.ToLower(route.Method)
}

// validateUnrouted checks the answer to a request that no operation documents: what the
// middleware answers before routing on any path (400 for the path's or query's text, 401 for a
// bad credential, 413 for a body too large, 429 for a throttled learner, 503 when the user
// cannot be provisioned), 404 for an unknown path, 405 for another method of
// a documented path, or the router's redirect to the same path with or without its trailing
// slash.
func (v *Validator) validateUnrouted(x Exchange, routeErr error) error {
	switch x.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return v.validateComponent(x, "Detail")
	case http.StatusServiceUnavailable:
		return v.validateComponent(x, "Error")
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect:
		return v.validateSlashRedirect(x)
	}
	if errors.Is(routeErr, routers.ErrMethodNotAllowed) {
		if x.Status != http.StatusMethodNotAllowed {
			return fmt.Errorf("%s is not documented for this path, yet answered %d (not 405)", x.Request.Method, x.Status)
		}
		return v.validateComponent(x, "Detail")
	}
	if x.Status != http.StatusNotFound {
		return fmt.Errorf("undocumented route answered %d: %w", x.Status, routeErr)
	}
	return v.validateComponent(x, "Detail")
}

// validateComponent checks that the answer is JSON matching the named schema of components.
func (v *Validator) validateComponent(x Exchange, name string) error {
	if ct := x.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("answered %d with Content-Type %q, not JSON %s", x.Status, ct, name)
	}
	if err := v.bodies.validateJSON("/components/schemas/"+escapeToken(name), x.Body); err != nil {
		return fmt.Errorf("answered %d with a body that is not a %s: %w", x.Status, name, err)
	}
	return nil
}

// validateSlashRedirect checks a redirect to the request's path with or without its trailing
// slash, to a documented operation.
func (v *Validator) validateSlashRedirect(x Exchange) error {
	loc := x.Header.Get("Location")
	p := x.Request.URL.Path
	want := p + "/"
	if strings.HasSuffix(p, "/") {
		want = strings.TrimSuffix(p, "/")
	}
	target, err := x.Request.URL.Parse(loc)
	if err != nil || target.Path != want {
		return fmt.Errorf("undocumented route answered %d to %q: not its trailing-slash redirect", x.Status, loc)
	}
	probe := x.Request.Clone(context.Background())
	probe.URL = target
	if _, _, err := v.router.FindRoute(probe); err != nil {
		return fmt.Errorf("redirected (%d) to %s, which is not documented: %w", x.Status, target.Path, err)
	}
	return nil
}

// Handler wraps next so that every exchange is validated with Validate; a mismatch fails t.
// Benchmarks (t a *testing.B) get next itself: they measure the service, not the validator.
func Handler(t testing.TB, next http.Handler) http.Handler {
	t.Helper()
	if _, ok := t.(*testing.B); ok {
		return next
	}
	v, err := Load()
	if err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reqBody limitedBuffer
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = teeBody{Reader: io.TeeReader(r.Body, &reqBody), Closer: r.Body}
		}
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		x := Exchange{Request: r, RequestBody: reqBody.buf.Bytes(), Status: rec.status, Header: rec.header,
			Body: rec.body.buf.Bytes(), Truncated: reqBody.truncated || rec.body.truncated}
		if x.Status == 0 {
			x.Status = http.StatusOK
		}
		if x.Header == nil {
			x.Header = w.Header().Clone()
		}
		v.noteExercised(r)
		if err := v.Validate(x); err != nil {
			t.Errorf("OpenAPI (docs/openapi.yaml): %s %s: %.3000s\nresponse body: %.2000s", r.Method, r.URL.RequestURI(), err, x.Body)
		}
	})
}

// limitedBuffer keeps the first maxBodyBytes written to it.
type limitedBuffer struct {
	buf       bytes.Buffer
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxBodyBytes - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		b.truncated = true
		return len(p), nil
	}
	return b.buf.Write(p)
}

type teeBody struct {
	io.Reader
	io.Closer
}

// recorder passes the answer through and keeps its status, headers and body.
type recorder struct {
	http.ResponseWriter
	status int
	header http.Header
	body   limitedBuffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
		r.header = r.ResponseWriter.Header().Clone()
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	_, _ = r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Flush passes a flush on (Gin's writer calls it unconditionally).
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ExercisedEnv names a file to which Handler appends the operation ("METHOD /path") of every
// exchange, to see which operations of the document the tests exercise:
//
//	OPENAPITEST_EXERCISED=/tmp/ops go test ./api/ ./e2e/ && sort -u /tmp/ops
const ExercisedEnv = "OPENAPITEST_EXERCISED"

var exercisedMu sync.Mutex

func (v *Validator) noteExercised(r *http.Request) {
	file := os.Getenv(ExercisedEnv)
	if file == "" {
		return
	}
	route, _, err := v.router.FindRoute(r)
	if err != nil {
		return
	}
	exercisedMu.Lock()
	defer exercisedMu.Unlock()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", route.Method, route.Path)
}
