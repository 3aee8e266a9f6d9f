package apns

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSendTokenMode(t *testing.T) {
	clk := newClock()
	c, f := tokenClient(t, clk)
	n := testNotification()
	n.Expiration = testT0.Add(10 * time.Minute) // later than the TTL

	id, err := c.Send(context.Background(), n)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id != testAPNsID {
		t.Errorf("apns-id = %q, want %q", id, testAPNsID)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("fake saw %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.ProtoMajor != 2 || r.Method != http.MethodPost || r.Path != "/3/device/"+testToken {
		t.Errorf("request = HTTP/%d %s %s, want HTTP/2 POST /3/device/%s", r.ProtoMajor, r.Method, r.Path, testToken)
	}
	wantHeaders := map[string]string{
		"Apns-Topic":       testTopic,
		"Apns-Push-Type":   "alert",
		"Apns-Priority":    "10",
		"Apns-Expiration":  strconv.FormatInt(testT0.Add(300*time.Second).Unix(), 10),
		"Apns-Collapse-Id": testCSid,
		"Content-Type":     "application/json",
	}
	for k, want := range wantHeaders {
		if got := r.Header.Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("header %s = %q, want [%q]", k, got, want)
		}
	}
	if r.Kid != testKeyID || r.Claims.Iss != testTeamID || r.Claims.Iat != testT0.Unix() {
		t.Errorf("provider token kid=%q iss=%q iat=%d, want %q %q %d", r.Kid, r.Claims.Iss, r.Claims.Iat, testKeyID, testTeamID, testT0.Unix())
	}
	var got, want any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("payload %s: %v", r.Body, err)
	}
	_ = json.Unmarshal([]byte(`{
		"aps": {"alert": "Login request from Chrome", "category": "verify_push_challenge", "sound": "default"},
		"type": "verify_push_challenge",
		"challenge_sid": "`+testCSid+`",
		"factor_sid": "`+testFSid+`",
		"message": "Login request from Chrome"}`), &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
}

// TestExpirationHeader checks apns-expiration end to end: the challenge's
// expiration caps now+TTL, and a TTL of 0 asks for one attempt.
func TestExpirationHeader(t *testing.T) {
	clk := newClock()
	c, f := tokenClient(t, clk)
	n := testNotification()
	n.Expiration = testT0.Add(90 * time.Second)
	if _, err := c.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	n.TTL = 0
	if _, err := c.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("fake saw %d requests, want 2", len(reqs))
	}
	if got, want := reqs[0].Header.Get("Apns-Expiration"), strconv.FormatInt(testT0.Unix()+90, 10); got != want {
		t.Errorf("apns-expiration = %s, want %s (the challenge's expiration)", got, want)
	}
	if got := reqs[1].Header.Get("Apns-Expiration"); got != "0" {
		t.Errorf("apns-expiration with TTL 0 = %s, want 0", got)
	}
}

