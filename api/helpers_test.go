package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/sqlstore"
)

// Test credentials look like real ones: twilio-go refuses non-alphanumeric
// usernames and passwords, twilio-node account SIDs not starting with AC,
// and serve tokens shorter than verify.MinAuthTokenLen.
const (
	acctA  = "AC11111111111111111111111111111111"
	tokenA = "tokenA1234567890tokenA1234567890"
	acctB  = "AC22222222222222222222222222222222"
	tokenB = "tokenB1234567890tokenB1234567890"
)

// clock is a settable Verifier clock, safe for concurrent use. It runs
// with real time until frozen.
type clock struct {
	off    atomic.Int64
	frozen atomic.Int64 // Unix nanoseconds the clock stands at, 0 if running
}

func (c *clock) Now() time.Time {
	if f := c.frozen.Load(); f != 0 {
		return time.Unix(0, f).Add(time.Duration(c.off.Load()))
	}
	return time.Now().Add(time.Duration(c.off.Load()))
}
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// Freeze stops the clock where it is: only Advance moves it then, so a test
// of rates does not depend on how fast the machine runs it.
func (c *clock) Freeze() { c.frozen.Store(time.Now().UnixNano()) }

type testEnv struct {
	t     *testing.T
	ts    *httptest.Server
	clock *clock
	srv   *Server
}

// newEnv serves the API over real loopback HTTP against a real SQLite
// store with two accounts, A and B.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	return newEnvOn(t, filepath.Join(t.TempDir(), "t.db"), nil)
}

// newEnvOn is newEnv on the database at dsn (SQLite or PostgreSQL), with
// the Verifier's store wrapped by wrap if it is not nil: a test that must
// stage a race holds a store call there, on the real store underneath.
func newEnvOn(t *testing.T, dsn string, wrap func(verify.Store) verify.Store) *testEnv {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, dsn, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for sid, tok := range map[string]string{acctA: tokenA, acctB: tokenB} {
		if err := db.PutAccount(ctx, &verify.Account{Sid: verify.Sid(sid), TokenHash: verify.HashToken(tok), DateCreated: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	c := &clock{}
	tokenKey := make([]byte, 32)
	if _, err := rand.Read(tokenKey); err != nil {
		t.Fatal(err)
	}
	var st verify.Store = db
	if wrap != nil {
		st = wrap(db)
	}
	v := &verify.Verifier{Store: st, Now: c.Now, Rand: rand.Reader, TokenKey: tokenKey}
	s := &Server{Verifier: v, Now: c.Now}
	ts := httptest.NewUnstartedServer(s.Handler())
	s.BaseURL = "http://" + ts.Listener.Addr().String()
	ts.Start()
	t.Cleanup(ts.Close)
	return &testEnv{t: t, ts: ts, clock: c, srv: s}
}

// response is a decoded API response.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request as the given account ("" for none). target is a path
// or an absolute url (a next_page_url, requested verbatim as the libraries
// do). GET and DELETE carry twilio-go's form Content-Type and empty body.
func (e *testEnv) do(method, target, body, acct, token string) response {
	e.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = e.ts.URL + target
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if acct != "" {
		req.SetBasicAuth(acct, token)
	}
	return e.send(req)
}

// send sends req as it is and decodes the answer.
func (e *testEnv) send(req *http.Request) response {
	e.t.Helper()
	return send(e.t, e.ts.Client(), req)
}

// send sends req with c and decodes the answer, a JSON object or nothing.
func send(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v\n%s", req.Method, req.URL, err, raw)
		}
	}
	return r
}

// as sends a request as account A.
func (e *testEnv) as(method, target, body string) response {
	e.t.Helper()
	return e.do(method, target, body, acctA, tokenA)
}

// want fails unless r has the given status.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// wantError checks a Twilio error body: integer code, status equal to the
// HTTP status, the more_info url, and no type/title keys.
func (r response) wantError(t *testing.T, status, code int) {
	t.Helper()
	r.want(t, status)
	if got, ok := r.body["code"].(float64); !ok || int(got) != code {
		t.Errorf("code = %v, want %d", r.body["code"], code)
	}
	if got, ok := r.body["status"].(float64); !ok || int(got) != status {
		t.Errorf("body status = %v, want %d", r.body["status"], status)
	}
	if got, want := r.body["more_info"], "https://www.twilio.com/docs/errors/"+itoa(code); got != want {
		t.Errorf("more_info = %v, want %s", got, want)
	}
	for _, k := range []string{"type", "title"} {
		if _, ok := r.body[k]; ok {
			t.Errorf("error body has %q", k)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// str returns the string at a dotted path of the body, failing if absent.
func (r response) str(t *testing.T, path string) string {
	t.Helper()
	v, ok := r.get(path)
	s, isStr := v.(string)
	if !ok || !isStr {
		t.Fatalf("%s = %#v, want a string in %s", path, v, r.raw)
	}
	return s
}

// get returns the value at a dotted path of the body.
func (r response) get(path string) (any, bool) {
	var v any = r.body
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

var wireDate = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// wantDates checks that each named field is a second-precision UTC date.
func (r response) wantDates(t *testing.T, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if s := r.str(t, f); !wireDate.MatchString(s) {
			t.Errorf("%s = %q, want YYYY-MM-DDTHH:MM:SSZ", f, s)
		}
	}
}

// wantNull checks that each named field is present and null.
func (r response) wantNull(t *testing.T, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if v, ok := r.get(f); !ok || v != nil {
			t.Errorf("%s = %#v (present %v), want null", f, v, ok)
		}
	}
}

// sids returns the sid of each item of the list under key.
func (r response) sids(t *testing.T, key string) []string {
	t.Helper()
	items, ok := r.body[key].([]any)
	if !ok {
		t.Fatalf("%s is not an array: %s", key, r.raw)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it.(map[string]any)["sid"].(string)
	}
	return out
}

// serve serves s over loopback HTTP without a store, for tests that never
// reach the Verifier.
func serve(t *testing.T, s *Server) *testEnv {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return &testEnv{t: t, ts: ts, clock: &clock{}, srv: s}
}
