package api

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/verifyd/verify"
)

// loginThrottle slows down the guessing of account tokens and API key
// secrets. Without it one client could try about 4,000 wrong tokens a
// second. It counts failed logins (Basic credentials of an account SID or
// API key SID that Verifier.Login refused) twice: per client address and
// per credential SID, each in a GCRA limiter (the token bucket written as a
// single "theoretical arrival time" per key). Once either limiter is
// spent, every login of that address or SID is answered 429 with Twilio
// code 20429 and a Retry-After header, right credentials included, until
// the bucket refills.
//
// Design choices:
//
//   - A throttled request never reaches the login cache or the store: its
//     answer does not depend on its credentials, so the 429 tells a guesser
//     nothing, and a guess made while throttled is not a guess at all.
//     Requests refused while throttled are not counted either, so the
//     Retry-After a client is told stays true.
//   - Only failures are counted. A login that the store checks (one the
//     login cache does not know) is counted before the check and given
//     back if right, so that parallel guesses cannot all pass before one
//     counts. The happy path, a login the cache knows, costs a few
//     read-locked map lookups, and a write at most once a minute per
//     (address, SID) to keep the address known (below): no store round
//     trip, no sleep. A success gives back only its own count, never
//     resets the counters, so an attacker cannot interleave its own right
//     logins to keep guessing another account.
//   - The client address is the TCP peer (r.RemoteAddr). X-Forwarded-For,
//     which any client can write, is read only from a peer in
//     Server.TrustedProxies (see clientAddr). IPv6 clients are counted per
//     /64, the block one host usually has. Behind a proxy that is not
//     trusted, every client shares the proxy's address, and with it one
//     per-address budget.
//   - Per address: 10 failures at once, then one every 2 s (at most 30 a
//     minute). A client with a wrong token configured sees its 401s turn
//     into 429s after ten tries, and one try every 2 s after that.
//   - Per SID: 100 failures at once, then 10 a second. It bounds guessing
//     from many addresses at once to 864,000 a day, nothing against a
//     32-character token (128 bits or more). It is the lock-out trade-off:
//     anyone who sustains more than 10 failures a second against a SID
//     makes that SID's right logins 429 too, from every new address. At 30
//     a minute per address that takes at least 20 addresses attacking
//     without pause; a tighter budget would make the lock-out cheap, a
//     looser one would bound distributed guessing less. SIDs are counted
//     only when well formed (AC or SK and 32 hex), so junk usernames cost
//     only their address's budget.
//   - An address that logged in with a SID in the last knownFor is exempt
//     from that SID's limit (not from its own): a backend that uses its
//     account keeps working through a distributed attack on it. What is
//     decided still depends only on the address and the SID, never on the
//     credentials of the request, so it is no oracle; and only a right
//     login adds an address, so an attacker cannot fill or flush that
//     table without the credentials.
//   - Memory is bounded: each of the three tables holds at most
//     maxThrottled keys (some 5 to 10 MB each when full). A full limiter
//     table first drops the keys whose bucket is full again (they are the
//     same as absent), then arbitrary ones down to 7/8. Every new key is a
//     failure that its address's budget allowed, so flushing the tables
//     takes many thousands of addresses.
//   - Time is the server's clock (Server.Now), so tests move it.
//   - Counts live in the memory of each node: with several nodes behind a
//     load balancer an attacker gets each node's budget, and a restart
//     forgets them. Both only scale the bounds above by the node count.
//   - Device JWTs and enrollment tokens (username "token") are neither
//     counted nor throttled: they are ES256 signatures and HMACs that
//     cannot be guessed, and phones share carrier NAT addresses, so a
//     per-address limit on them would let one phone with a bad clock (its
//     JWTs are refused until it corrects it) lock out its neighbours.
type loginThrottle struct {
	addrs limiter[netip.Addr]
	sids  limiter[string]
	known knownAddrs

	// mu orders reservations (reserve, settle): the logins being checked
	// by the store, per address and per SID, and settled, closed and
	// replaced whenever one of them ends. Only logins the login cache does
	// not know take it.
	mu       sync.Mutex
	pendAddr map[netip.Addr]int
	pendSid  map[string]int
	settled  chan struct{}
}

// initLocked makes the zero loginThrottle ready, under t.mu.
func (t *loginThrottle) initLocked() {
	if t.settled == nil {
		t.pendAddr, t.pendSid, t.settled = map[netip.Addr]int{}, map[string]int{}, make(chan struct{})
	}
}

// limit is a GCRA rate: burst failures at once from a clean slate, then one
// more per every.
type limit struct {
	burst int
	every time.Duration
}

var (
	addrLimit = limit{burst: 10, every: 2 * time.Second}
	sidLimit  = limit{burst: 100, every: 100 * time.Millisecond}
)

// maxThrottled bounds each table of loginThrottle.
const maxThrottled = 1 << 16

