package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// from returns an HTTP client whose connections to the test server come
// from the loopback address ip (any of 127.0.0.0/8 on Linux), so that the
// server sees another client address in r.RemoteAddr.
func (e *testEnv) from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// login sends GET /v2/Services with Basic user:pass through c.
func (e *testEnv) login(c *http.Client, user, pass string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/v2/Services", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	return send(e.t, c, req)
}

// wantThrottled checks a 429 with code 20429, Twilio's message, and a
// Retry-After of whole seconds within (0, max], which it returns.
func (r response) wantThrottled(t *testing.T, max time.Duration) time.Duration {
	t.Helper()
	r.wantError(t, http.StatusTooManyRequests, verify.ETooManyRequests)
	if r.body["message"] != "Too Many Requests" {
		t.Errorf("message = %v", r.body["message"])
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > max {
		t.Fatalf("Retry-After = %q, want 1 to %v in seconds", r.header.Get("Retry-After"), max)
	}
	return time.Duration(secs) * time.Second
}

// TestLoginThrottleAddress: a burst of wrong tokens from one address is
// answered 401 for the first addrLimit.burst, then 429 (20429) with
// Retry-After, the right token from that address included (a throttled
// request is not checked, so the 429 tells nothing); the right token from
// another address passes meanwhile, and so do other accounts' failures
// from other addresses. After Retry-After (the server's clock moved) one
// more try goes through, and after the whole burst's time the right token
// from the throttled address passes again.
func TestLoginThrottleAddress(t *testing.T) {
	e := newEnv(t)
	e.clock.Freeze()
	bad, good := e.from("127.0.0.2"), e.from("127.0.0.1")
	for i := range addrLimit.burst {
		if r := e.login(bad, acctA, fmt.Sprintf("wrong%d", i)); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s, want 401", i+1, r.status, r.raw)
		}
	}
	wait := e.login(bad, acctA, "wrong").wantThrottled(t, addrLimit.every)
	e.login(bad, acctA, tokenA).wantThrottled(t, addrLimit.every)
	e.login(bad, acctB, tokenB).wantThrottled(t, addrLimit.every)

	e.login(good, acctA, tokenA).want(t, http.StatusOK)
	e.login(e.from("127.0.0.3"), acctB, "wrong").wantError(t, http.StatusUnauthorized, verify.EAuthenticate)

	e.clock.Advance(wait)
	e.login(bad, acctA, "wrong again").wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
	e.login(bad, acctA, tokenA).wantThrottled(t, addrLimit.every)

	e.clock.Advance(time.Duration(addrLimit.burst) * addrLimit.every)
	e.login(bad, acctA, tokenA).want(t, http.StatusOK)
}

// TestLoginThrottleSid: failures for one account SID from many addresses,
// none of them throttled on its own, spend the SID's budget: then the
// account's logins are 429 from every new address, its right token
// included (the documented price of bounding distributed guessing), while
// another account from the same address passes, and so does the account
// from an address it logged in from before the attack. After Retry-After
// the account logs in again from anywhere.
func TestLoginThrottleSid(t *testing.T) {
	e := newEnv(t)
	e.clock.Freeze()
	backend := e.from("127.0.2.2")
	e.login(backend, acctA, tokenA).want(t, http.StatusOK)
	failures := 0
	for i := 0; failures < sidLimit.burst; i++ {
		c := e.from(fmt.Sprintf("127.0.1.%d", i+1))
		for range addrLimit.burst {
			if failures == sidLimit.burst {
				break
			}
			e.login(c, acctA, "wrong").wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
			failures++
		}
	}
	fresh := e.from("127.0.2.1")
	wait := e.login(fresh, acctA, tokenA).wantThrottled(t, sidLimit.every+time.Second)
	e.login(fresh, acctB, tokenB).want(t, http.StatusOK)
	e.login(backend, acctA, tokenA).want(t, http.StatusOK)
	e.login(fresh, acctA, "wrong").wantThrottled(t, sidLimit.every+time.Second)
	e.clock.Advance(wait)
	e.login(fresh, acctA, tokenA).want(t, http.StatusOK)
}

