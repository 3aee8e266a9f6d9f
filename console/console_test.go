package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// TestSignInAndScope: a browser signs in, sees its own services only, and
// reaches another account's service by URL as not found; a wrong token is
// refused, and the throttle's 429 reaches the page.
func TestSignInAndScope(t *testing.T) {
	e := newTestEnv(t, Config{})
	name := "Mine"
	mine, err := e.v.CreateService(e.ctx, acctA, verify.ServiceParams{FriendlyName: &name})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := e.v.CreateService(e.ctx, acctB, verify.ServiceParams{FriendlyName: &name})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	if status, loc := b.get(Prefix + "/services"); status != http.StatusSeeOther || loc != Prefix+"/signin" {
		t.Fatalf("signed out: %d %s", status, loc)
	}
	b.get(Prefix + "/signin")
	if status, _ := b.post(Prefix+"/signin", url.Values{"user": {string(acctA)}, "secret": {"wrong"}}); status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", status)
	}
	b.signIn(string(acctA), tokenA)
	status, body := b.get(Prefix + "/services")
	if status != http.StatusOK || !strings.Contains(body, string(mine.Sid)) || strings.Contains(body, string(theirs.Sid)) {
		t.Fatalf("services page: %d, mine %v, theirs %v", status, strings.Contains(body, string(mine.Sid)), strings.Contains(body, string(theirs.Sid)))
	}
	for _, path := range []string{"/services/" + string(theirs.Sid), "/services/" + string(theirs.Sid) + "/entities"} {
		if status, _ := b.get(Prefix + path); status != http.StatusNotFound {
			t.Errorf("another account's %s: %d", path, status)
		}
	}
	// Sign-out ends the session on the server: the old cookie is refused.
	cookies := b.c.Jar.Cookies(mustURL(t, e.srv.URL+Prefix+"/"))
	if status, _ := b.post(Prefix+"/signout", nil); status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", status)
	}
	replay := e.browser()
	replay.c.Jar.SetCookies(mustURL(t, e.srv.URL+Prefix+"/"), cookies)
	if status, loc := replay.get(Prefix + "/services"); status != http.StatusSeeOther || loc != Prefix+"/signin" {
		t.Fatalf("the signed-out cookie again: %d %s", status, loc)
	}

	throttled := newTestEnv(t, Config{SignIn: func(*http.Request, string, string) (verify.Sid, error) {
		return "", verify.Errorf(verify.ETooManyRequests, "too many")
	}}).browser()
	throttled.get(Prefix + "/signin")
	if status, _ := throttled.post(Prefix+"/signin", url.Values{"user": {string(acctA)}, "secret": {tokenA}}); status != http.StatusTooManyRequests {
		t.Fatalf("throttled sign-in: %d", status)
	}
}

// TestCSRF: a change without the session's token is refused and changes
// nothing; the sign-in form needs its own token too.
func TestCSRF(t *testing.T) {
	e := newTestEnv(t, Config{})
	b := e.browser()
	b.get(Prefix + "/signin")
	if status, _ := b.post(Prefix+"/signin", url.Values{"csrf": {"forged"}, "user": {string(acctA)}, "secret": {tokenA}}); status != http.StatusForbidden {
		t.Fatalf("sign-in with a forged token: %d", status)
	}
	b.signIn(string(acctA), tokenA)
	for _, csrf := range []string{"", "forged"} {
		if status, _ := b.post(Prefix+"/services", url.Values{"csrf": {csrf}, "friendly_name": {"Sneaky"}}); status != http.StatusForbidden {
			t.Fatalf("create with csrf %q: %d", csrf, status)
		}
	}
	if list, _, err := e.v.ListServices(e.ctx, acctA, verify.Page{Size: 10}); err != nil || len(list) != 0 {
		t.Fatalf("services after refused creates: %d %v", len(list), err)
	}
	if status, loc := b.post(Prefix+"/services", url.Values{"friendly_name": {"Real"}}); status != http.StatusSeeOther || !strings.HasPrefix(loc, Prefix+"/services/VA") {
		t.Fatalf("create with the token: %d %s", status, loc)
	}
}

