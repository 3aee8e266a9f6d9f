// Package cache keeps the store's most read rows in memory: services,
// entities and verified factors, and on SQLite challenges (challenge.go)
// and each service's webhooks (webhook.go) and rate limit buckets
// (ratelimit.go).
// Every API request under a service looks up the service, the entity and
// usually a factor before it does its work; on SQLite those three reads were
// about a third of the CPU time of a TOTP check, each one a read
// transaction with its own file locks.
//
// The cache is safe because of what it leaves to the database. Every state
// change stays a compare-and-swap, or an insert that checks its parent, in
// the store, so a stale entry can make a request fail (a deleted factor's
// code is checked, then its write finds no row and answers 20404), never
// let a replay or a second approval through. Only verified factors are
// cached: a factor never goes back to unverified, so a cached status is
// never wrong in the direction that refuses.
//
// Writes made through this process invalidate at once; a reader that read
// the old row while the write committed cannot put it back (see gen). Writes
// made by other processes (other nodes sharing a PostgreSQL database) are
// seen when the entry expires, after ttl.
package cache

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifyd/verify"
)

// Entry lifetimes. With a database only this process writes (SQLite),
// invalidation is exact and the lifetime only lets unused rows go. With a
// shared database it bounds how long another node's rename, config change
// or deletion goes unseen here.
const (
	ExclusiveTTL = 5 * time.Minute
	SharedTTL    = time.Second
)

// Bounds of the tables in entries at DefaultBytes (budget.go; in
// proportion for another budget). A factor or entity entry takes well
// under a kilobyte and a challenge about one (with its details), so the
// rows a busy server reads again within seconds fit. The bytes are bounded
// too, whatever the rows hold.
const (
	MaxEntries    = 32768 // services, entities and factors, each
	MaxChallenges = 8192
)

// Store is a verify.Store that answers FindService, FindEntity, FindFactor,
// FindFactorByCredential and (on SQLite) FindChallenge from memory when it
// can. Everything else goes
// to the wrapped store; the writes that change a cached row also drop it.
type Store struct {
	writer // the store, with the writes that drop cached rows
}

// New wraps inner with a cache of DefaultBytes. shared says whether other
// processes may write the same database; now is the clock entries expire
// by.
func New(inner verify.Store, shared bool, now func() time.Time) *Store {
	return NewSized(inner, shared, DefaultBytes, now)
}

// NewSized is New with a budget of bytes (clamped to MinBytes through
// MaxBytes), split among the tables as shares says.
func NewSized(inner verify.Store, shared bool, bytes int64, now func() time.Time) *Store {
	ttl := ExclusiveTTL
	if shared {
		ttl = SharedTTL
	}
	c := newTables(ttl, min(max(bytes, MinBytes), MaxBytes), now)
	if !shared {
		c.challenges = make(map[verify.Sid]entry[verify.Challenge])
		c.webhooks = make(map[verify.Sid]entry[[]*verify.Webhook])
		c.rates = make(map[verify.Sid]entry[[]verify.NamedBucket])
	}
	return &Store{writer{Store: inner, c: c}}
}

// tables holds the entries. One mutex guards them: lookups are a map read
// under a read lock, far cheaper than the database reads they save.
type tables struct {
	mu       sync.RWMutex
	ttl      time.Duration
	now      func() time.Time
	services map[serviceKey]entry[verify.Service]
	entities map[entityKey]entry[verify.Entity]
	factors  map[verify.Sid]entry[verify.Factor]
	byCred   map[verify.Sid]verify.Sid // credential SID → factor SID
	// challenges and webhooks (a service's list) are nil when the
	// database is shared: see challenge.go and webhook.go.
	challenges map[verify.Sid]entry[verify.Challenge]
	webhooks   map[verify.Sid]entry[[]*verify.Webhook]
	// rates are each service's rate limit buckets (ratelimit.go), nil
	// when the database is shared.
	rates map[verify.Sid]entry[[]verify.NamedBucket]
	// The budgets of the tables (budget.go).
	bServices, bEntities, bFactors, bChallenges, bWebhooks, bRates budget
	// hits and misses count lookups (Stats).
	hits, misses atomic.Uint64
}

type serviceKey struct{ account, sid verify.Sid }

type entityKey struct {
	service  verify.Sid
	identity string
}

type entry[T any] struct {
	v       *T
	expires time.Time
	size    int64 // approxSize of v
}