// TestLoginThrottleParallel: parallel bursts of wrong tokens from one
// address get exactly the burst checked, whatever is in flight, while
// parallel right logins from another address all pass. Run with -race, it
// also checks the throttle's locking.
func TestLoginThrottleParallel(t *testing.T) {
	e := newEnv(t)
	e.clock.Freeze()
	const workers, each = 8, 10
	bad, good := e.from("127.0.0.4"), e.from("127.0.0.1")
	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/v2/Services", nil)
				req.SetBasicAuth(acctA, fmt.Sprintf("wrong%d.%d", w, i))
				st := status(bad, req)
				mu.Lock()
				count[st]++
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/v2/Services", nil)
				req.SetBasicAuth(acctA, tokenA)
				st := status(good, req)
				mu.Lock()
				count[-st]++ // right logins counted under -status
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if count[-http.StatusOK] != workers*each {
		t.Errorf("right logins: %v, want all %d 200", count, workers*each)
	}
	if n := count[http.StatusUnauthorized]; n != addrLimit.burst {
		t.Errorf("%d wrong tokens were checked (401), want %d: %v", n, addrLimit.burst, count)
	}
	if count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != workers*each {
		t.Errorf("wrong tokens: %v, want only 401 and 429", count)
	}
}

// TestLoginThrottleColdBurst: a burst of right logins from one address on
// a cold login cache, four times the address's budget at once, all pass:
// each is counted while the store checks it, and one that finds the budget
// spent by logins still being checked waits for them to give it back.
func TestLoginThrottleColdBurst(t *testing.T) {
	e := newEnv(t)
	e.clock.Freeze()
	c := e.from("127.0.0.5")
	n := 4 * addrLimit.burst
	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/v2/Services", nil)
			req.SetBasicAuth(acctA, tokenA)
			st := status(c, req)
			mu.Lock()
			count[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if count[http.StatusOK] != n {
		t.Errorf("right logins: %v, want all %d 200", count, n)
	}
	// The burst gave back what it counted: the address's whole budget of
	// wrong tokens is left.
	for i := range addrLimit.burst {
		e.login(c, acctB, fmt.Sprintf("wrong%d", i)).wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
	}
	e.login(c, acctB, "wrong").wantThrottled(t, addrLimit.every)
}

// status sends req with c and returns the response status, 0 on error.
func status(c *http.Client, req *http.Request) int {
	res, err := c.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// TestKnownAddrs: a pair is known after a right login for knownFor, and a
// full table keeps at most maxThrottled pairs, dropping stale ones first.
func TestKnownAddrs(t *testing.T) {
	var k knownAddrs
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	k.add(a, acctA, now)
	if !k.has(a, acctA, now.Add(knownFor-time.Second)) || k.has(a, acctA, now.Add(knownFor)) || k.has(b, acctA, now) || k.has(a, acctB, now) {
		t.Fatal("has is wrong")
	}
	for i := 0; len(k.at) < maxThrottled; i++ {
		k.add(a, fmt.Sprint(i), now)
	}
	k.add(b, acctA, now.Add(knownFor))
	if len(k.at) != 1 || !k.has(b, acctA, now.Add(knownFor)) {
		t.Fatalf("after expiry, %d pairs held", len(k.at))
	}
}

// TestLimiter checks the GCRA arithmetic and the memory bound: burst
// failures at once, then one per every; a refused take counts nothing; a
// refund gives back one; a table never holds more than maxThrottled keys,
// and a full one first drops the keys whose bucket is full again.
func TestLimiter(t *testing.T) {
	var l limiter[int]
	lim := limit{burst: 3, every: time.Second}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range lim.burst {
		if w := l.wait(1, now, lim); w > 0 {
			t.Fatalf("failure %d must wait %v", i+1, w)
		}
		if w := l.take(1, now, lim); w > 0 {
			t.Fatalf("take %d refused, wait %v", i+1, w)
		}
	}
	if w := l.wait(1, now, lim); w != time.Second {
		t.Fatalf("after the burst: wait %v, want 1s", w)
	}
	for range 3 {
		if w := l.take(1, now, lim); w != time.Second {
			t.Fatalf("take after the burst: wait %v, want 1s", w)
		}
	}
	l.refund(1, lim)
	if w := l.take(1, now, lim); w > 0 {
		t.Fatalf("after a refund: wait %v", w)
	}
	if w := l.wait(1, now.Add(time.Second), lim); w > 0 {
		t.Fatalf("one every later: wait %v", w)
	}
	if w := l.wait(2, now, lim); w > 0 {
		t.Fatalf("another key waits %v", w)
	}

	for k := range maxThrottled + 100 {
		l.take(k+10, now, lim)
		if len(l.tat) > maxThrottled {
			t.Fatalf("%d keys held", len(l.tat))
		}
	}
	// Keys whose bucket is full again go first: with the clock past every
	// key's tat, a new key in a full table empties it but for itself.
	for k := 0; len(l.tat) < maxThrottled; k++ {
		l.take(-k-10, now, lim)
	}
	l.take(-1, now.Add(time.Hour), lim)
	if len(l.tat) != 1 {
		t.Fatalf("after expiry, %d keys held, want 1", len(l.tat))
	}
}

// TestClientAddr: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64;
// X-Forwarded-For ignored unless the peer is a trusted proxy, and then read
// from the right, past trusted hops only, so that what a client wrote to the
// left of its own address is never used.
func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ff::/48")}
	for _, tc := range []struct {
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"192.0.2.7:5555", nil, nil, "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5555", nil, nil, "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:5555", nil, nil, "2001:db8:1:2::"},
		{"[fe80::1%eth0]:5555", nil, nil, "fe80::"},
		{"@", nil, nil, "invalid IP"},
		{"192.0.2.7:5555", []string{"198.51.100.1"}, nil, "192.0.2.7"},
		{"192.0.2.7:5555", []string{"198.51.100.1"}, trusted, "192.0.2.7"},
		{"10.1.2.3:5555", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"10.1.2.3:5555", []string{"203.0.113.9, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"10.1.2.3:5555", []string{"203.0.113.9", "198.51.100.1, 10.9.9.9"}, trusted, "198.51.100.1"},
		{"10.1.2.3:5555", []string{"2001:db8:7:7::1"}, trusted, "2001:db8:7:7::"},
		{"[2001:db8:ff::1]:5555", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"10.1.2.3:5555", []string{"198.51.100.1, garbage, 10.9.9.9"}, trusted, "10.9.9.9"},
		{"10.1.2.3:5555", nil, trusted, "10.1.2.3"},
		{"10.1.2.3:5555", []string{"10.4.4.4"}, trusted, "10.4.4.4"},
	} {
		r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientAddr(r, tc.trusted); got.String() != tc.want {
			t.Errorf("clientAddr(%s, XFF %q, trusted %v) = %s, want %s", tc.remote, tc.xff, tc.trusted, got, tc.want)
		}
	}
}

// TestLoginThrottleBehindProxy: behind a trusted proxy, the throttle counts
// the client address the proxy forwards, so one client's wrong tokens do not
// throttle another client behind the same proxy; a peer that is not trusted
// cannot escape its own budget by writing X-Forwarded-For.
func TestLoginThrottleBehindProxy(t *testing.T) {
	e := newEnv(t)
	e.clock.Freeze()
	e.srv.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.5/32")}
	viaProxy := func(c *http.Client, client, user, pass string) response {
		req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/v2/Services", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, pass)
		req.Header.Set("X-Forwarded-For", client)
		return send(t, c, req)
	}
	proxy, direct := e.from("127.0.0.5"), e.from("127.0.0.6")
	for i := range addrLimit.burst {
		viaProxy(proxy, "198.51.100.1", acctA, "wrong").wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
		viaProxy(direct, fmt.Sprintf("198.51.100.%d", 10+i), acctB, "wrong").wantError(t, http.StatusUnauthorized, verify.EAuthenticate)
	}
	viaProxy(proxy, "198.51.100.1", acctA, tokenA).wantThrottled(t, addrLimit.every)
	viaProxy(proxy, "198.51.100.2", acctA, tokenA).want(t, http.StatusOK)
	viaProxy(direct, "198.51.100.99", acctB, tokenB).wantThrottled(t, addrLimit.every)
}
