package push

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify"
)

const (
	token     = "8e0b1f0c9f3a4d6e7b2c5a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"
	challenge = verify.Sid("YC0123456789abcdef0123456789abcdef")
	factor    = verify.Sid("YF0123456789abcdef0123456789abcdef")
	apnCred   = verify.Sid("CR00000000000000000000000000000001")
	fcmCred   = verify.Sid("CR00000000000000000000000000000002")
)

// store holds the credentials and records KillPushToken; the SQL of the
// compare-and-swap is tested in sqlstore.
type store struct {
	mu     sync.Mutex
	creds  map[verify.Sid]*verify.PushCredential
	killed []string
	// status is the challenge's stored status; empty reads as pending,
	// "gone" as deleted.
	status verify.ChallengeStatus
	// challengeReads counts FindChallenge calls.
	challengeReads int
}

func (s *store) FindChallenge(_ context.Context, entity, sid verify.Sid) (*verify.Challenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.challengeReads++
	if sid != challenge || s.status == "gone" {
		return nil, verify.Errorf(verify.ENotFound, "no challenge %s", sid)
	}
	st := s.status
	if st == "" {
		st = verify.ChallengePending
	}
	return &verify.Challenge{Sid: challenge, Status: st}, nil
}

func (s *store) OpenPushCredential(_ context.Context, sid verify.Sid) (*verify.PushCredential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[sid]
	if !ok {
		return nil, verify.Errorf(verify.ENotFound, "no credential %s", sid)
	}
	cp := *c
	return &cp, nil
}

func (s *store) FindFactor(_ context.Context, entity, sid verify.Sid) (*verify.Factor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sid != factor {
		return nil, verify.Errorf(verify.ENotFound, "no factor %s", sid)
	}
	return &verify.Factor{Sid: factor, Type: verify.FactorPush, Push: &verify.PushFactor{NotificationToken: token, TokenDead: len(s.killed) > 0}}, nil
}

func (s *store) KillPushToken(_ context.Context, f verify.Sid, tok string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killed = append(s.killed, string(f)+" "+tok)
	return true, nil
}

// fake plays APNs (HTTP/2 only) and FCM with its token endpoint on one
// TLS loopback server, answering from a script.
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	seen   []*http.Request
	bodies [][]byte
	script []int // statuses to answer, then 200
}

func newFake(t *testing.T) *fake {
	f := &fake{t: t}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.EnableHTTP2 = true
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/token" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"test-token","expires_in":3599,"token_type":"Bearer"}`)
		return
	}
	f.mu.Lock()
	f.seen = append(f.seen, r)
	f.bodies = append(f.bodies, body)
	status := http.StatusOK
	if len(f.script) > 0 {
		status, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/3/device/") {
		if r.ProtoMajor != 2 {
			http.Error(w, "HTTP/2 only", http.StatusHTTPVersionNotSupported)
			return
		}
		switch status {
		case http.StatusOK:
			w.Header().Set("apns-id", "eabeae54-14a8-11e5-b60b-1697f925ec7b")
		case http.StatusGone:
			w.WriteHeader(status)
			io.WriteString(w, `{"reason":"Unregistered","timestamp":1764748800000}`)
		default:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(status)
			io.WriteString(w, `{"reason":"TooManyRequests"}`)
		}
		return
	}
	switch status {
	case http.StatusOK:
		io.WriteString(w, `{"name":"projects/p/messages/1"}`)
	case http.StatusNotFound:
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`)
	default:
		w.Header().Set("Retry-After", "9")
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"code":503,"message":"unavailable","status":"UNAVAILABLE"}}`)
	}
}

func (f *fake) requests() ([]*http.Request, [][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen, f.bodies
}

func p8(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func serviceAccount(t *testing.T, tokenURI string) string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "p", "private_key_id": "kid1",
		"client_email": "sender@p.iam.gserviceaccount.com", "token_uri": tokenURI,
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	return string(b)
}

func setup(t *testing.T) (*Sender, *fake, *store, time.Time) {
	f := newFake(t)
	now := time.Now().UTC().Truncate(time.Second)
	st := &store{creds: map[verify.Sid]*verify.PushCredential{
		apnCred: {Sid: apnCred, Type: verify.CredentialAPN, KeyID: "KEY1234567", TeamID: "TEAM123456",
			Secret: &verify.CredentialSecret{PrivateKey: p8(t)}, DateUpdated: now},
		fcmCred: {Sid: fcmCred, Type: verify.CredentialFCM,
			Secret: &verify.CredentialSecret{ServiceAccount: serviceAccount(t, f.srv.URL+"/token")}, DateUpdated: now},
	}}
	pool := x509.NewCertPool()
	pool.AddCert(f.srv.Certificate())
	s := &Sender{Store: st, APNsURL: f.srv.URL, FCMURL: f.srv.URL, TLS: &tls.Config{RootCAs: pool}}
	return s, f, st, now
}

func message(t *testing.T, platform string, cred verify.Sid, now time.Time, ttl int) notify.Message {
	b, err := json.Marshal(verify.PushPayload{ChallengeSid: challenge, FactorSid: factor, Message: "Log in to Example?",
		Platform: platform, Token: token, AppID: "com.example.app", CredentialSid: cred,
		Expiration: now.Add(5 * time.Minute), TTL: ttl, Created: now})
	if err != nil {
		t.Fatal(err)
	}
	return notify.Message{ID: string(challenge), Kind: verify.OutboxPush, Ref: string(challenge), Payload: b, Attempt: 1}
}

// noSecrets fails if err's text carries the whole token or the message.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "Log in to")) {
		t.Fatalf("error carries the token or the message: %v", err)
	}
}

