package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Metrics records the API's requests and serves the metrics page (GET /metrics);
// *metrics.Registry implements it.
type Metrics interface {
	// ObserveHTTPRequest records one request by method, route template ("" when no route
	// matched), answered status and duration.
	ObserveHTTPRequest(method, route string, status int, d time.Duration)
	// Handler serves the metrics in the Prometheus text format.
	Handler() http.Handler
}

// ReadyTimeout bounds each dependency check of GET /ready/.
const ReadyTimeout = 2 * time.Second

// Statuses of GET /health/ and GET /ready/.
const (
	statusOK            = "OK"
	statusUnavailable   = "UNAVAILABLE"
	statusNotConfigured = "NOT_CONFIGURED"
)

// measureRequests records each request's latency by method, route template (Gin's FullPath,
// never the raw path, so ids do not multiply the series) and status in m; nil m records nothing.
// It runs first, so a panic answered 500 by recoverJSON is recorded as such.
func measureRequests(m Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		if m == nil {
			c.Next()
			return
		}
		start := time.Now()
		c.Next()
		m.ObserveHTTPRequest(c.Request.Method, c.FullPath(), c.Writer.Status(), time.Since(start))
	}
}

// metricsPage serves m's metrics, or 404 when the API has none.
func metricsPage(m Metrics) gin.HandlerFunc {
	if m == nil {
		return func(c *gin.Context) { detail(c, http.StatusNotFound, "Not found.") }
	}
	h := m.Handler()
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}

// ready answers GET /ready/: 200 when PostgreSQL and Temporal (temporalHealth) both answer
// within ReadyTimeout, else 503 naming which does not. A nil temporalHealth is not checked
// (NOT_CONFIGURED) and does not make the API unready. Causes are logged, never answered.
func (s *Server) ready(temporalHealth func(context.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		var dbErr, temporalErr error
		var wg sync.WaitGroup
		wg.Go(func() { dbErr = withTimeout(ctx, s.store.Ping) })
		if temporalHealth != nil {
			wg.Go(func() { temporalErr = withTimeout(ctx, temporalHealth) })
		}
		wg.Wait()
		database, temporal := checkStatus(dbErr), checkStatus(temporalErr)
		if temporalHealth == nil {
			temporal = statusNotConfigured
		}
		status, overall := http.StatusOK, statusOK
		if dbErr != nil || temporalErr != nil {
			status, overall = http.StatusServiceUnavailable, statusUnavailable
			s.log.WarnContext(ctx, "not ready", "database_err", dbErr, "temporal_err", temporalErr)
		}
		c.JSON(status, gin.H{"overall_status": overall,
			"detailed_status": gin.H{"database_status": database, "temporal_status": temporal}})
	}
}

// withTimeout runs check with ReadyTimeout.
func withTimeout(ctx context.Context, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	return check(ctx)
}

// checkStatus is OK for nil and UNAVAILABLE for an error.
func checkStatus(err error) string {
	if err != nil {
		return statusUnavailable
	}
	return statusOK
}