// newTables makes tables of bytes in all, split by shares; the factors
// get what the division leaves over, so that the budgets add up to bytes.
func newTables(ttl time.Duration, bytes int64, now func() time.Time) *tables {
	services, entities := share(bytes, shares.services, MaxEntries), share(bytes, shares.entities, MaxEntries)
	challenges := share(bytes, shares.challenges, MaxChallenges)
	webhooks, rates := share(bytes, shares.webhooks, MaxEntries), share(bytes, shares.rates, MaxEntries)
	factors := share(bytes, shares.factors, MaxEntries)
	factors.bytes = bytes - services.bytes - entities.bytes - challenges.bytes - webhooks.bytes - rates.bytes
	return &tables{ttl: ttl, now: now,
		bServices: services, bEntities: entities, bFactors: factors, bChallenges: challenges, bWebhooks: webhooks, bRates: rates,
		services: make(map[serviceKey]entry[verify.Service]),
		entities: make(map[entityKey]entry[verify.Entity]),
		factors:  make(map[verify.Sid]entry[verify.Factor]),
		byCred:   make(map[verify.Sid]verify.Sid),
	}
}

// generation returns the invalidation count of the table b bounds, which a
// reader notes before it reads.
func (t *tables) generation(b *budget) uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return b.gen
}

// get returns a live entry's value from m.
func get[K comparable, T any](t *tables, m map[K]entry[T], k K) (*T, bool) {
	t.mu.RLock()
	e, ok := m[k]
	t.mu.RUnlock()
	if !ok || !t.now().Before(e.expires) {
		t.misses.Add(1)
		return nil, false
	}
	t.hits.Add(1)
	return e.v, true
}

// Stats returns how many lookups the cache answered from memory, and how
// many it sent to the store, since it was made: the hit rate a metric
// shows.
func (s *Store) Stats() (hits, misses uint64) { return s.c.hits.Load(), s.c.misses.Load() }

// budgets are the tables' budgets, for what is done to all of them.
func (t *tables) budgets() []*budget {
	return []*budget{&t.bServices, &t.bEntities, &t.bFactors, &t.bChallenges, &t.bWebhooks, &t.bRates}
}

// Sizes returns the bytes the cache holds now and its budget, both by
// approxSize, summed over the tables.
func (s *Store) Sizes() (used, total int64) {
	t := s.c
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, b := range t.budgets() {
		used += b.used
		total += b.bytes
	}
	return used, total
}

// put stores v under k unless an invalidation happened since gen, or v is
// too large for its table's budget. While the table is at its bound in
// entries or bytes an arbitrary entry makes room: Go's map order is random
// enough for a cache whose hit rate matters only for rows used again soon.
func put[K comparable, T any](t *tables, m map[K]entry[T], b *budget, k K, v *T, gen uint64) {
	size := approxSize(v)
	if !b.fits(size) {
		return
	}
	expires := t.now().Add(t.ttl)
	t.mu.Lock()
	defer t.mu.Unlock()
	if b.gen != gen {
		return
	}
	drop(m, b, k)
	for len(m) > 0 && (len(m) >= b.entries || b.used+size > b.bytes) {
		for old := range m {
			drop(m, b, old)
			break
		}
	}
	m[k] = entry[T]{v: v, expires: expires, size: size}
	b.used += size
}

// deleteFactor forgets one factor and its credential; t.mu is held.
func (t *tables) deleteFactor(sid verify.Sid) {
	if e, ok := t.factors[sid]; ok && e.v.Push != nil {
		delete(t.byCred, e.v.Push.CredentialSid)
	}
	drop(t.factors, &t.bFactors, sid)
}

// dropAll forgets everything, after a deletion that cascades to rows the
// cache cannot name (a service's or an entity's factors). Such deletions
// are rare; the cache refills from the next reads.
func (t *tables) dropAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range t.budgets() {
		b.gen++
	}
	dropAllOf(t.services, &t.bServices)
	dropAllOf(t.entities, &t.bEntities)
	dropAllOf(t.factors, &t.bFactors)
	clear(t.byCred)
	dropAllOf(t.challenges, &t.bChallenges)
	dropAllOf(t.webhooks, &t.bWebhooks)
	dropAllOf(t.rates, &t.bRates)
}

// usedStep records a TOTP step the database just accepted, so that the
// next check of the cached factor starts past it. The database's
// compare-and-swap would refuse the old step anyway; this only keeps the
// cached factor from offering it.
func (t *tables) usedStep(sid verify.Sid, end int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.factors[sid]
	if !ok || e.v.Totp == nil || e.v.Totp.LastUsedEnd >= end {
		return
	}
	f := cloneFactor(e.v)
	f.Totp.LastUsedEnd = end
	t.factors[sid] = entry[verify.Factor]{v: f, expires: e.expires, size: e.size}
}

// The cached values are never handed out: callers change what they get
// (a rename, a used step), so each get and put copies.

func cloneService(s *verify.Service) *verify.Service {
	c := *s
	c.Passkeys.RelyingPartyOrigins = slices.Clone(s.Passkeys.RelyingPartyOrigins)
	return &c
}

func cloneEntity(e *verify.Entity) *verify.Entity {
	c := *e
	return &c
}

