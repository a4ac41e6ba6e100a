package db

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
)

// cacheTTL bounds how stale a cached read may be when no listener hears about changes made by
// other processes; listenedCacheTTL is the safety net while one does.
const (
	cacheTTL         = 5 * time.Second
	listenedCacheTTL = 10 * time.Minute
)

// userCacheTTL is how long an authenticated user's row is trusted without asking the database.
const userCacheTTL = time.Minute

// cache holds what the hot read paths (calculate, basket pricing, authentication) need: open
// site offers indexed by what they apply to, products by SKU, voucher definitions by code,
// recently seen users, and (for two seconds) vouchers' usage for calculate. Writes
// through this store invalidate it at once; writes elsewhere reach it through LISTEN
// commerce_cache (triggers on the catalog and offer tables), and cacheTTL bounds the rest.
type cache struct {
	version   atomic.Int64
	listening atomic.Bool
	mu        sync.Mutex // held while the offer snapshot reloads
	offers    atomic.Pointer[offerSnapshot]

	products entries[string, commerce.Product]
	users    entries[string, commerce.User]
	vouchers entries[string, commerce.Voucher]
	uses     entries[[2]int64, commerce.VoucherUses]
}

// usesTTL is how long calculate may reuse a voucher's usage (checkout reads it under a lock).
const usesTTL = 2 * time.Second

// maxEntries bounds each keyed cache; a full one starts again empty.
const maxEntries = 100000

// entry is a cached value with the cache version and time it was loaded at, and a tag that
// must match for the value to be used (the claims a user was provisioned from).
type entry[V any] struct {
	value   V
	version int64
	at      time.Time
	tag     string
}

// entries is one keyed, bounded cache, safe for concurrent use; callers decide freshness.
type entries[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]entry[V]
}

func (e *entries[K, V]) get(k K) (entry[V], bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	v, ok := e.m[k]
	return v, ok
}

func (e *entries[K, V]) put(k K, v entry[V]) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil || len(e.m) >= maxEntries {
		e.m = map[K]entry[V]{}
	}
	e.m[k] = v
}

func (e *entries[K, V]) clear() {
	e.mu.Lock()
	e.m = nil
	e.mu.Unlock()
}

// offerSnapshot is the open site offers with an index from products and seat types to offers.
type offerSnapshot struct {
	version   int64
	loadedAt  time.Time
	offers    []commerce.Offer
	all       []int
	byProduct map[int64][]int
	bySeat    map[string][]int
}

func newCache() *cache { return &cache{} }

// invalidate makes every cached catalog and offer read stale.
func (c *cache) invalidate() { c.version.Add(1) }

func (c *cache) fresh(version int64, loadedAt time.Time) bool {
	ttl := cacheTTL
	if c.listening.Load() {
		ttl = listenedCacheTTL
	}
	return version == c.version.Load() && time.Since(loadedAt) < ttl
}

// candidates returns the cached open site offers that may apply to the lines.
func (snap *offerSnapshot) candidates(lines []commerce.PriceLine) []commerce.Offer {
	seen := map[int]bool{}
	var idx []int
	add := func(list []int) {
		for _, i := range list {
			if !seen[i] {
				seen[i] = true
				idx = append(idx, i)
			}
		}
	}
	add(snap.all)
	for _, l := range lines {
		add(snap.byProduct[l.ProductID])
		if l.Class == commerce.ClassSeat && l.CertificateType != "" {
			add(snap.bySeat[l.CertificateType])
		}
	}
	sort.Ints(idx)
	out := make([]commerce.Offer, len(idx))
	for i, j := range idx {
		out[i] = snap.offers[j]
	}
	return out
}