// TestHTTP1ServerRefused: a server that only speaks HTTP/1.1 must fail the
// send, never receive a request.
func TestHTTP1ServerRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	key, _ := newSigningKey(t)
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c, err := New(Config{BaseURL: srv.URL, SigningKey: key, KeyID: testKeyID, TeamID: testTeamID, TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := testNotification()
	n.Expiration = time.Time{} // the client runs on the real clock, past testT0's expiration
	_, err = c.Send(context.Background(), n)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Retry || e.Status != 0 {
		t.Fatalf("Send to an HTTP/1.1 server = %v, want a Retry connection error", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("HTTP/1.1 server handled %d requests, want 0", n)
	}
}

// TestFakeRefusesHTTP1 proves the fake's guard works, so that the other
// tests, which pass through it, show the client used HTTP/2.
func TestFakeRefusesHTTP1(t *testing.T) {
	f := newFake(t, nil, nil, time.Now)
	var protos http.Protocols
	protos.SetHTTP1(true)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: f.roots(), Protocols: &protos}}
	resp, err := hc.Post(f.srv.URL+"/3/device/"+testToken, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusHTTPVersionNotSupported || resp.ProtoMajor != 1 {
		t.Errorf("HTTP/%d request got %d, want HTTP/1 505", resp.ProtoMajor, resp.StatusCode)
	}
}

func TestTokenReusedThenRefreshed(t *testing.T) {
	clk := newClock()
	c, f := tokenClient(t, clk)
	steps := []time.Duration{0, 49 * time.Minute, 2 * time.Minute, time.Minute} // at 0, 49, 51, 52 min
	for _, d := range steps {
		clk.Add(d)
		if _, err := c.Send(context.Background(), testNotification2(clk)); err != nil {
			t.Fatal(err)
		}
	}
	r := f.requests()
	if len(r) != 4 {
		t.Fatalf("fake saw %d requests, want 4", len(r))
	}
	if r[0].JWT != r[1].JWT {
		t.Error("provider token not reused at 49 minutes")
	}
	if r[2].JWT == r[1].JWT || r[2].Claims.Iat != testT0.Add(51*time.Minute).Unix() {
		t.Errorf("at 51 minutes: token reused=%v iat=%d, want a new token with iat %d", r[2].JWT == r[1].JWT, r[2].Claims.Iat, testT0.Add(51*time.Minute).Unix())
	}
	if r[3].JWT != r[2].JWT {
		t.Error("refreshed provider token not reused a minute later")
	}
}

// testNotification2 is testNotification for a challenge created at clk's
// current time.
func testNotification2(clk *clock) Notification {
	n := testNotification()
	n.Expiration = clk.Now().Add(5 * time.Minute)
	return n
}

func TestExpiredProviderTokenRefreshesOnce(t *testing.T) {
	expired := reply{Status: http.StatusForbidden, Reason: "ExpiredProviderToken"}
	t.Run("then accepted", func(t *testing.T) {
		c, f := tokenClient(t, newClock())
		f.setScript(func(i int) reply {
			if i == 0 {
				return expired
			}
			return reply{Status: http.StatusOK}
		})
		for range 2 {
			if _, err := c.Send(context.Background(), testNotification()); err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
		r := f.requests()
		if len(r) != 3 {
			t.Fatalf("fake saw %d requests, want 3 (refused, retried, next send)", len(r))
		}
		if r[1].JWT == r[0].JWT {
			t.Error("retry after ExpiredProviderToken reused the refused token")
		}
		if r[2].JWT != r[1].JWT {
			t.Error("the next send did not reuse the refreshed token")
		}
	})
	t.Run("refused again", func(t *testing.T) {
		c, f := tokenClient(t, newClock())
		f.setScript(func(int) reply { return expired })
		_, err := c.Send(context.Background(), testNotification())
		var e *Error
		if !errors.As(err, &e) || e.Kind != Permanent || e.Reason != "ExpiredProviderToken" {
			t.Errorf("Send = %v, want Permanent ExpiredProviderToken", err)
		}
		if n := len(f.requests()); n != 2 {
			t.Errorf("fake saw %d requests, want 2: exactly one retry", n)
		}
	})
}

func TestResponseClassification(t *testing.T) {
	tests := []struct {
		name       string
		reply      reply
		kind       Kind
		retryAfter time.Duration
		timestamp  time.Time
	}{
		{"unregistered", reply{Status: 410, Reason: "Unregistered", Timestamp: 1764748800123}, TokenDead, 0, time.UnixMilli(1764748800123).UTC()},
		{"expired token", reply{Status: 410, Reason: "ExpiredToken"}, TokenDead, 0, time.Time{}},
		{"bad device token", reply{Status: 400, Reason: "BadDeviceToken"}, TokenDead, 0, time.Time{}},
		{"token not for topic", reply{Status: 400, Reason: "DeviceTokenNotForTopic"}, Permanent, 0, time.Time{}},
		{"bad topic", reply{Status: 400, Reason: "BadTopic"}, Permanent, 0, time.Time{}},
		{"idle timeout", reply{Status: 400, Reason: "IdleTimeout"}, Retry, 0, time.Time{}},
		{"invalid provider token", reply{Status: 403, Reason: "InvalidProviderToken"}, Permanent, 0, time.Time{}},
		{"payload too large", reply{Status: 413, Reason: "PayloadTooLarge"}, Permanent, 0, time.Time{}},
		{"too many requests", reply{Status: 429, Reason: "TooManyRequests"}, Retry, 0, time.Time{}},
		{"too many token updates", reply{Status: 429, Reason: "TooManyProviderTokenUpdates", RetryAfter: "30"}, Retry, 30 * time.Second, time.Time{}},
		{"internal error", reply{Status: 500, Reason: "InternalServerError"}, Retry, 0, time.Time{}},
		{"unavailable", reply{Status: 503, Reason: "ServiceUnavailable", RetryAfter: "7"}, Retry, 7 * time.Second, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := tokenClient(t, newClock())
			f.setScript(func(int) reply { return tt.reply })
			_, err := c.Send(context.Background(), testNotification())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Send = %v, want an *Error", err)
			}
			if e.Kind != tt.kind || e.Status != tt.reply.Status || e.Reason != tt.reply.Reason {
				t.Errorf("got %v %d %q, want %v %d %q", e.Kind, e.Status, e.Reason, tt.kind, tt.reply.Status, tt.reply.Reason)
			}
			if e.RetryAfter != tt.retryAfter || !e.Timestamp.Equal(tt.timestamp) || e.ID != testAPNsID {
				t.Errorf("RetryAfter=%v Timestamp=%v ID=%q, want %v %v %q", e.RetryAfter, e.Timestamp, e.ID, tt.retryAfter, tt.timestamp, testAPNsID)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q holds the whole device token", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("fake saw %d requests, want 1: Send must not retry by itself", n)
			}
		})
	}
}