// check returns a 20429 error, with the time to wait, if logins from addr
// or for user are throttled; nil otherwise. When the budget is spent by
// logins still being checked (reserve), it waits for them, as reserve
// does: they may be right, and give back what they counted.
func (t *loginThrottle) check(ctx context.Context, addr netip.Addr, user string, now func() time.Time) error {
	if t.wait(addr, user, now()) <= 0 {
		return nil // the usual case: read-locked lookups only
	}
	return t.untilSettled(ctx, addr, user, func() error {
		if wait := t.wait(addr, user, now()); wait > 0 {
			return tooMany(wait)
		}
		return nil
	})
}

// wait is how long until a failure of addr for user would be admitted.
func (t *loginThrottle) wait(addr netip.Addr, user string, now time.Time) time.Duration {
	wait := t.addrs.wait(addr, now, addrLimit)
	if throttledSid(user) && !t.known.has(addr, user, now) {
		wait = max(wait, t.sids.wait(user, now, sidLimit))
	}
	return wait
}

// reserve counts a login from addr for user as failed before the store
// checks it, or returns check's error if the address or the SID has no
// failure left. The caller settles the count with settle once the store
// has answered: kept if the credentials were wrong, given back otherwise.
// Counting first is what makes the limit hold under parallel requests:
// checked and counted in two steps, a burst of wrong tokens sent at once
// all passed the check before the first failure counted. A login that
// finds the budget spent while other logins of its address or SID are
// still being checked waits for them (untilSettled): those may be right,
// and give their count back, so a burst of right logins on a cold login
// cache is never refused.
func (t *loginThrottle) reserve(ctx context.Context, addr netip.Addr, user string, now func() time.Time) (reservation, error) {
	var r reservation
	err := t.untilSettled(ctx, addr, user, func() error {
		var err error
		if r, err = t.take(addr, user, now()); err != nil {
			return err
		}
		t.pendAddr[r.addr]++
		if r.sid != "" {
			t.pendSid[r.sid]++
		}
		return nil
	})
	return r, err
}

// untilSettled runs try under t.mu until it succeeds, or fails while no
// login of addr or user is being checked; after a failure while some are,
// it waits for one of them to settle (or for ctx, and then returns the
// failure).
func (t *loginThrottle) untilSettled(ctx context.Context, addr netip.Addr, user string, try func() error) error {
	for {
		t.mu.Lock()
		t.initLocked()
		err := try()
		if err == nil || t.pendAddr[addr] == 0 && t.pendSid[user] == 0 {
			t.mu.Unlock()
			return err
		}
		settled := t.settled
		t.mu.Unlock()
		select {
		case <-settled:
		case <-ctx.Done():
			return err
		}
	}
}

// take is one try of reserve, under t.mu.
func (t *loginThrottle) take(addr netip.Addr, user string, now time.Time) (reservation, error) {
	r := reservation{addr: addr}
	wait := t.addrs.take(addr, now, addrLimit)
	if wait <= 0 && throttledSid(user) && !t.known.has(addr, user, now) {
		if wait = t.sids.take(user, now, sidLimit); wait > 0 {
			t.addrs.refund(addr, addrLimit)
		} else {
			r.sid = user
		}
	}
	if wait > 0 {
		return reservation{}, tooMany(wait)
	}
	return r, nil
}

// tooMany is the 20429 answer of a throttled login, with its wait.
func tooMany(wait time.Duration) error {
	return &retryError{err: verify.Errorf(verify.ETooManyRequests, "Too Many Requests"), after: wait}
}

// reservation is what reserve counted: always the address, and the SID
// when its failures are counted for this address.
type reservation struct {
	addr netip.Addr
	sid  string
}

// settle ends a reservation: failed keeps its count, otherwise it is given
// back; either way the logins waiting in reserve try again.
func (t *loginThrottle) settle(r reservation, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.initLocked()
	if !failed {
		t.addrs.refund(r.addr, addrLimit)
		if r.sid != "" {
			t.sids.refund(r.sid, sidLimit)
		}
	}
	if t.pendAddr[r.addr]--; t.pendAddr[r.addr] <= 0 {
		delete(t.pendAddr, r.addr)
	}
	if r.sid != "" {
		if t.pendSid[r.sid]--; t.pendSid[r.sid] <= 0 {
			delete(t.pendSid, r.sid)
		}
	}
	close(t.settled)
	t.settled = make(chan struct{})
}

// succeed records a right login from addr for user at now.
func (t *loginThrottle) succeed(addr netip.Addr, user string, now time.Time) {
	if throttledSid(user) {
		t.known.add(addr, user, now)
	}
}

// throttledSid reports whether failures for user are counted per SID.
func throttledSid(user string) bool {
	s := verify.Sid(user)
	return s.Valid(verify.PrefixAccount) || s.Valid(verify.PrefixAPIKey)
}