// TestAPNs: a push reaches the fake APNs over HTTP/2 with token auth, the
// right headers and payload; 429 is retried after its Retry-After; 410
// marks the token dead and is permanent.
func TestAPNs(t *testing.T) {
	s, f, st, now := setup(t)
	ctx := context.Background()
	if err := s.Send(ctx, message(t, "apn", apnCred, now, 300)); err != nil {
		t.Fatal(err)
	}
	reqs, bodies := f.requests()
	r := reqs[0]
	if r.ProtoMajor != 2 || r.Method != "POST" || r.URL.Path != "/3/device/"+token {
		t.Fatalf("request %s %s HTTP/%d", r.Method, r.URL.Path, r.ProtoMajor)
	}
	if r.Header.Get("apns-topic") != "com.example.app" || r.Header.Get("apns-push-type") != "alert" ||
		r.Header.Get("apns-priority") != "10" || r.Header.Get("apns-collapse-id") != string(challenge) {
		t.Fatalf("headers %v", r.Header)
	}
	if exp := r.Header.Get("apns-expiration"); exp == "" || exp == "0" {
		t.Fatalf("apns-expiration %q", exp)
	}
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "bearer ")
	hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(auth, ".")[0])
	if err != nil || !strings.Contains(string(hdr), `"kid":"KEY1234567"`) || !strings.Contains(string(hdr), `"ES256"`) {
		t.Fatalf("provider token header %s (%v)", hdr, err)
	}
	var body map[string]any
	if err := json.Unmarshal(bodies[0], &body); err != nil || body["challenge_sid"] != string(challenge) ||
		body["factor_sid"] != string(factor) || body["type"] != "verify_push_challenge" || body["message"] != "Log in to Example?" {
		t.Fatalf("payload %s (%v)", bodies[0], err)
	}

	// Ttl=0: one attempt, not stored.
	if err := s.Send(ctx, message(t, "apn", apnCred, now, 0)); err != nil {
		t.Fatal(err)
	}
	if reqs, _ := f.requests(); reqs[1].Header.Get("apns-expiration") != "0" {
		t.Fatalf("Ttl=0: apns-expiration %q, want 0", reqs[1].Header.Get("apns-expiration"))
	}

	f.script = []int{http.StatusTooManyRequests}
	err = s.Send(ctx, message(t, "apn", apnCred, now, 300))
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("429: %v, want a retry", err)
	}
	noSecrets(t, err)
	if err := s.Send(ctx, message(t, "apn", apnCred, now, 300)); err != nil {
		t.Fatalf("after the 429: %v", err)
	}

	f.script = []int{http.StatusGone}
	err = s.Send(ctx, message(t, "apn", apnCred, now, 300))
	if !notify.IsPermanent(err) || len(st.killed) != 1 || st.killed[0] != string(factor)+" "+token {
		t.Fatalf("410: %v, killed %v", err, st.killed)
	}
	noSecrets(t, err)
	if err := s.Send(ctx, message(t, "apn", apnCred, now, 300)); !notify.IsPermanent(err) {
		t.Fatalf("a row queued before the token died: %v, want permanent", err)
	}
	if reqs, _ := f.requests(); len(reqs) != 5 {
		t.Fatalf("%d requests, want 5: nothing sent to the dead token", len(reqs))
	}
}