func TestCertificateMode(t *testing.T) {
	ca := newTestCA(t)
	f := newFake(t, nil, ca.pool, time.Now)
	send := func(cert *tls.Certificate) error {
		c, err := New(Config{BaseURL: f.srv.URL, Certificate: cert, TLS: f.roots()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		n := testNotification()
		n.Expiration = time.Time{}
		_, err = c.Send(context.Background(), n)
		return err
	}
	if err := send(ca.clientCert(t, "Apple Push Services: "+testTopic)); err != nil {
		t.Fatalf("Send with the CA's certificate: %v", err)
	}
	r := f.requests()
	if len(r) != 1 {
		t.Fatalf("fake saw %d requests, want 1", len(r))
	}
	if r[0].PeerCN != "Apple Push Services: "+testTopic || r[0].Header.Get("Authorization") != "" || r[0].ProtoMajor != 2 {
		t.Errorf("peer CN %q, authorization %q, HTTP/%d; want the client certificate, no bearer token, HTTP/2",
			r[0].PeerCN, r[0].Header.Get("Authorization"), r[0].ProtoMajor)
	}

	other := newTestCA(t)
	err := send(other.clientCert(t, "intruder"))
	var e *Error
	if !errors.As(err, &e) || e.Kind != Retry || e.Status != 0 {
		t.Errorf("Send with a certificate of another CA = %v, want a connection error", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("fake handled %d requests, want still 1", n)
	}
}

// TestConcurrentSends: parallel sends share one connection and one
// provider token (run with -race).
func TestConcurrentSends(t *testing.T) {
	clk := newClock()
	c, f := tokenClient(t, clk)
	// The first send opens the connection; parallel first sends could
	// each dial before h2 is negotiated.
	if _, err := c.Send(context.Background(), testNotification()); err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.Send(context.Background(), testNotification())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	addrs, jwts := map[string]bool{}, map[string]bool{}
	r := f.requests()
	for _, s := range r {
		addrs[s.RemoteAddr] = true
		jwts[s.JWT] = true
	}
	if len(r) != n+1 || len(addrs) != 1 || len(jwts) != 1 {
		t.Errorf("%d requests over %d connections with %d tokens, want %d over 1 with 1", len(r), len(addrs), len(jwts), n+1)
	}
}

func TestConcurrentExpiredTokenRefreshedOnce(t *testing.T) {
	clk := newClock()
	c, f := tokenClient(t, clk)
	if _, err := c.Send(context.Background(), testNotification()); err != nil {
		t.Fatal(err)
	}
	first := f.requests()[0].JWT
	f.setScript(func(i int) reply {
		if f.requests()[i].JWT == first {
			return reply{Status: http.StatusForbidden, Reason: "ExpiredProviderToken"}
		}
		return reply{Status: http.StatusOK}
	})
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := c.Send(context.Background(), testNotification()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	jwts := map[string]bool{}
	for _, s := range f.requests() {
		jwts[s.JWT] = true
	}
	if len(jwts) != 2 {
		t.Errorf("%d distinct provider tokens, want 2: one refresh for all refused requests", len(jwts))
	}
}

func TestRequestTimeout(t *testing.T) {
	key, _ := newSigningKey(t)
	f := newFake(t, &key.PublicKey, nil, time.Now)
	f.setScript(func(int) reply { return reply{Status: 200, Block: 5 * time.Second} })
	c, err := New(Config{BaseURL: f.srv.URL, SigningKey: key, KeyID: testKeyID, TeamID: testTeamID, TLS: f.roots(), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := testNotification()
	n.Expiration = time.Time{}
	start := time.Now()
	_, err = c.Send(context.Background(), n)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Retry || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send to a stalled server = %v, want Retry wrapping context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v, want about the 100 ms timeout", d)
	}
}

func TestConnectionErrorRedactsToken(t *testing.T) {
	f := newFake(t, nil, nil, time.Now)
	url := f.srv.URL
	f.srv.Close() // nothing listens there now
	key, _ := newSigningKey(t)
	c, err := New(Config{BaseURL: url, SigningKey: key, KeyID: testKeyID, TeamID: testTeamID, TLS: f.roots()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := testNotification()
	n.Expiration = time.Time{}
	_, err = c.Send(context.Background(), n)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Retry {
		t.Fatalf("Send to a closed port = %v, want Retry", err)
	}
	if strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), testToken[:8]) {
		t.Errorf("error %q: want the token redacted to its first 8 digits", err)
	}
}

func TestInvalidNotificationNotSent(t *testing.T) {
	clk := newClock()
	c, f := tokenClient(t, clk)
	tests := map[string]func(*Notification){
		"empty token":       func(n *Notification) { n.DeviceToken = "" },
		"token not hex":     func(n *Notification) { n.DeviceToken = "abcd/../../x" },
		"empty topic":       func(n *Notification) { n.Topic = "" },
		"long collapse ID":  func(n *Notification) { n.CollapseID = strings.Repeat("x", 65) },
		"negative TTL":      func(n *Notification) { n.TTL = -time.Second },
		"challenge expired": func(n *Notification) { n.Expiration = testT0 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			n := testNotification()
			mutate(&n)
			_, err := c.Send(context.Background(), n)
			var e *Error
			if !errors.As(err, &e) || e.Kind != Permanent {
				t.Errorf("Send = %v, want Permanent", err)
			}
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("fake saw %d requests, want 0", n)
	}
	n := testNotification()
	n.Expiration = testT0
	if _, err := c.Send(context.Background(), n); !errors.Is(err, ErrChallengeExpired) {
		t.Errorf("Send of an expired challenge = %v, want ErrChallengeExpired", err)
	}
}

func TestNewConfig(t *testing.T) {
	key, _ := newSigningKey(t)
	ca := newTestCA(t)
	tok := Config{SigningKey: key, KeyID: testKeyID, TeamID: testTeamID}
	with := func(mut func(*Config)) Config { c := tok; mut(&c); return c }
	bases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"production", tok, ProductionURL},
		{"sandbox", with(func(c *Config) { c.Sandbox = true }), SandboxURL},
		{"override", with(func(c *Config) { c.Sandbox = true; c.BaseURL = "https://127.0.0.1:8443/" }), "https://127.0.0.1:8443"},
		{"certificate", Config{Certificate: ca.clientCert(t, "x")}, ProductionURL},
	}
	for _, tt := range bases {
		c, err := New(tt.cfg)
		if err != nil {
			t.Errorf("%s: New: %v", tt.name, err)
			continue
		}
		if c.base != tt.want {
			t.Errorf("%s: base URL %q, want %q", tt.name, c.base, tt.want)
		}
		if tls := c.tr.TLSClientConfig; tls.RootCAs != nil || tls.MinVersion < 0x0303 {
			t.Errorf("%s: RootCAs set or TLS below 1.2: want the system roots and TLS 1.2+", tt.name)
		}
		if p := c.tr.Protocols; p == nil || p.HTTP1() || !p.HTTP2() {
			t.Errorf("%s: protocols %v, want HTTP/2 only", tt.name, p)
		}
		if h := c.tr.HTTP2; h == nil || h.SendPingTimeout <= 0 || h.PingTimeout <= 0 {
			t.Errorf("%s: no HTTP/2 keep-alive pings configured", tt.name)
		}
		c.Close()
	}
	bad := map[string]Config{
		"no auth":         {},
		"both auths":      with(func(c *Config) { c.Certificate = ca.clientCert(t, "x") }),
		"no key ID":       with(func(c *Config) { c.KeyID = "" }),
		"no team ID":      with(func(c *Config) { c.TeamID = "" }),
		"http base URL":   with(func(c *Config) { c.BaseURL = "http://127.0.0.1:8443" }),
		"broken base URL": with(func(c *Config) { c.BaseURL = "https://" }),
	}
	for name, cfg := range bad {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}
