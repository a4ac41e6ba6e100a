package api_test

import (
	"io"
	"log/slog"
	"regexp"
	"sort"
	"testing"

	"github.com/coursecommerce/commerce/api"
	"github.com/coursecommerce/commerce/internal/openapitest"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// ginParam is a path parameter of the router: :name, or the catch-all *name.
var ginParam = regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)

// TestOpenAPIDocumentsEveryRoute compares the router's routes with docs/openapi.yaml's
// operations, both ways: every method and path Gin registers is documented (":id" is "{id}"; a
// catch-all "*name" is documented by the paths whose x-gin-route names it), and the document
// has no operation the router lacks.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	v, err := openapitest.Load()
	require.NoError(t, err)
	engine, ok := api.NewHandler(api.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).(*gin.Engine)
	require.True(t, ok, "without CORS origins NewHandler returns the Gin engine itself")

	documented := map[string]bool{}   // "METHOD /path/{param}"
	catchAll := map[string][]string{} // "METHOD /gin/*route" -> documenting paths
	for _, r := range v.Routes() {
		if r.GinRoute != "" {
			catchAll[r.Method+" "+r.GinRoute] = append(catchAll[r.Method+" "+r.GinRoute], r.Path)
			continue
		}
		documented[r.Method+" "+r.Path] = true
	}
	var missing []string
	for _, r := range engine.Routes() {
		key := r.Method + " " + r.Path
		if len(catchAll[key]) > 0 {
			delete(catchAll, key)
			continue
		}
		openAPI := r.Method + " " + ginParam.ReplaceAllString(r.Path, "{$1}")
		if !documented[openAPI] {
			missing = append(missing, key+" (as "+openAPI+")")
		}
		delete(documented, openAPI)
	}
	sort.Strings(missing)
	require.Empty(t, missing, "routes of the router that docs/openapi.yaml does not document")
	var extra []string
	for k := range documented {
		extra = append(extra, k)
	}
	for k, paths := range catchAll {
		extra = append(extra, k+" (x-gin-route of "+paths[0]+")")
	}
	sort.Strings(extra)
	require.Empty(t, extra, "operations of docs/openapi.yaml that the router does not have")
}
