package console

import (
	"context"
	"crypto/rand"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/sqlstore"
)

// testEnv is a console over a real Verifier on a new SQLite file (or the
// store withStore names), served on loopback, with two accounts whose
// tokens are tokenA and tokenB.
type testEnv struct {
	t       *testing.T
	ctx     context.Context
	db      *sqlstore.DB
	v       *verify.Verifier
	srv     *httptest.Server
	console *Console
}

const (
	acctA  = verify.Sid("AC0123456789abcdef0123456789abcdef")
	tokenA = "tokenA-0123456789abcdef0123456789"
	acctB  = verify.Sid("ACfedcba9876543210fedcba9876543210")
	tokenB = "tokenB-0123456789abcdef0123456789"
)

// An envOption changes what newTestEnv builds before the console starts
// serving, so that no request races with the change.
type envOption func(*envOptions)

type envOptions struct {
	dsn          string           // the store; a new SQLite file if empty
	now          func() time.Time // the Verifier's clock, time.Now unless withClock
	codeChannels map[string]bool  // the Verifier's CodeChannels
}

// withStore runs the env on dsn, such as verifytest.ForEach gives for
// each backend, instead of a new SQLite file.
func withStore(dsn string) envOption {
	return func(o *envOptions) { o.dsn = dsn }
}

// withClock stops the Verifier's clock at now, so that what the test
// computes for now (a TOTP code) is what the Verifier expects whatever
// the wall clock does meanwhile.
func withClock(now time.Time) envOption {
	return func(o *envOptions) { o.now = func() time.Time { return now } }
}

// withCodeChannels lets the Verifier send codes on channels.
func withCodeChannels(channels ...string) envOption {
	return func(o *envOptions) {
		o.codeChannels = map[string]bool{}
		for _, c := range channels {
			o.codeChannels[c] = true
		}
	}
}

// newTestEnv starts the console; cfg may set anything but Verifier and
// SignIn, which it fills in.
func newTestEnv(t *testing.T, cfg Config, opts ...envOption) *testEnv {
	t.Helper()
	o := envOptions{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.dsn == "" {
		o.dsn = filepath.Join(t.TempDir(), "verifyd.db")
	}
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	db, err := sqlstore.Open(ctx, o.dsn, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for acct, token := range map[verify.Sid]string{acctA: tokenA, acctB: tokenB} {
		if err := db.PutAccount(ctx, &verify.Account{Sid: acct, TokenHash: verify.HashToken(token), DateCreated: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	v := &verify.Verifier{Store: db, Now: o.now, Rand: rand.Reader, TokenKey: key, CodeChannels: o.codeChannels}
	cfg.Verifier = v
	if cfg.SignIn == nil {
		cfg.SignIn = func(r *http.Request, user, secret string) (verify.Sid, error) {
			return v.Login(r.Context(), user, secret)
		}
	}
	e := &testEnv{t: t, ctx: ctx, db: db, v: v, console: New(cfg)}
	e.srv = httptest.NewServer(e.console)
	t.Cleanup(e.srv.Close)
	return e
}

// browser is a client with its own cookie jar, as one browser is.
type browser struct {
	e    *testEnv
	c    *http.Client
	csrf string // the session's token, read from the last page
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *testEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signedIn is a new browser signed in as user.
func (e *testEnv) signedIn(user, secret string) *browser {
	e.t.Helper()
	b := e.browser()
	b.signIn(user, secret)
	return b
}

// get fetches path and returns the status and body, remembering the page's
// CSRF token.
func (b *browser) get(path string) (int, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.read(resp)
}

// post sends form with the page's CSRF token, unless form has a csrf
// entry: then it sends that, and none at all if the entry has no values.
// form itself is left as it was, so that a test may send it again.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.e.t.Helper()
	form = maps.Clone(form)
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.read(resp)
}

// getWant is get that fails the test unless the answer is status.
func (b *browser) getWant(path string, status int) string {
	b.e.t.Helper()
	got, body := b.get(path)
	if got != status {
		b.e.t.Fatalf("GET %s: HTTP %d, want %d\n%s", path, got, status, body)
	}
	return body
}

// postWant is post that fails the test unless the answer is status.
func (b *browser) postWant(path string, form url.Values, status int) string {
	b.e.t.Helper()
	got, body := b.post(path, form)
	if got != status {
		b.e.t.Fatalf("POST %s: HTTP %d, want %d\n%s", path, got, status, body)
	}
	return body
}

func (b *browser) read(resp *http.Response) (int, string) {
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, loc
	}
	return resp.StatusCode, string(body)
}

// signIn signs b in as user; it fails the test unless the console sends
// it to the services page, which names user and carries the session's
// CSRF token.
func (b *browser) signIn(user, secret string) {
	b.e.t.Helper()
	b.getWant(Prefix+"/signin", http.StatusOK)
	status, loc := b.post(Prefix+"/signin", url.Values{"user": {user}, "secret": {secret}})
	if status != http.StatusSeeOther || loc != Prefix+"/services" {
		b.e.t.Fatalf("sign in as %s: %d %s", user, status, loc)
	}
	pre := b.csrf
	if page := b.getWant(Prefix+"/services", http.StatusOK); !strings.Contains(page, user) {
		b.e.t.Fatalf("not signed in as %s:\n%s", user, page)
	}
	if b.csrf == "" || b.csrf == pre {
		b.e.t.Fatal("no session CSRF token on the services page")
	}
}
