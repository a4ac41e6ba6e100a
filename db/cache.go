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
// site offers indexed by what they apply to, products by SKU and recently seen users. Writes
// through this store invalidate it at once; writes elsewhere reach it through LISTEN
// commerce_cache (triggers on the catalog and offer tables), and cacheTTL bounds the rest.
type cache struct {
	version   atomic.Int64
	listening atomic.Bool
	mu        sync.Mutex // held while the offer snapshot reloads
	offers    atomic.Pointer[offerSnapshot]

	productsMu sync.RWMutex
	products   map[string]productEntry

	usersMu sync.RWMutex
	users   map[string]userEntry

	vouchersMu sync.RWMutex
	vouchers   map[string]voucherEntry

	usesMu sync.RWMutex
	uses   map[[2]int64]usesEntry
}

type usesEntry struct {
	uses commerce.VoucherUses
	at   time.Time
}

// usesTTL is how long calculate may reuse a voucher's usage (checkout reads it under a lock).
const usesTTL = 2 * time.Second

type voucherEntry struct {
	voucher  commerce.Voucher
	version  int64
	loadedAt time.Time
}

type productEntry struct {
	product  commerce.Product
	version  int64
	loadedAt time.Time
}

type userEntry struct {
	claims  string
	user    commerce.User
	expires time.Time
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

func newCache() *cache {
	return &cache{products: map[string]productEntry{}, users: map[string]userEntry{}, vouchers: map[string]voucherEntry{}, uses: map[[2]int64]usesEntry{}}
}

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
	// One reload at a time; meanwhile others use the previous snapshot. Nobody waits for the
	// lock: a caller inside a transaction must never wait for a connection held elsewhere.
	if !s.cache.mu.TryLock() {
		if current != nil {
			return current, nil
		}
	} else {
		defer s.cache.mu.Unlock()
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
	s.cache.offers.Store(snap)
	return snap, nil
}

// CachedProductsBySKU is ProductsBySKU served from the cache when it is fresh.
func (s *Store) CachedProductsBySKU(ctx context.Context, skus []string) (map[string]commerce.Product, error) {
	out := make(map[string]commerce.Product, len(skus))
	var missing []string
	version := s.cache.version.Load()
	s.cache.productsMu.RLock()
	for _, sku := range skus {
		if e, ok := s.cache.products[sku]; ok && s.cache.fresh(e.version, e.loadedAt) {
			out[sku] = e.product
		} else {
			missing = append(missing, sku)
		}
	}
	s.cache.productsMu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	found, err := s.ProductsBySKU(ctx, missing)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	s.cache.productsMu.Lock()
	if len(s.cache.products) > 100000 {
		s.cache.products = map[string]productEntry{}
	}
	for sku, p := range found {
		s.cache.products[sku] = productEntry{product: p, version: version, loadedAt: now}
		out[sku] = p
	}
	s.cache.productsMu.Unlock()
	return out, nil
}

// CachedVoucherByCode is VoucherByCode served from the cache when it is fresh. Its usage
// counters may be stale; limits are checked from redemptions, not from them.
func (s *Store) CachedVoucherByCode(ctx context.Context, code string) (commerce.Voucher, error) {
	key := strings.ToUpper(strings.TrimSpace(code))
	version := s.cache.version.Load()
	s.cache.vouchersMu.RLock()
	e, ok := s.cache.vouchers[key]
	s.cache.vouchersMu.RUnlock()
	if ok && s.cache.fresh(e.version, e.loadedAt) {
		return e.voucher, nil
	}
	v, err := s.VoucherByCode(ctx, key)
	if err != nil {
		return v, err
	}
	s.cache.vouchersMu.Lock()
	if len(s.cache.vouchers) > 100000 {
		s.cache.vouchers = map[string]voucherEntry{}
	}
	s.cache.vouchers[key] = voucherEntry{voucher: v, version: version, loadedAt: time.Now()}
	s.cache.vouchersMu.Unlock()
	return v, nil
}

// CachedVoucherUses is VoucherUses (with no basket left out) reused for up to usesTTL, for
// estimates such as calculate; checkout reads usage under a lock instead.
func (s *Store) CachedVoucherUses(ctx context.Context, voucherID, userID int64) (commerce.VoucherUses, error) {
	key := [2]int64{voucherID, userID}
	s.cache.usesMu.RLock()
	e, ok := s.cache.uses[key]
	s.cache.usesMu.RUnlock()
	if ok && time.Since(e.at) < usesTTL {
		return e.uses, nil
	}
	uses, err := s.VoucherUses(ctx, voucherID, userID, 0)
	if err != nil {
		return uses, err
	}
	s.cache.usesMu.Lock()
	if len(s.cache.uses) > 100000 {
		s.cache.uses = map[[2]int64]usesEntry{}
	}
	s.cache.uses[key] = usesEntry{uses: uses, at: time.Now()}
	s.cache.usesMu.Unlock()
	return uses, nil
}

// forgetUses drops cached voucher usage after this store reserved, consumed or released some.
func (c *cache) forgetUses() {
	c.usesMu.Lock()
	c.uses = map[[2]int64]usesEntry{}
	c.usesMu.Unlock()
}

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
