package lms_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
)

// captured is one request seen by a test server.
type captured struct {
	method string
	path   string
	header http.Header
	body   []byte
}

// testServer is an LMS stand-in that records requests and answers with a
// fixed status and body.
type testServer struct {
	*httptest.Server
	requests chan captured
	hits     atomic.Int32
}

// newTestServer starts a server answering every request with status and body.
func newTestServer(t *testing.T, status int, body string) *testServer {
	t.Helper()
	ts := &testServer{requests: make(chan captured, 16)}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		ts.requests <- captured{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: b}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// next returns the oldest recorded request.
func (ts *testServer) next(t *testing.T) captured {
	t.Helper()
	select {
	case c := <-ts.requests:
		return c
	default:
		t.Fatal("no request reached the server")
		return captured{}
	}
}

// requireJSONEqual fails unless got and want hold the same JSON value.
func requireJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body mismatch\n got: %s\nwant: %s", got, want)
	}
}
