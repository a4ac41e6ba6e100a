package api

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

const (
	defaultPageSize = 20
	maxPageSize     = 1000
	// maxOffset bounds how many items a page may skip (the store's offsets are int4).
	maxOffset = math.MaxInt32
)

// pageResponse is the paginated list shape {count, next, previous, results}.
type pageResponse[T any] struct {
	Count    int64   `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// pageRequest is a parsed ?page=&page_size= pair.
type pageRequest struct {
	number int
	size   int
}

func (p pageRequest) page() commerce.Page {
	return commerce.Page{Limit: p.size, Offset: (p.number - 1) * p.size}
}

// parsePage reads ?page= (from 1) and ?page_size= (from 1 to maxPageSize); a page that would skip
// more than maxOffset items is refused, for any int, before anything is multiplied.
func parsePage(c *gin.Context) (pageRequest, error) {
	p := pageRequest{number: 1, size: defaultPageSize}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, commerce.FieldError("page", "Invalid page %q.", v)
		}
		p.number = n
	}
	if v := c.Query("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return p, commerce.FieldError("page_size", "page_size must be an integer from 1 to %d.", maxPageSize)
		}
		p.size = n
	}
	if p.number-1 > maxOffset/p.size { // (number-1)*size > maxOffset, without overflowing
		return p, commerce.FieldError("page", "Invalid page %d: at most %d items can be skipped.", p.number, maxOffset)
	}
	return p, nil
}

// respondPage answers a paginated list: it reads ?page= and ?page_size=, fetches that page and
// converts each item for the wire. fetch's errors are answered through the error table.
func respondPage[T, R any](s *Server, c *gin.Context, fetch func(commerce.Page) ([]T, int64, error), convert func(T) R) {
	p, err := parsePage(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, total, err := fetch(p.page())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]R, len(items))
	for i, item := range items {
		out[i] = convert(item)
	}
	c.JSON(http.StatusOK, newPage(c, p, total, out))
}

func newPage[T any](c *gin.Context, p pageRequest, total int64, results []T) pageResponse[T] {
	out := pageResponse[T]{Count: total, Results: results}
	if int64(p.number*p.size) < total {
		out.Next = pageURL(c, p.number+1)
	}
	if p.number > 1 {
		out.Previous = pageURL(c, p.number-1)
	}
	return out
}

func pageURL(c *gin.Context, n int) *string {
	u := url.URL{Scheme: scheme(c), Host: c.Request.Host, Path: c.Request.URL.Path}
	q := c.Request.URL.Query()
	q.Set("page", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	s := u.String()
	return &s
}

func scheme(c *gin.Context) string {
	if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
		return "https"
	}
	return "http"
}

func absoluteURL(c *gin.Context, format string, args ...any) string {
	return fmt.Sprintf("%s://%s", scheme(c), c.Request.Host) + fmt.Sprintf(format, args...)
}