// clientAddr is the address logins from r are counted under: the TCP
// peer's IP, or, when the peer is one of trusted (a proxy or load balancer
// of the operator's), the nearest address in X-Forwarded-For that is not
// trusted: each proxy appends the address it received the request from, so
// the entries left of that one are whatever the client wrote and are never
// read. IPv6 addresses count by their /64. A RemoteAddr that does not parse
// (not TCP) gives the zero Addr, one key for all such clients.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a := ap.Addr().Unmap().WithZone("")
	if isTrusted(a, trusted) {
		a = forwardedFor(r.Header.Values("X-Forwarded-For"), a, trusted)
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// forwardedFor walks the X-Forwarded-For entries from the right, starting
// at the trusted proxy peer, and returns the first address that is not
// trusted; an entry that is not an address stops the walk at the last
// trusted hop, which is then the client.
func forwardedFor(values []string, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	hop := peer
	for i := len(values) - 1; i >= 0; i-- {
		entries := strings.Split(values[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(entries[j]))
			if err != nil {
				return hop
			}
			hop = a.Unmap().WithZone("")
			if !isTrusted(hop, trusted) {
				return hop
			}
		}
	}
	return hop
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limiter is one GCRA table: for each key, the theoretical arrival time
// (tat) of its next failure if failures came at exactly the limit's rate.
// A key may fail at now unless tat lies more than (burst-1)*every ahead of
// now; each failure moves tat to max(tat, now)+every. An absent key is a
// full bucket. The zero value is an empty table.
type limiter[K comparable] struct {
	mu  sync.RWMutex
	tat map[K]time.Time
}

// wait returns how long k must wait before its next failure would be
// admitted at lim; zero or less if it may fail now.
func (l *limiter[K]) wait(k K, now time.Time, lim limit) time.Duration {
	l.mu.RLock()
	tat, ok := l.tat[k]
	l.mu.RUnlock()
	if !ok {
		return 0
	}
	return tat.Sub(now) - time.Duration(lim.burst-1)*lim.every
}

// take counts one failure of k at now if the limit admits it, and
// returns zero or less; otherwise it counts nothing and returns how long
// until the next failure would be admitted. The check and the count are
// one step under the lock, so parallel takes never pass the limit.
func (l *limiter[K]) take(k K, now time.Time, lim limit) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, ok := l.tat[k]
	if wait := tat.Sub(now) - time.Duration(lim.burst-1)*lim.every; ok && wait > 0 {
		return wait
	}
	if !ok {
		if l.tat == nil {
			l.tat = make(map[K]time.Time)
		}
		if len(l.tat) >= maxThrottled {
			l.evict(now)
		}
	}
	if tat.Before(now) {
		tat = now
	}
	l.tat[k] = tat.Add(lim.every)
	return 0
}

// refund gives back one failure that take counted for k: at most one
// interval of lim, and nothing if the key has since been evicted.
func (l *limiter[K]) refund(k K, lim limit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if tat, ok := l.tat[k]; ok {
		l.tat[k] = tat.Add(-lim.every)
	}
}

// evict makes room in a full table: first the keys whose bucket is full
// again, then arbitrary ones (map order) down to 7/8 of the bound, so that
// a full table is swept once per maxThrottled/8 new keys, not on each one.
func (l *limiter[K]) evict(now time.Time) {
	for k, tat := range l.tat {
		if !tat.After(now) {
			delete(l.tat, k)
		}
	}
	for k := range l.tat {
		if len(l.tat) < maxThrottled*7/8 {
			break
		}
		delete(l.tat, k)
	}
}

// knownFor is how long after its last right login with a SID an address
// stays exempt from that SID's limit.
const knownFor = 24 * time.Hour

// knownAddrs is, per (address, SID), the time of the last right login. It
// holds at most maxThrottled pairs: a full table drops those older than
// knownFor, then arbitrary ones down to 7/8.
type knownAddrs struct {
	mu sync.RWMutex
	at map[knownKey]time.Time
}

type knownKey struct {
	addr netip.Addr
	sid  string
}

func (k *knownAddrs) has(addr netip.Addr, sid string, now time.Time) bool {
	k.mu.RLock()
	at, ok := k.at[knownKey{addr, sid}]
	k.mu.RUnlock()
	return ok && now.Sub(at) < knownFor
}

// add records a right login. It writes only when the pair is new or its
// time more than a minute old, so the happy path is a read-locked lookup.
func (k *knownAddrs) add(addr netip.Addr, sid string, now time.Time) {
	key := knownKey{addr, sid}
	k.mu.RLock()
	at, ok := k.at[key]
	k.mu.RUnlock()
	if ok && now.Sub(at) < time.Minute {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.at == nil {
		k.at = make(map[knownKey]time.Time)
	}
	if _, ok := k.at[key]; !ok && len(k.at) >= maxThrottled {
		for key, at := range k.at {
			if now.Sub(at) >= knownFor {
				delete(k.at, key)
			}
		}
		for key := range k.at {
			if len(k.at) < maxThrottled*7/8 {
				break
			}
			delete(k.at, key)
		}
	}
	k.at[key] = now
}

// retryError is a *verify.Error that asks the client to retry after a
// while: s.error sends the Retry-After header with it, in whole seconds,
// rounded up.
type retryError struct {
	err   *verify.Error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }
