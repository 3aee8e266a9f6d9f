package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/notify/gateway"
)

var update = flag.Bool("update", false, "rewrite testdata/request.golden.json")

const (
	secret = "whsec-0123456789abcdef-SECRETMARK"
	code   = "924617"
	text   = "<#> Your Acme verification code is: 924617 TEXTMARK"
)

// now is the clock every test client signs with.
var now = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// got is one request the receiver saw.
type got struct {
	method, path string
	header       http.Header
	body         []byte
}

// receiver is a gateway on loopback that records what it is sent and
// answers with respond (200 and no body if nil).
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []got
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, got{r.Method, r.URL.Path, r.Header.Clone(), body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w, r)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []got {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]got(nil), rc.reqs...)
}

func newClient(t *testing.T, cfg gateway.Config) *gateway.Client {
	t.Helper()
	if cfg.Secret == "" && cfg.Template == nil {
		cfg.Secret = secret
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "verifyd/test"
	}
	c, err := gateway.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// fixedRequest is the request of the golden file: every field set.
func fixedRequest() gateway.Request {
	from, msid := "+15017122661", "MG2172dd2db502e20dd981ef0d67850e1a"
	return gateway.Request{
		AttemptSid:          "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		VerificationSid:     "VEbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		ServiceSid:          "VAcccccccccccccccccccccccccccccccc",
		AccountSid:          "ACdddddddddddddddddddddddddddddddd",
		Channel:             "call",
		To:                  "+15558675310",
		From:                &from,
		MessagingServiceSid: &msid,
		Country:             "US",
		Locale:              "en",
		Text:                text,
		Code:                code,
		FriendlyName:        "Acme & Co",
		TTLSeconds:          600,
		ExpiresAt:           now.Add(10 * time.Minute),
		Voice:               &gateway.Voice{SendDigits: "ww1234", RequireKeypress: true, TTSVoice: "alice", Repeat: 2},
		AppHash:             "FA+9qCX9VSu",
		Tags:                map[string]string{"campaign": "spring", "app": "ios"},
		// Not UTC: Send must write UTC.
		CreatedAt: now.In(time.FixedZone("CET", 3600)),
	}
}

func TestGoldenBodyHeadersSignature(t *testing.T) {
	rc := newReceiver(t, nil)
	c := newClient(t, gateway.Config{URL: rc.srv.URL + "/send?k=v", IncludeCode: true})
	if _, err := c.Send(context.Background(), fixedRequest()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if *update {
		if err := os.WriteFile("testdata/request.golden.json", r.body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile("testdata/request.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.body, golden) {
		t.Errorf("body differs from testdata/request.golden.json:\n got %s\nwant %s", r.body, golden)
	}
	if r.method != http.MethodPost || r.path != "/send" {
		t.Errorf("request %s %s, want POST /send", r.method, r.path)
	}
	for name, want := range map[string]string{
		"Content-Type":    "application/json",
		"User-Agent":      "verifyd/test",
		"Idempotency-Key": "VLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	} {
		if v := r.header.Get(name); v != want {
			t.Errorf("%s: %q, want %q", name, v, want)
		}
	}
	sig := r.header.Get("X-Verifyd-Signature")
	if !strings.HasPrefix(sig, "t=1741944413,v1=") {
		t.Errorf("X-Verifyd-Signature %q, want t=1741944413,v1=...", sig)
	}
	if err := gateway.Verify(secret, sig, r.body, now.Add(3*time.Second), time.Minute); err != nil {
		t.Errorf("Verify of the request as received: %v", err)
	}
	tampered := bytes.Replace(r.body, []byte("+15558675310"), []byte("+15558675311"), 1)
	if err := gateway.Verify(secret, sig, tampered, now, time.Minute); !errors.Is(err, gateway.ErrSignatureMismatch) {
		t.Errorf("Verify of a tampered body: %v, want ErrSignatureMismatch", err)
	}
	if err := gateway.Verify(secret+"x", sig, r.body, now, time.Minute); !errors.Is(err, gateway.ErrSignatureMismatch) {
		t.Errorf("Verify with another secret: %v, want ErrSignatureMismatch", err)
	}
	if err := gateway.Verify(secret, sig, r.body, now.Add(6*time.Minute), 5*time.Minute); !errors.Is(err, gateway.ErrSignatureTimestamp) {
		t.Errorf("Verify 6 minutes later: %v, want ErrSignatureTimestamp", err)
	}
}

func TestCodeOnlyWithIncludeCode(t *testing.T) {
	rc := newReceiver(t, nil)
	c := newClient(t, gateway.Config{URL: rc.srv.URL})
	if _, err := c.Send(context.Background(), fixedRequest()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	body := string(rc.requests()[0].body)
	if strings.Contains(body, `"code"`) {
		t.Errorf("body has a code without IncludeCode: %s", body)
	}
	if !strings.Contains(body, `"text":"<#> Your Acme`) {
		t.Errorf("body lacks the text, unescaped: %s", body)
	}
}

func TestResult(t *testing.T) {
	for _, tc := range []struct {
		name, status, body string
		code               int
		want               gateway.Result
	}{
		{"full", "", `{"message_id":"SM123","status":"queued","error_code":30008,"price":{"value":"0.0079","currency":"usd"}}`, 200,
			gateway.Result{MessageID: "SM123", Status: "queued", ErrorCode: 30008, Price: &gateway.Price{Value: "0.0079", Currency: "usd"}}},
		{"lenient types", "", `{"message_id":42,"status":"failed","error_code":"30003","price":{"value":0.05,"currency":"eur"}}`, 202,
			gateway.Result{MessageID: "42", Status: "failed", ErrorCode: 30003, Price: &gateway.Price{Value: "0.05", Currency: "eur"}}},
		{"empty", "", "", 204, gateway.Result{}},
		{"not JSON", "", "OK", 200, gateway.Result{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.code)
				io.WriteString(w, tc.body)
			})
			res, err := newClient(t, gateway.Config{URL: rc.srv.URL}).Send(context.Background(), fixedRequest())
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.MessageID != tc.want.MessageID || res.Status != tc.want.Status || res.ErrorCode != tc.want.ErrorCode ||
				(res.Price == nil) != (tc.want.Price == nil) || (res.Price != nil && *res.Price != *tc.want.Price) {
				t.Errorf("Result %+v (price %v), want %+v (price %v)", res, res.Price, tc.want, tc.want.Price)
			}
		})
	}
}

func TestRetryableThenSuccess(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"message_id":"SM1","status":"sent"}`)
	})
	c := newClient(t, gateway.Config{URL: rc.srv.URL})
	_, err := c.Send(context.Background(), fixedRequest())
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("first Send: %v, want a retryable error", err)
	}
	var se *gateway.StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 || se.RetryAfter < 7*time.Second {
		t.Errorf("first Send: %v (%+v), want a StatusError 503 with RetryAfter >= 7s", err, se)
	}
	res, err := c.Send(context.Background(), fixedRequest())
	if err != nil || res.MessageID != "SM1" {
		t.Errorf("second Send: %+v, %v; want SM1", res, err)
	}
	if n := len(rc.requests()); n != 2 {
		t.Errorf("receiver got %d requests, want 2", n)
	}
}

func TestStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		code      int
		permanent bool
	}{
		{400, true}, {401, true}, {404, true}, {422, true},
		{408, false}, {429, false}, {500, false}, {502, false}, {503, false},
	} {
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.code)
			io.WriteString(w, "echo: "+text+" "+code+" "+secret) // a careless gateway
		})
		_, err := newClient(t, gateway.Config{URL: rc.srv.URL, IncludeCode: true}).Send(context.Background(), fixedRequest())
		if err == nil || notify.IsPermanent(err) != tc.permanent {
			t.Errorf("HTTP %d: error %v, permanent %v; want permanent %v", tc.code, err, notify.IsPermanent(err), tc.permanent)
			continue
		}
		assertClean(t, err)
		var se *gateway.StatusError
		if !errors.As(err, &se) || se.StatusCode != tc.code {
			t.Errorf("HTTP %d: error %v is no StatusError with that code", tc.code, err)
		}
	}
}

// assertClean fails if err's text holds the secret, the code or the text.
func assertClean(t *testing.T, err error) {
	t.Helper()
	for _, mark := range []string{"SECRETMARK", "TEXTMARK", code} {
		if strings.Contains(err.Error(), mark) {
			t.Errorf("error %q contains %q", err, mark)
		}
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before rc.srv.Close
	c := newClient(t, gateway.Config{URL: rc.srv.URL, Timeout: 300 * time.Millisecond, IncludeCode: true})
	done := make(chan error, 1)
	go func() {
		_, err := c.Send(context.Background(), fixedRequest())
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(300*time.Millisecond + 2*time.Second):
		t.Fatal("Send still waiting 2 s after its 300 ms timeout")
	}
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("Send to a hanging gateway: %v, want a retryable error", err)
	}
	if !strings.Contains(err.Error(), "timeout") {
		t.Errorf("error %q does not say timeout", err)
	}
	assertClean(t, err)
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	_, err := newClient(t, gateway.Config{URL: url + "/?token=" + secret}).Send(context.Background(), fixedRequest())
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("Send to a closed port: %v, want a retryable error", err)
	}
	assertClean(t, err)
}

func TestRedirectNotFollowed(t *testing.T) {
	var hit atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit.Store(true) }))
	defer other.Close()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/stolen", http.StatusTemporaryRedirect)
	})
	// A client that would follow redirects: New must stop it.
	c := newClient(t, gateway.Config{URL: rc.srv.URL, Client: &http.Client{}})
	_, err := c.Send(context.Background(), fixedRequest())
	if err == nil {
		t.Fatal("Send answered by a 307: no error")
	}
	var se *gateway.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("error %v, want StatusError 307", err)
	}
	if hit.Load() {
		t.Error("the redirect was followed")
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("gateway got %d requests, want 1", n)
	}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  gateway.Config
	}{
		{"no URL", gateway.Config{Secret: secret}},
		{"relative URL", gateway.Config{URL: "/send", Secret: secret}},
		{"ftp URL", gateway.Config{URL: "ftp://example.com/", Secret: secret}},
		{"no secret", gateway.Config{URL: "http://127.0.0.1:1/"}},
		{"short secret", gateway.Config{URL: "http://127.0.0.1:1/", Secret: "0123456789abcde"}},
		{"negative timeout", gateway.Config{URL: "http://127.0.0.1:1/", Secret: secret, Timeout: -time.Second}},
		{"both URLs", gateway.Config{URL: "http://127.0.0.1:1/", Template: &gateway.Template{URL: "http://127.0.0.1:2/"}}},
	} {
		c, err := gateway.New(tc.cfg)
		if err == nil {
			t.Errorf("%s: New succeeded (%v)", tc.name, c)
			continue
		}
		if strings.Contains(err.Error(), "SECRETMARK") {
			t.Errorf("%s: error %q contains the secret", tc.name, err)
		}
	}
	if _, err := gateway.New(gateway.Config{URL: "https://gw.example/send", Secret: secret}); err != nil {
		t.Errorf("New with a valid config: %v", err)
	}
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
