// Package metricstest scrapes a Prometheus page in tests and reads its series.
package metricstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape GETs path from h, requires a 200 in the Prometheus text format and parses it.
func Scrape(t testing.TB, h http.Handler, path string) Families {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return parse(t, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
}

// ScrapeURL GETs url over the network, requires a 200 in the Prometheus text format and parses
// it.
func ScrapeURL(t testing.TB, url string) Families {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	return parse(t, resp.StatusCode, resp.Header.Get("Content-Type"), string(body))
}

func parse(t testing.TB, status int, contentType, body string) Families {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("scrape answered %d: %s", status, body)
	}
	if !strings.HasPrefix(contentType, "text/plain") || !strings.Contains(contentType, "version=0.0.4") {
		t.Fatalf("scrape Content-Type = %q, want the Prometheus text format", contentType)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("scrape is not the Prometheus text format: %v\n%s", err, body)
	}
	return families
}

// Value returns the sum, over the series of name whose labels include every pair of labels, of
// their value: a counter's or gauge's value, a histogram's sample count. ok is false when no
// series matches.
func (f Families) Value(name string, labels map[string]string) (sum float64, ok bool) {
	for _, m := range f.matching(name, labels) {
		ok = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum, ok
}

// Histogram returns the sample count and sum of the one histogram series of name whose labels
// include labels; ok is false unless exactly one matches.
func (f Families) Histogram(name string, labels map[string]string) (count uint64, sum float64, ok bool) {
	ms := f.matching(name, labels)
	if len(ms) != 1 || ms[0].Histogram == nil {
		return 0, 0, false
	}
	return ms[0].Histogram.GetSampleCount(), ms[0].Histogram.GetSampleSum(), true
}

// Series returns the label sets of every series of name.
func (f Families) Series(name string) []map[string]string {
	var out []map[string]string
	for _, m := range f.matching(name, nil) {
		out = append(out, labelsOf(m))
	}
	return out
}

func (f Families) matching(name string, labels map[string]string) []*dto.Metric {
	fam, found := f[name]
	if !found {
		return nil
	}
	var out []*dto.Metric
	for _, m := range fam.GetMetric() {
		have := labelsOf(m)
		match := true
		for k, v := range labels {
			if got, ok := have[k]; !ok || got != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, m)
		}
	}
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
