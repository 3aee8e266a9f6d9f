package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/sqlstore"
)

// Test credentials: twilio-go refuses non-alphanumeric ones, and serve
// tokens shorter than verify.MinAuthTokenLen.
const (
	testAccount  = "AC0123456789abcdef0123456789abcdef"
	testToken    = "s3cretT0kenForTests0123456789abcd"
	otherAccount = "ACfedcba9876543210fedcba9876543210"
	otherToken   = "an0therT0kenForTests0123456789ab"
)

// server is a verifyd started through run, exactly as the binary starts.
type server struct {
	base   string
	stdout *strings.Builder
	stop   func()
}

// testSecretKey is the VERIFYD_SECRET_KEY of servers on PostgreSQL, which
// has no key file; all servers of one test share it, as nodes must.
const testSecretKey = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"

// forEachBackend runs fn as a parallel subtest on every backend of the run,
// named sqlite and (with VERIFYD_TEST_POSTGRES set) postgres, with the DSN
// of a fresh database to start servers on.
func forEachBackend(t *testing.T, fn func(t *testing.T, db string)) {
	t.Helper()
	verifytest.ForEach(t, fn)
}

// startServer runs "verifyd serve" on a loopback port with the database at
// db and the given environment, and stops it when the test ends. On
// PostgreSQL it adds testSecretKey unless env sets a key.
func startServer(t *testing.T, db string, env map[string]string, args ...string) *server {
	t.Helper()
	return startServerLog(t, db, env, io.Discard, args...)
}

// startServerLog is startServer with the server's log written to stderr.
func startServerLog(t *testing.T, db string, env map[string]string, stderr io.Writer, args ...string) *server {
	t.Helper()
	if sqlstore.IsPostgres(db) && env["VERIFYD_SECRET_KEY"] == "" {
		env = maps.Clone(env)
		env["VERIFYD_SECRET_KEY"] = testSecretKey
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		err := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, args...), getenv, pw, stderr)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		done <- err
	}()
	out := &strings.Builder{}
	sc := bufio.NewScanner(pr)
	base := ""
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if rest, ok := strings.CutPrefix(line, "verifyd listening on "); ok {
			base = strings.Fields(rest)[0]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("server did not start: %v\n%s", sc.Err(), out)
	}
	go io.Copy(io.Discard, pr)
	s := &server{base: base, stdout: out}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("server did not shut down")
		}
	}
	t.Cleanup(s.stop)
	return s
}

// toLocal sends the official client's requests for *.twilio.com to our
// server, and refuses any host that is not loopback so that nothing can leak
// to the real service.
type toLocal struct {
	base *url.URL
	next http.RoundTripper // http.DefaultTransport if nil
}

func (t toLocal) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Hostname(), ".twilio.com") {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
	}
	if ip := net.ParseIP(r.URL.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test transport refuses non-loopback host %q", r.URL.Host)
	}
	if t.next != nil {
		return t.next.RoundTrip(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// twilioClient returns the official twilio-go Verify client pointed at s.
func twilioClient(t *testing.T, s *server, sid, token string) *openapi.ApiService {
	t.Helper()
	return twilioClientVia(t, s, sid, token, nil)
}

// twilioClientVia is twilioClient over the given transport (for TLS).
func twilioClientVia(t *testing.T, s *server, sid, token string, next http.RoundTripper) *openapi.ApiService {
	t.Helper()
	v := openapi.NewApiServiceWithClient(restClient(t, s, sid, token, sid, next))
	v.RequestHandler().Edge, v.RequestHandler().Region = "", ""
	return v
}

// restClient is twilio-go's base client with Basic credentials user and
// secret (an account SID and auth token, or an API key SID and secret) for
// account, sending every *.twilio.com request to s.
func restClient(t *testing.T, s *server, user, secret, account string, next http.RoundTripper) *client.Client {
	t.Helper()
	base, err := url.Parse(s.base)
	if err != nil {
		t.Fatal(err)
	}
	c := &client.Client{
		Credentials: client.NewCredentials(user, secret),
		HTTPClient: &http.Client{
			Transport:     toLocal{base, next},
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(account)
	return c
}

func accountEnv(sid, token string) map[string]string {
	return map[string]string{"VERIFYD_ACCOUNT_SID": sid, "VERIFYD_AUTH_TOKEN": token}
}

// newServer starts a server on db with the test account, and returns it
// with a twilio-go client for that account.
func newServer(t *testing.T, db string) (*server, *openapi.ApiService) {
	t.Helper()
	s := startServer(t, db, accountEnv(testAccount, testToken))
	return s, twilioClient(t, s, testAccount, testToken)
}

// wantTwilioError fails unless err is a Twilio REST error with the given
// code and HTTP status.
func wantTwilioError(t *testing.T, err error, code, status int) {
	t.Helper()
	var te *client.TwilioRestError
	if !errors.As(err, &te) {
		t.Fatalf("want Twilio error %d (%d), got %v", code, status, err)
	}
	if te.Code != code || te.Status != status {
		t.Fatalf("want Twilio error %d (%d), got %d (%d): %s", code, status, te.Code, te.Status, te.Message)
	}
	if te.MoreInfo != fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code) {
		t.Fatalf("more_info = %q", te.MoreInfo)
	}
}

func ptr[T any](v T) *T { return &v }

func deref[T any](t *testing.T, p *T, name string) T {
	t.Helper()
	if p == nil {
		t.Fatalf("%s is missing", name)
	}
	return *p
}