// TestSessionsExpire: a session ends after idleTimeout without use and
// after maxAge in any case; the oldest idle ones make room past
// maxSessions.
func TestSessionsExpire(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newSessions(func() time.Time { return now })
	a := s.start(acctA, string(acctA))
	now = now.Add(idleTimeout - time.Second)
	if s.get(a.id) == nil {
		t.Fatal("expired before its idle timeout")
	}
	now = now.Add(idleTimeout)
	if s.get(a.id) != nil {
		t.Fatal("alive after its idle timeout")
	}
	b := s.start(acctA, string(acctA))
	for range int(maxAge/idleTimeout) + 1 {
		now = now.Add(idleTimeout - time.Second)
		s.get(b.id)
	}
	if s.get(b.id) != nil {
		t.Fatal("alive past its maximum age")
	}
	defer func(n int) { maxSessions = n }(maxSessions)
	maxSessions = 50
	first := s.start(acctA, "first")
	for range maxSessions {
		now = now.Add(time.Millisecond)
		s.start(acctB, "other")
	}
	if s.get(first.id) != nil || len(s.m) != maxSessions {
		t.Fatalf("the oldest session survived, %d sessions", len(s.m))
	}
}

// TestHeaders: every answer forbids framing and inline script.
func TestHeaders(t *testing.T) {
	e := newTestEnv(t, Config{})
	resp, err := http.Get(e.srv.URL + Prefix + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
		t.Errorf("headers %v", h)
	}
	var pre *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == preCookie {
			pre = c
		}
	}
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteStrictMode || pre.Path != Prefix+"/" {
		t.Errorf("sign-in cookie %+v", pre)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestFactorRowsLastUsed: a TOTP factor was last used when its last
// accepted step ended, any factor when its newest approved challenge was
// answered; a pending or denied one does not count.
func TestFactorRowsLastUsed(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0).UTC()
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	totp := &verify.Factor{Sid: "YF1", Totp: &verify.TotpFactor{LastUsedEnd: t0.Unix()}}
	push := &verify.Factor{Sid: "YF2", Push: &verify.PushFactor{}}
	idle := &verify.Factor{Sid: "YF3", Push: &verify.PushFactor{}}
	challenges := []*verify.Challenge{
		{FactorSid: "YF2", Status: verify.ChallengeApproved, DateResponded: at(time.Minute)},
		{FactorSid: "YF2", Status: verify.ChallengeApproved, DateResponded: at(time.Hour)},
		{FactorSid: "YF2", Status: verify.ChallengeDenied, DateResponded: at(2 * time.Hour)},
		{FactorSid: "YF3", Status: verify.ChallengePending},
	}
	rows := factorRows([]*verify.Factor{totp, push, idle}, challenges)
	if !rows[0].LastUsed.Equal(t0) || !rows[1].LastUsed.Equal(t0.Add(time.Hour)) || !rows[2].LastUsed.IsZero() {
		t.Fatalf("last used %v %v %v", rows[0].LastUsed, rows[1].LastUsed, rows[2].LastUsed)
	}
}

