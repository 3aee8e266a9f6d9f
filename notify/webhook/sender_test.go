package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/notify/webhook"
	"github.com/verifyd/verify/sqlstore"
)

const (
	token   = "0123456789abcdef0123456789abcdef"
	account = verify.Sid("AC0123456789abcdef0123456789abcdef")
)

// request is what the receiver got, after validating it.
type request struct {
	form  url.Values
	valid bool
}

// receiver is a webhook endpoint on loopback that validates every request
// with twilio-go's RequestValidator, as a Twilio customer's backend does.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []request
	respond func(n int, w http.ResponseWriter) // nil answers 200
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		form, err := url.ParseQuery(string(body))
		if err != nil {
			t.Errorf("body: %v", err)
		}
		v := client.NewRequestValidator(token)
		params := map[string]string{}
		for k := range form {
			params[k] = form.Get(k)
		}
		valid := v.Validate(r.url(), params, req.Header.Get("X-Twilio-Signature")) &&
			req.Method == http.MethodPost &&
			req.Header.Get("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8"
		r.mu.Lock()
		r.got = append(r.got, request{form: form, valid: valid})
		n := len(r.got)
		r.mu.Unlock()
		if r.respond != nil {
			r.respond(n, w)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hooks?key=a;b" }

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

func payload(t *testing.T, rawURL string) []byte {
	t.Helper()
	b, err := json.Marshal(verify.WebhookPayload{URL: rawURL, Account: account, Params: map[string]string{
		"type": "challenge.approved", "account_sid": string(account), "challenge_details": `{"message":"Login; ok"}`,
		"factor_friendly_name": "John's Phone",
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func goodToken(context.Context, verify.Sid) (string, error) { return token, nil }

func fixedNow() time.Time { return time.Date(2023, 11, 14, 22, 14, 2, 0, time.UTC) }

// TestSendSigned: the request is a form POST that twilio-go's validator
// accepts, with the payload's parameters, the row ID as uuid and sent_at.
func TestSendSigned(t *testing.T) {
	r := newReceiver(t)
	s := webhook.NewSender(goodToken, fixedNow, false)
	err := s.Send(context.Background(), notify.Message{ID: "6f1e8c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b", Payload: payload(t, r.url())})
	if err != nil {
		t.Fatal(err)
	}
	got := r.requests()
	if len(got) != 1 || !got[0].valid {
		t.Fatalf("requests: %+v", got)
	}
	f := got[0].form
	want := map[string]string{"uuid": "6f1e8c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "sent_at": "2023-11-14T22:14:02Z",
		"type": "challenge.approved", "challenge_details": `{"message":"Login; ok"}`, "factor_friendly_name": "John's Phone",
		"account_sid": string(account)}
	if len(f) != len(want) {
		t.Fatalf("parameters %v, want %v", f, want)
	}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v)
		}
	}
	// Another token's signature is refused by the same validator.
	bad := webhook.NewSender(func(context.Context, verify.Sid) (string, error) { return "other", nil }, fixedNow, false)
	if err := bad.Send(context.Background(), notify.Message{ID: "x", Payload: payload(t, r.url())}); err != nil {
		t.Fatal(err)
	}
	if got := r.requests(); got[1].valid {
		t.Fatal("a request signed with another token validated")
	}
}

// isPermanent reports whether the worker would give up on err at once.
func isPermanent(t *testing.T, err error) bool { return notify.IsPermanent(err) }

// TestSendOutcomes: 2xx succeeds; 3xx is not followed and fails; other
// 4xx fail for good; 408, 429 and 5xx fail to be retried; no signing
// token sends nothing.
func TestSendOutcomes(t *testing.T) {
	followed := false
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	tests := []struct {
		status    int
		ok, final bool
	}{
		{204, true, false},
		{302, false, false},
		{400, false, true},
		{410, false, true},
		{408, false, false},
		{429, false, false},
		{500, false, false},
		{503, false, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			r := newReceiver(t)
			r.respond = func(_ int, w http.ResponseWriter) {
				if tt.status == 302 {
					w.Header().Set("Location", target.URL)
				}
				w.WriteHeader(tt.status)
			}
			err := webhook.NewSender(goodToken, fixedNow, false).Send(context.Background(), notify.Message{ID: "u", Payload: payload(t, r.url())})
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil && isPermanent(t, err) != tt.final {
				t.Fatalf("%v: permanent %v, want %v", err, !tt.final, tt.final)
			}
			if len(r.requests()) != 1 {
				t.Fatalf("%d requests", len(r.requests()))
			}
		})
	}
	if followed {
		t.Fatal("a redirect was followed")
	}

	r := newReceiver(t)
	noToken := func(context.Context, verify.Sid) (string, error) {
		return "", &verify.Error{Code: verify.EInternal, Err: verify.ErrNoSigningToken}
	}
	err := webhook.NewSender(noToken, fixedNow, false).Send(context.Background(), notify.Message{ID: "u", Payload: payload(t, r.url())})
	if err == nil || isPermanent(t, err) || !strings.Contains(err.Error(), "no signing token") {
		t.Fatalf("without a signing token: %v", err)
	}
	if len(r.requests()) != 0 {
		t.Fatal("sent without a signing token")
	}
}

// TestSendTimeout: a receiver that does not answer fails the attempt when
// its context ends, with a short error that does not quote the URL.
func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	r := newReceiver(t)
	r.respond = func(int, http.ResponseWriter) { <-release }
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := webhook.NewSender(goodToken, fixedNow, false).Send(ctx, notify.Message{ID: "u", Payload: payload(t, r.url())})
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	if strings.Contains(err.Error(), "key=") || strings.Contains(err.Error(), "127.0.0.1") && strings.Contains(err.Error(), "/hooks") {
		t.Fatalf("error quotes the URL: %v", err)
	}
}

// TestSendRefusedTargets: link-local and metadata addresses are refused
// when dialling, whatever the URL says, without a retry; with publicOnly
// loopback is refused too, also when a name (localhost) resolves to it.
func TestSendRefusedTargets(t *testing.T) {
	r := newReceiver(t)
	port := r.srv.URL[strings.LastIndex(r.srv.URL, ":"):]
	for _, tt := range []struct {
		url        string
		publicOnly bool
	}{
		{"http://169.254.169.254/latest/meta-data/", false},
		{"http://[fe80::1]" + port + "/", false},
		{"http://100.100.100.200/", false},
		{"http://127.0.0.1" + port + "/hooks", true},
		{"http://localhost" + port + "/hooks", true},
	} {
		err := webhook.NewSender(goodToken, fixedNow, tt.publicOnly).Send(context.Background(), notify.Message{ID: "u", Payload: payload(t, tt.url)})
		if err == nil || !strings.Contains(err.Error(), "target refused") || !isPermanent(t, err) {
			t.Errorf("%s (publicOnly %v): %v", tt.url, tt.publicOnly, err)
		}
	}
	if n := len(r.requests()); n != 0 {
		t.Fatalf("%d requests reached the receiver", n)
	}
	// Loopback is allowed by default.
	if err := webhook.NewSender(goodToken, fixedNow, false).Send(context.Background(), notify.Message{ID: "u", Payload: payload(t, r.url())}); err != nil {
		t.Fatal(err)
	}
}

// TestRetrySameUUID: through the worker, a receiver that answers 503 then
// 200 gets the event twice, with the same uuid, a new sent_at and a valid
// signature each time.
func TestRetrySameUUID(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		r := newReceiver(t)
		r.respond = func(n int, w http.ResponseWriter) {
			if n == 1 {
				w.WriteHeader(503)
			}
		}
		db, err := sqlstore.Open(context.Background(), dsn, bytes.Repeat([]byte{1}, 32))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		now := time.Now()
		if err := db.EnqueueOutbox(context.Background(), &verify.OutboxMessage{ID: "9b2d6c1e-0000-4000-8000-000000000001", Kind: verify.OutboxWebhook,
			Payload: payload(t, r.url()), NextAttempt: now, Deadline: now.Add(time.Hour), DateCreated: now}); err != nil {
			t.Fatal(err)
		}
		w := &notify.Worker{Store: db, Now: time.Now, Poll: 20 * time.Millisecond, Schedule: []time.Duration{1100 * time.Millisecond},
			Jitter:  func(time.Duration) time.Duration { return 0 },
			Senders: map[verify.OutboxKind]notify.Sender{verify.OutboxWebhook: webhook.NewSender(goodToken, time.Now, false)}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = w.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(10 * time.Second)
		for len(r.requests()) < 2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		got := r.requests()
		if len(got) != 2 {
			t.Fatalf("%d requests", len(got))
		}
		a, b := got[0].form, got[1].form
		if !got[0].valid || !got[1].valid || a.Get("uuid") != b.Get("uuid") || a.Get("uuid") != "9b2d6c1e-0000-4000-8000-000000000001" || a.Get("sent_at") == b.Get("sent_at") {
			t.Fatalf("first %v (valid %v), second %v (valid %v)", a, got[0].valid, b, got[1].valid)
		}
	})
}
