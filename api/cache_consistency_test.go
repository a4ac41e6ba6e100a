package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// priceChange is one committed change of what a seat costs, and the total calculate must
// answer once it has committed.
type priceChange struct {
	sent, committed time.Time // when its request was sent, and when it answered (committed)
	total           string
}

// calculation is one calculate answer seen by a reader.
type calculation struct {
	start, end time.Time
	total      string
	peer       bool // answered by the other API process (its own caches, kept in step by LISTEN)
}

// TestCalculateIsNeverStaleAfterAChangeCommits changes a seat's price and a site offer on it
// (created, changed, suspended, reopened) while 8 readers call calculate without pause, on this
// API and on a second API over its own store (another process's caches). A calculation started
// after a change answered must show that change (or a later one already sent): on this API
// always; on the other once PostgreSQL's notification has arrived, measured and bounded at 1 s.
func TestCalculateIsNeverStaleAfterAChangeCommits(t *testing.T) {
	t.Parallel()
	k := newPromoKit(t)
	c := k.course(t, "CacheLoad", "50.00")
	tok := k.token(dbtest.Unique("cache-reader-"), false)

	peerStore := dbtest.Store(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go peerStore.ListenForChanges(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	peer := k.withStore(peerStore)
	require.Eventually(t, func() bool { return calculate(peer, tok, c.sku) == "50.00" }, 5*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // the listener is connected

	var (
		mu           sync.Mutex
		calculations []calculation
	)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for i := range 8 {
		readers.Go(func() {
			handler := k.handler
			if i%2 == 1 {
				handler = peer
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				total := calculate(handler, tok, c.sku)
				mu.Lock()
				calculations = append(calculations, calculation{start: start, end: time.Now(), total: total, peer: i%2 == 1})
				mu.Unlock()
			}
		})
	}

	changes := []priceChange{{total: "50.00"}}
	change := func(method, path string, body any, status int, total string) {
		t.Helper()
		sent := time.Now()
		requireStatus(t, k.do(method, path, k.staff, body), status)
		changes = append(changes, priceChange{sent: sent, committed: time.Now(), total: total})
		time.Sleep(30 * time.Millisecond)
	}
	offer := promoOfferBody(dbtest.Unique("Cache load "), c.product)
	var offerPath string
	for round, price := range []string{"60.00", "45.00", "80.00", "20.00", "100.00"} {
		p := decimal.RequireFromString(price)
		change("PUT", "/api/v2/stockrecords/"+c.sku+"/", map[string]any{"price": price}, http.StatusOK, price)
		if round == 0 {
			id, _ := k.createOffer(t, offer)
			offerPath = fmt.Sprintf("/api/v2/offers/%d/", id)
			changes = append(changes, priceChange{committed: time.Now(), total: p.Mul(decimal.RequireFromString("0.9")).StringFixed(2)})
			changes[len(changes)-1].sent = changes[len(changes)-2].committed
			time.Sleep(30 * time.Millisecond)
		} else {
			change("PUT", offerPath, withChanges(offer, map[string]any{"status": "Open", "benefit_value": "10"}), http.StatusOK,
				p.Mul(decimal.RequireFromString("0.9")).StringFixed(2))
		}
		change("PUT", offerPath, withChanges(offer, map[string]any{"benefit_value": "20"}), http.StatusOK, p.Mul(decimal.RequireFromString("0.8")).StringFixed(2))
		change("PUT", offerPath, withChanges(offer, map[string]any{"benefit_value": "20", "status": "Suspended"}), http.StatusOK, price)
	}
	time.Sleep(1500 * time.Millisecond) // the peer's last notifications
	close(stop)
	readers.Wait()

	var stale, peerStale int
	var peerLag time.Duration
	for _, calc := range calculations {
		if allowed(changes, calc) {
			continue
		}
		latest := latestCommitted(changes, calc.start)
		if !calc.peer {
			stale++
			t.Errorf("stale on this API: started %s after the change to %s answered, got %s",
				calc.start.Sub(latest.committed), latest.total, calc.total)
			continue
		}
		peerStale++
		peerLag = max(peerLag, calc.start.Sub(latest.committed))
	}
	t.Logf("%d calculations over %d changes; the peer API answered %d stale, at most %s after the change committed",
		len(calculations), len(changes)-1, peerStale, peerLag)
	require.Greater(t, len(calculations), 10*len(changes), "the readers kept calculating throughout")
	require.Zero(t, stale)
	require.Less(t, peerLag, time.Second, "the other process's caches follow within a second")
}

// allowed reports whether a calculation's total is one it may answer: that of the latest change
// committed before it started, or of a change sent before it ended.
func allowed(changes []priceChange, calc calculation) bool {
	latest := latestCommitted(changes, calc.start)
	if calc.total == latest.total {
		return true
	}
	for _, ch := range changes {
		if ch.sent.After(latest.sent) && ch.sent.Before(calc.end) && ch.total == calc.total {
			return true
		}
	}
	return false
}

// latestCommitted is the last change that had answered when a calculation started.
func latestCommitted(changes []priceChange, start time.Time) priceChange {
	latest := changes[0]
	for _, ch := range changes[1:] {
		if !ch.committed.After(start) {
			latest = ch
		}
	}
	return latest
}

// calculate answers calculate's total for one SKU, or the status when it is not 200.
func calculate(handler http.Handler, tok, sku string) string {
	req := httptest.NewRequest("GET", "/api/v2/baskets/calculate/?sku="+sku, nil)
	req.Header.Set("Authorization", "JWT "+tok)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	var body struct {
		Total string `json:"total_incl_tax"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		return fmt.Sprintf("status %d", rec.Code)
	}
	return body.Total
}