// siteOfferSnapshot returns the cached open site offers, reloading them through db when stale
// (inside a transaction, db is the transaction: it must not wait for another connection).
func (s *Store) siteOfferSnapshot(ctx context.Context, db dbgen.DBTX) (*offerSnapshot, error) {
	current := s.cache.offers.Load()
	if current != nil && s.cache.fresh(current.version, current.loadedAt) {
		return current, nil
	}
	// One reload at a time is kept. Nobody waits for the lock (a caller inside a transaction
	// must never wait for a connection held elsewhere), and nobody uses a stale snapshot: that
	// would price with offers a committed change has already replaced. A caller that finds a
	// reload under way loads its own snapshot, unless the reload has just finished.
	locked := s.cache.mu.TryLock()
	if locked {
		defer s.cache.mu.Unlock()
	} else if current = s.cache.offers.Load(); current != nil && s.cache.fresh(current.version, current.loadedAt) {
		return current, nil
	}
	version := s.cache.version.Load()
	offers, err := s.offersWithRanges(ctx, db, nil)
	if err != nil {
		return nil, err
	}
	snap := &offerSnapshot{version: version, loadedAt: time.Now(), offers: offers, byProduct: map[int64][]int{}, bySeat: map[string][]int{}}
	for i, o := range offers {
		if o.Range.IncludesAllProducts {
			snap.all = append(snap.all, i)
		}
		for _, id := range o.Range.ProductIDs {
			snap.byProduct[id] = append(snap.byProduct[id], i)
		}
		for _, t := range o.Range.SeatTypes {
			snap.bySeat[t] = append(snap.bySeat[t], i)
		}
	}
	if locked {
		s.cache.offers.Store(snap)
	}
	return snap, nil
}

// CachedProductsBySKU is ProductsBySKU served from the cache when it is fresh.
func (s *Store) CachedProductsBySKU(ctx context.Context, skus []string) (map[string]commerce.Product, error) {
	out := make(map[string]commerce.Product, len(skus))
	var missing []string
	version := s.cache.version.Load()
	for _, sku := range skus {
		if e, ok := s.cache.products.get(sku); ok && s.cache.fresh(e.version, e.at) {
			out[sku] = e.value
		} else {
			missing = append(missing, sku)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	found, err := s.ProductsBySKU(ctx, missing)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for sku, p := range found {
		s.cache.products.put(sku, entry[commerce.Product]{value: p, version: version, at: now})
		out[sku] = p
	}
	return out, nil
}

// CachedVoucherByCode is VoucherByCode served from the cache when it is fresh. Its usage
// counters may be stale; limits are checked from redemptions, not from them.
func (s *Store) CachedVoucherByCode(ctx context.Context, code string) (commerce.Voucher, error) {
	key := strings.ToUpper(strings.TrimSpace(code))
	version := s.cache.version.Load()
	if e, ok := s.cache.vouchers.get(key); ok && s.cache.fresh(e.version, e.at) {
		return e.value, nil
	}
	v, err := s.VoucherByCode(ctx, key)
	if err != nil {
		return v, err
	}
	s.cache.vouchers.put(key, entry[commerce.Voucher]{value: v, version: version, at: time.Now()})
	return v, nil
}

// CachedVoucherUses is VoucherUses (with no basket left out) reused for up to usesTTL, for
// estimates such as calculate; checkout reads usage under a lock instead.
func (s *Store) CachedVoucherUses(ctx context.Context, voucherID, userID int64) (commerce.VoucherUses, error) {
	key := [2]int64{voucherID, userID}
	if e, ok := s.cache.uses.get(key); ok && time.Since(e.at) < usesTTL {
		return e.value, nil
	}
	uses, err := s.VoucherUses(ctx, voucherID, userID, 0)
	if err != nil {
		return uses, err
	}
	s.cache.uses.put(key, entry[commerce.VoucherUses]{value: uses, at: time.Now()})
	return uses, nil
}

// forgetUses drops cached voucher usage after this store reserved, consumed or released some.
func (c *cache) forgetUses() { c.uses.clear() }

func claimsKey(c commerce.UserClaims) string {
	str := func(p *string) string {
		if p == nil {
			return "\x00"
		}
		return *p
	}
	k := str(c.Email) + "\x01" + str(c.FullName) + "\x01"
	if c.IsStaff != nil {
		k += fmt.Sprint(*c.IsStaff)
	}
	k += "\x01"
	if c.LMSUserID != nil {
		k += fmt.Sprint(*c.LMSUserID)
	}
	return k
}

// ListenForChanges keeps the caches in step with changes made by other processes (LISTEN
// commerce_cache) until ctx ends, reconnecting after failures. Without it, the caches are at
// most cacheTTL stale.
func (s *Store) ListenForChanges(ctx context.Context, logger *slog.Logger) {
	for ctx.Err() == nil {
		err := s.listen(ctx)
		s.cache.invalidate()
		if ctx.Err() != nil {
			return
		}
		logger.Warn("cache listener reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect cache listener: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN commerce_cache"); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.cache.invalidate() // changes made while we were not listening
	s.cache.listening.Store(true)
	defer s.cache.listening.Store(false)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		s.cache.invalidate()
	}
}
