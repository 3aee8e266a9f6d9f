package console

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/sqlstore"
)

// testEnv is a console over a real Verifier on a new SQLite file, served
// on loopback, with two accounts whose tokens are tokenA and tokenB.
type testEnv struct {
	t       *testing.T
	ctx     context.Context
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

// newTestEnv starts the console; cfg may set anything but Verifier and
// SignIn, which it fills in.
func newTestEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "verifyd.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for acct, token := range map[verify.Sid]string{acctA: tokenA, acctB: tokenB} {
		if err := db.PutAccount(ctx, &verify.Account{Sid: acct, TokenHash: verify.HashToken(token), DateCreated: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	v := &verify.Verifier{Store: db, Now: time.Now, Rand: rand.Reader, TokenKey: key}
	cfg.Verifier = v
	if cfg.SignIn == nil {
		cfg.SignIn = func(r *http.Request, user, secret string) (verify.Sid, error) {
			return v.Login(r.Context(), user, secret)
		}
	}
	e := &testEnv{t: t, ctx: ctx, v: v, console: New(cfg)}
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

// post sends form (with the page's CSRF token unless form sets csrf).
func (b *browser) post(path string, form url.Values) (int, string) {
	b.e.t.Helper()
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
// it to the services page.
func (b *browser) signIn(user, secret string) {
	b.e.t.Helper()
	b.get(Prefix + "/signin")
	status, loc := b.post(Prefix+"/signin", url.Values{"user": {user}, "secret": {secret}})
	if status != http.StatusSeeOther || loc != Prefix+"/services" {
		b.e.t.Fatalf("sign in as %s: %d %s", user, status, loc)
	}
	pre := b.csrf
	b.get(Prefix + "/services") // for the session's CSRF token
	if b.csrf == "" || b.csrf == pre {
		b.e.t.Fatal("no session CSRF token on the services page")
	}
}