func cloneFactor(f *verify.Factor) *verify.Factor {
	c := *f
	c.Metadata = maps.Clone(f.Metadata)
	if f.Totp != nil {
		t := *f.Totp
		t.Secret = slices.Clone(f.Totp.Secret)
		c.Totp = &t
	}
	if f.Push != nil {
		p := *f.Push
		p.PublicKey = slices.Clone(f.Push.PublicKey)
		c.Push = &p
	}
	if f.Passkey != nil {
		p := *f.Passkey
		p.Config.RelyingParty.Origins = slices.Clone(p.Config.RelyingParty.Origins)
		if p.Credential != nil {
			// The domain replaces these slices rather than writing into
			// them, but a copy sharing them would let the first caller
			// that does write into one change the cached credential.
			cred := *p.Credential
			cred.ID = slices.Clone(cred.ID)
			cred.PublicKey = slices.Clone(cred.PublicKey)
			cred.AAGUID = slices.Clone(cred.AAGUID)
			cred.Transports = slices.Clone(cred.Transports)
			p.Credential = &cred
		}
		c.Passkey = &p
	}
	return &c
}

func cloneChallenge(c *verify.Challenge) *verify.Challenge {
	d := *c
	d.Details.Fields = slices.Clone(c.Details.Fields)
	if c.Details.Date != nil {
		t := *c.Details.Date
		d.Details.Date = &t
	}
	d.HiddenDetails = maps.Clone(c.HiddenDetails)
	d.Metadata = maps.Clone(c.Metadata)
	if c.DateResponded != nil {
		t := *c.DateResponded
		d.DateResponded = &t
	}
	return &d
}

// through answers a lookup of k from m when a live entry there passes
// match, and otherwise reads it from the store and remembers it. A miss of
// match falls to the store, so that a row asked for under another parent
// gets the store's own not-found.
func through[K comparable, T any](t *tables, m map[K]entry[T], b *budget, k K, clone func(*T) *T,
	match func(*T) bool, read func() (*T, error)) (*T, error) {
	if v, ok := get(t, m, k); ok && match(v) {
		return clone(v), nil
	}
	gen := t.generation(b)
	v, err := read()
	if err != nil {
		return nil, err
	}
	put(t, m, b, k, clone(v), gen)
	return v, nil
}

// always matches every entry.
func always[T any](*T) bool { return true }

// FindService answers from memory, or reads and remembers.
func (s *Store) FindService(ctx context.Context, account, sid verify.Sid) (*verify.Service, error) {
	return through(s.c, s.c.services, &s.c.bServices, serviceKey{account, sid}, cloneService, always,
		func() (*verify.Service, error) { return s.Store.FindService(ctx, account, sid) })
}

// FindEntity answers from memory, or reads and remembers.
func (s *Store) FindEntity(ctx context.Context, service verify.Sid, identity string) (*verify.Entity, error) {
	return through(s.c, s.c.entities, &s.c.bEntities, entityKey{service, identity}, cloneEntity, always,
		func() (*verify.Entity, error) { return s.Store.FindEntity(ctx, service, identity) })
}

// FindFactor answers from memory when the cached factor belongs to entity;
// otherwise the store answers, with its own not-found.
func (s *Store) FindFactor(ctx context.Context, entity, sid verify.Sid) (*verify.Factor, error) {
	if v, ok := get(s.c, s.c.factors, sid); ok && v.EntitySid == entity {
		return cloneFactor(v), nil
	}
	gen := s.c.generation(&s.c.bFactors)
	v, err := s.Store.FindFactor(ctx, entity, sid)
	if err != nil {
		return nil, err
	}
	s.c.putFactor(v, gen)
	return v, nil
}

// FindFactorByCredential answers from memory, or reads and remembers.
func (s *Store) FindFactorByCredential(ctx context.Context, credential verify.Sid) (*verify.Factor, error) {
	s.c.mu.RLock()
	sid, ok := s.c.byCred[credential]
	s.c.mu.RUnlock()
	if ok {
		if v, ok := get(s.c, s.c.factors, sid); ok {
			return cloneFactor(v), nil
		}
	}
	gen := s.c.generation(&s.c.bFactors)
	v, err := s.Store.FindFactorByCredential(ctx, credential)
	if err != nil {
		return nil, err
	}
	s.c.putFactor(v, gen)
	return v, nil
}

// putFactor remembers a verified factor, and its credential if it is a
// push factor.
func (t *tables) putFactor(f *verify.Factor, gen uint64) {
	if f.Status != verify.FactorVerified {
		return
	}
	put(t, t.factors, &t.bFactors, f.Sid, cloneFactor(f), gen)
	if f.Push != nil && f.Push.CredentialSid != "" {
		t.mu.Lock()
		if t.bFactors.gen == gen {
			if len(t.byCred) >= t.bFactors.entries { // as many credentials as factors
				clear(t.byCred) // rebuilt by the next reads
			}
			t.byCred[f.Push.CredentialSid] = f.Sid
		}
		t.mu.Unlock()
	}
}