// TestKeys: the keys page lists the account's keys without their secrets
// and makes none; revoking takes the CSRF token and the account's own key.
func TestKeys(t *testing.T) {
	e := newTestEnv(t, Config{})
	name := "CI deploy"
	mine, secret, err := e.v.CreateAPIKey(e.ctx, acctA, &name)
	if err != nil {
		t.Fatal(err)
	}
	theirs, _, err := e.v.CreateAPIKey(e.ctx, acctB, &name)
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(string(acctA), tokenA)
	status, body := b.get(Prefix + "/keys")
	if status != http.StatusOK || !strings.Contains(body, string(mine.Sid)) || strings.Contains(body, secret) || strings.Contains(body, string(theirs.Sid)) {
		t.Fatalf("keys page: %d, mine %v, secret %v, theirs %v", status, strings.Contains(body, string(mine.Sid)),
			strings.Contains(body, secret), strings.Contains(body, string(theirs.Sid)))
	}
	if status, _ := b.post(Prefix+"/keys", url.Values{"friendly_name": {"new"}}); status != http.StatusMethodNotAllowed {
		t.Fatalf("a key made in the console: %d", status)
	}
	if status, _ := b.post(Prefix+"/keys/"+string(theirs.Sid)+"/delete", nil); status != http.StatusNotFound {
		t.Fatalf("revoking another account's key: %d", status)
	}
	if status, _ := b.post(Prefix+"/keys/"+string(mine.Sid)+"/delete", url.Values{"csrf": {"forged"}}); status != http.StatusForbidden {
		t.Fatalf("revoking without the token: %d", status)
	}
	if status, loc := b.post(Prefix+"/keys/"+string(mine.Sid)+"/delete", nil); status != http.StatusSeeOther || loc != Prefix+"/keys" {
		t.Fatalf("revoking: %d %s", status, loc)
	}
	if _, err := e.v.FetchAPIKey(e.ctx, acctA, mine.Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("the revoked key: %v", err)
	}
	if _, err := e.v.FetchAPIKey(e.ctx, acctB, theirs.Sid); err != nil {
		t.Fatalf("the other account's key: %v", err)
	}
}

// TestKeySessions: a session an API key signed in may not manage keys,
// and revoking the key ends it; the API's login cache is told.
func TestKeySessions(t *testing.T) {
	var revoked []verify.Sid
	e := newTestEnv(t, Config{KeyRevoked: func(sid verify.Sid) { revoked = append(revoked, sid) }})
	name := "laptop"
	key, secret, err := e.v.CreateAPIKey(e.ctx, acctA, &name)
	if err != nil {
		t.Fatal(err)
	}
	byKey := e.browser()
	byKey.signIn(string(key.Sid), secret)
	if status, _ := byKey.get(Prefix + "/keys"); status != http.StatusForbidden {
		t.Fatalf("the keys page for a key's session: %d", status)
	}
	if status, _ := byKey.post(Prefix+"/keys/"+string(key.Sid)+"/delete", nil); status != http.StatusForbidden {
		t.Fatalf("a key revoking itself: %d", status)
	}
	owner := e.browser()
	owner.signIn(string(acctA), tokenA)
	if status, _ := owner.post(Prefix+"/keys/"+string(key.Sid)+"/delete", nil); status != http.StatusSeeOther {
		t.Fatalf("the owner revoking the key: %d", status)
	}
	if len(revoked) != 1 || revoked[0] != key.Sid {
		t.Fatalf("the login cache was told of %v", revoked)
	}
	if status, loc := byKey.get(Prefix + "/services"); status != http.StatusSeeOther || loc != Prefix+"/signin" {
		t.Fatalf("the revoked key's session: %d %s", status, loc)
	}
	if status, _ := owner.get(Prefix + "/services"); status != http.StatusOK {
		t.Fatalf("the owner's session after the revocation: %d", status)
	}
}

// TestSessionsPerAccount: one account signing in again and again pushes
// out its own idlest sessions, never another account's.
func TestSessionsPerAccount(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newSessions(func() time.Time { return now })
	defer func(n int) { maxPerAccount = n }(maxPerAccount)
	maxPerAccount = 3
	other := s.start(acctB, string(acctB))
	var mine []*session
	for range 10 {
		now = now.Add(time.Second)
		mine = append(mine, s.start(acctA, string(acctA)))
	}
	if s.get(other.id) == nil {
		t.Fatal("another account's session was pushed out")
	}
	if s.count(acctA) != 3 || s.get(mine[9].id) == nil || s.get(mine[6].id) != nil {
		t.Fatalf("account A keeps %d sessions", s.count(acctA))
	}
}