// TestFCM: a push reaches the fake FCM with the fake OAuth token;
// UNAVAILABLE is retried with its Retry-After; UNREGISTERED marks the
// token dead.
func TestFCM(t *testing.T) {
	s, f, st, now := setup(t)
	ctx := context.Background()
	if err := s.Send(ctx, message(t, "fcm", fcmCred, now, 300)); err != nil {
		t.Fatal(err)
	}
	reqs, bodies := f.requests()
	if reqs[0].URL.Path != "/v1/projects/p/messages:send" || reqs[0].Header.Get("Authorization") != "Bearer test-token" {
		t.Fatalf("request %s, auth %q", reqs[0].URL.Path, reqs[0].Header.Get("Authorization"))
	}
	var body struct {
		Message struct {
			Token   string            `json:"token"`
			Data    map[string]string `json:"data"`
			Android map[string]string `json:"android"`
		} `json:"message"`
	}
	if err := json.Unmarshal(bodies[0], &body); err != nil || body.Message.Token != token || body.Message.Data["challenge_sid"] != string(challenge) ||
		body.Message.Android["priority"] != "HIGH" || body.Message.Android["collapse_key"] != string(challenge) || !strings.HasSuffix(body.Message.Android["ttl"], "s") {
		t.Fatalf("message %s (%v)", bodies[0], err)
	}

	f.script = []int{http.StatusServiceUnavailable}
	if err := s.Send(ctx, message(t, "fcm", fcmCred, now, 300)); err == nil || notify.IsPermanent(err) {
		t.Fatalf("503: %v, want a retry", err)
	}
	f.script = []int{http.StatusNotFound}
	err := s.Send(ctx, message(t, "fcm", fcmCred, now, 300))
	if !notify.IsPermanent(err) || len(st.killed) != 1 {
		t.Fatalf("UNREGISTERED: %v, killed %v", err, st.killed)
	}
	noSecrets(t, err)
}

// TestNothingSent: an expired challenge, a spent TTL, a missing or
// deleted credential are permanent failures with no request made.
func TestNothingSent(t *testing.T) {
	s, f, _, now := setup(t)
	ctx := context.Background()
	expired := message(t, "apn", apnCred, now.Add(-10*time.Minute), 300)
	spent := message(t, "apn", apnCred, now.Add(-time.Minute), 30)
	for name, m := range map[string]notify.Message{
		"expired":    expired,
		"ttl spent":  spent,
		"none named": message(t, "apn", "", now, 300),
		"deleted":    message(t, "apn", "CR00000000000000000000000000000009", now, 300),
		"wrong type": message(t, "fcm", apnCred, now, 300),
	} {
		if err := s.Send(ctx, m); !notify.IsPermanent(err) {
			t.Errorf("%s: %v, want permanent", name, err)
		}
	}
	if reqs, _ := f.requests(); len(reqs) != 0 {
		t.Fatalf("%d requests sent", len(reqs))
	}
}

// TestAnsweredNotSent: a challenge approved, denied, expired or deleted
// while its row waited gets no push (delivery.md §8 step 1): a permanent
// failure whose reason says so, with no request made and one challenge
// read per send; once pending again it is sent.
func TestAnsweredNotSent(t *testing.T) {
	s, f, st, now := setup(t)
	ctx := context.Background()
	for _, status := range []verify.ChallengeStatus{verify.ChallengeApproved, verify.ChallengeDenied, verify.ChallengeExpired, "gone"} {
		st.status = status
		err := s.Send(ctx, message(t, "apn", apnCred, now, 300))
		if !notify.IsPermanent(err) {
			t.Fatalf("%s: %v, want permanent", status, err)
		}
		want := "no longer pending"
		if status == "gone" {
			want = "deleted"
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "nothing sent") {
			t.Fatalf("%s: %v, want %q", status, err, want)
		}
		noSecrets(t, err)
	}
	if reqs, _ := f.requests(); len(reqs) != 0 {
		t.Fatalf("%d requests sent for answered challenges", len(reqs))
	}
	if st.challengeReads != 4 {
		t.Fatalf("%d challenge reads for 4 sends, want 4", st.challengeReads)
	}
	st.status = verify.ChallengePending
	if err := s.Send(ctx, message(t, "fcm", fcmCred, now, 300)); err != nil {
		t.Fatal(err)
	}
	if reqs, _ := f.requests(); len(reqs) != 1 {
		t.Fatalf("%d requests for a pending challenge, want 1", len(reqs))
	}
}

// TestCredentialUpdated: a client is kept per credential and rebuilt when
// the credential's content changes (here a new key ID), even within the
// second of the last update, when DateUpdated stays the same.
func TestCredentialUpdated(t *testing.T) {
	s, f, st, now := setup(t)
	ctx := context.Background()
	if err := s.Send(ctx, message(t, "apn", apnCred, now, 300)); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	st.creds[apnCred].KeyID = "NEWKEY0001"

	st.mu.Unlock()
	if err := s.Send(ctx, message(t, "apn", apnCred, now, 300)); err != nil {
		t.Fatal(err)
	}
	reqs, _ := f.requests()
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(strings.TrimPrefix(reqs[1].Header.Get("Authorization"), "bearer "), ".")[0])
	if !strings.Contains(string(hdr), "NEWKEY0001") {
		t.Fatalf("after the update the provider token's header is %s", hdr)
	}
}
