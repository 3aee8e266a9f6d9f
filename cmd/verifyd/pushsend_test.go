package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/internal/verifytest"
)

// pushFake plays APNs (HTTP/2 only), FCM and Google's token endpoint on one
// TLS loopback server, answering pushes from a script.
type pushFake struct {
	srv    *httptest.Server
	mu     sync.Mutex
	pushes []pushSeen
	script []string // "429", "503" (Retry-After 3 on APNs, 1 on FCM), "410", "404", "block" (3 s, then 200); then 200
}

type pushSeen struct {
	Path   string
	Proto  int
	Header http.Header
	Body   map[string]any
	// Peer is the client certificate chain presented, if any (APNs
	// certificate mode).
	Peer []*x509.Certificate
}

func newPushFake(t *testing.T) (*pushFake, string) {
	f := &pushFake{}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.EnableHTTP2 = true
	// Asked for, not required: token mode and FCM present none.
	f.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	ca := filepath.Join(t.TempDir(), "fake-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f, ca
}

func (f *pushFake) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/token" {
		if r.FormValue("grant_type") == "" && !strings.Contains(string(raw), "grant_type=urn") {
			http.Error(w, "no grant", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"test-token","expires_in":3599,"token_type":"Bearer"}`)
		return
	}
	apns := strings.HasPrefix(r.URL.Path, "/3/device/")
	if apns && r.ProtoMajor != 2 {
		http.Error(w, "HTTP/2 only", http.StatusHTTPVersionNotSupported)
		return
	}
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	step := ""
	if len(f.script) > 0 {
		step, f.script = f.script[0], f.script[1:]
	}
	seen := pushSeen{Path: r.URL.Path, Proto: r.ProtoMajor, Header: r.Header.Clone(), Body: body}
	if r.TLS != nil {
		seen.Peer = r.TLS.PeerCertificates
	}
	f.pushes = append(f.pushes, seen)
	f.mu.Unlock()
	switch step {
	case "block":
		// Slow, then delivered: a failure here would be retried later
		// and arrive among the next pushes.
		time.Sleep(3 * time.Second)
		w.Header().Set("apns-id", "eabeae54-14a8-11e5-b60b-1697f925ec7b")
	case "429":
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"reason":"TooManyRequests"}`)
	case "503":
		if !apns { // FCM: Google's error body, back in a second
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}`)
			return
		}
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"reason":"ServiceUnavailable"}`)
	case "410":
		w.WriteHeader(http.StatusGone)
		io.WriteString(w, `{"reason":"Unregistered","timestamp":1764748800000}`)
	case "404":
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"code":404,"message":"not found","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`)
	default:
		if apns {
			w.Header().Set("apns-id", "eabeae54-14a8-11e5-b60b-1697f925ec7b")
			return
		}
		io.WriteString(w, `{"name":"projects/verifyd-test/messages/1"}`)
	}
}

func (f *pushFake) setScript(s ...string) {
	f.mu.Lock()
	f.script = s
	f.mu.Unlock()
}

func (f *pushFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pushes)
}

// wait returns the n-th push (from 1), failing after 10 s.
func (f *pushFake) wait(t *testing.T, n int) pushSeen {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		f.mu.Lock()
		if len(f.pushes) >= n {
			p := f.pushes[n-1]
			f.mu.Unlock()
			return p
		}
		f.mu.Unlock()
	}
	t.Fatalf("push %d never arrived (%d arrived)", n, f.count())
	return pushSeen{}
}

// TestPushDelivery runs a real verifyd serve against the fakes: challenges
// on APNs and FCM factors reach them with the right request; APNs 429 and
// FCM 503 UNAVAILABLE are retried and then delivered; 410 and UNREGISTERED mark the token dead, and
// the next challenge sends nothing until the device sends a new token; a
// Notification re-sends; an APNs that does not answer does not slow the
// API.
func TestPushDelivery(t *testing.T) { forEachBackend(t, testPushDelivery) }

func testPushDelivery(t *testing.T, db string) {
	fake, ca := newPushFake(t)
	env := accountEnv(testAccount, testToken)
	env["SSL_CERT_FILE"], env["VERIFYD_APNS_URL"], env["VERIFYD_FCM_URL"] = ca, fake.srv.URL, fake.srv.URL
	s := startServer(t, db, env)
	c := twilioClient(t, s, testAccount, testToken)

	status, body := postForm(t, nil, s.base+"/v1/Credentials", url.Values{"Type": {"apn"}, "FriendlyName": {"ios"},
		"PrivateKey": {p8Key(t)}, "KeyId": {"ABC123DEFG"}, "TeamId": {"TEAM123456"}})
	if status != 201 {
		t.Fatalf("apn credential: %d %s", status, body)
	}
	var apn, fcm struct{ Sid string }
	_ = json.Unmarshal([]byte(body), &apn)
	var sa map[string]string
	_ = json.Unmarshal([]byte(serviceAccountJSON(t)), &sa)
	sa["token_uri"] = fake.srv.URL + "/token"
	saJSON, _ := json.Marshal(sa)
	status, body = postForm(t, nil, s.base+"/v1/Credentials", url.Values{"Type": {"fcm"}, "Secret": {string(saJSON)}})
	if status != 201 {
		t.Fatalf("fcm credential: %d %s", status, body)
	}
	_ = json.Unmarshal([]byte(body), &fcm)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Push").
		SetPushApnCredentialSid(apn.Sid).SetPushFcmCredentialSid(fcm.Sid))
	if err != nil {
		t.Fatal(err)
	}
	VA := *svc.Sid

	enroll := func(identity, platform, token string) *rawDevice {
		t.Helper()
		at, err := c.CreateAccessToken(VA, new(openapi.CreateAccessTokenParams).SetIdentity(identity).SetFactorType("push"))
		if err != nil {
			t.Fatal(err)
		}
		key, pub := verifytest.DeviceKey(t)
		e := "/v2/Services/" + VA + "/Entities/" + identity
		form := pushForm("device", pub, platform)
		form.Set("Config.NotificationToken", token)
		resp, b := deviceCall(t, s, "POST", e+"/Factors", *at.Token, form)
		if resp.StatusCode != 201 {
			t.Fatalf("enroll: %d %v", resp.StatusCode, b)
		}
		d := &rawDevice{key: key, account: b["account_sid"].(string), cred: b["config"].(map[string]any)["credential_sid"].(string),
			sid: b["sid"].(string), service: VA, identity: identity, e: e}
		resp, b = deviceCall(t, s, "POST", e+"/Factors/"+d.sid, d.jwt(t, time.Now()), url.Values{"AuthPayload": {verifytest.SignSid(t, key, d.sid)}})
		if resp.StatusCode != 200 {
			t.Fatalf("verify: %d %v", resp.StatusCode, b)
		}
		return d
	}
	challenge := func(d *rawDevice) string {
		t.Helper()
		start := time.Now()
		ch, err := c.CreateChallenge(VA, d.identity, new(openapi.CreateChallengeParams).SetFactorSid(d.sid).SetDetailsMessage("Log in to Example?"))
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("create challenge took %v", took)
		}
		return *ch.Sid
	}

	token := strings.Repeat("ab", 32)
	ios := enroll("alice-0001", "apn", token)
	yc := challenge(ios)
	p := fake.wait(t, 1)
	if p.Proto != 2 || p.Path != "/3/device/"+token || p.Header.Get("apns-topic") != "com.example.app" ||
		p.Header.Get("apns-push-type") != "alert" || p.Header.Get("apns-priority") != "10" || p.Header.Get("apns-collapse-id") != yc ||
		!strings.HasPrefix(p.Header.Get("Authorization"), "bearer ") {
		t.Fatalf("APNs request %s HTTP/%d %v", p.Path, p.Proto, p.Header)
	}
	if p.Body["challenge_sid"] != yc || p.Body["factor_sid"] != ios.sid || p.Body["type"] != "verify_push_challenge" || p.Body["message"] != "Log in to Example?" {
		t.Fatalf("APNs payload %v", p.Body)
	}

	// The re-send, for real.
	resp, b := request(t, s, "POST", ios.e+"/Challenges/"+yc+"/Notifications", testAccount, testToken, url.Values{"Ttl": {"60"}})
	if resp.StatusCode != 201 {
		t.Fatalf("notification: %d %v", resp.StatusCode, b)
	}
	if p := fake.wait(t, 2); p.Header.Get("apns-collapse-id") != yc || p.Body["challenge_sid"] != yc {
		t.Fatalf("re-send %v %v", p.Header, p.Body)
	}

	// 429, then delivered on the retry (the push schedule's first retry is
	// 1 s on, as the 429's Retry-After asks).
	fake.setScript("429")
	challenge(ios)
	fake.wait(t, 3)
	fake.wait(t, 4)

	// An APNs that takes 3 s to answer does not slow the API (challenge
	// checks that it answers within a second).
	fake.setScript("block")
	challenge(ios)
	fake.wait(t, 5)

	// 410: the token is dead; the next challenge sends nothing.
	fake.setScript("410")
	challenge(ios)
	fake.wait(t, 6)
	time.Sleep(time.Second) // the outcome is recorded after the answer
	challenge(ios)
	time.Sleep(1500 * time.Millisecond)
	if n := fake.count(); n != 6 {
		t.Fatalf("%d pushes after the token died, want 6", n)
	}
	// The device sends a new token: pushes again.
	fresh := strings.Repeat("cd", 32)
	resp, b = deviceCall(t, s, "POST", ios.e+"/Factors/"+ios.sid, ios.jwt(t, time.Now()), url.Values{"Config.NotificationToken": {fresh}})
	if resp.StatusCode != 200 {
		t.Fatalf("new token: %d %v", resp.StatusCode, b)
	}
	challenge(ios)
	if p := fake.wait(t, 7); p.Path != "/3/device/"+fresh {
		t.Fatalf("after the new token: %s", p.Path)
	}

	// FCM, with the fake's OAuth token; UNREGISTERED kills the token.
	android := enroll("bob-00000001", "fcm", strings.Repeat("f", 100))
	yc = challenge(android)
	p = fake.wait(t, 8)
	msg, _ := p.Body["message"].(map[string]any)
	data, _ := msg["data"].(map[string]any)
	if p.Path != "/v1/projects/verifyd-test/messages:send" || p.Header.Get("Authorization") != "Bearer test-token" || data["challenge_sid"] != yc {
		t.Fatalf("FCM request %s %v %v", p.Path, p.Header.Get("Authorization"), p.Body)
	}
	// FCM UNAVAILABLE (503, Retry-After 1 s), then the retry is delivered:
	// exactly two requests for the challenge (a third would shift every
	// count below).
	fake.setScript("503")
	yc = challenge(android)
	for n := 9; n <= 10; n++ {
		p := fake.wait(t, n)
		msg, _ := p.Body["message"].(map[string]any)
		if data, _ := msg["data"].(map[string]any); data["challenge_sid"] != yc {
			t.Fatalf("FCM request %d: %v, want challenge %s", n, p.Body, yc)
		}
	}
	fake.setScript("404")
	challenge(android)
	fake.wait(t, 11)
	time.Sleep(time.Second)
	challenge(android)
	time.Sleep(1500 * time.Millisecond)
	if n := fake.count(); n != 11 {
		t.Fatalf("%d pushes after the FCM token died, want 11", n)
	}

	// APNs is unavailable (503, retry in 3 s) and the user approves the
	// challenge meanwhile: when APNs is back, no push goes out for it
	// (delivery.md §8 step 1).
	fake.setScript("503")
	yc = challenge(ios)
	fake.wait(t, 12)
	resp, b = deviceCall(t, s, "GET", ios.e+"/Challenges/"+yc, ios.jwt(t, time.Now()), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET challenge: %d %v", resp.StatusCode, b)
	}
	fields := resp.Header.Get("Twilio-Verify-Signature-Fields")
	resp, b = deviceCall(t, s, "POST", ios.e+"/Challenges/"+yc, ios.jwt(t, time.Now()), url.Values{"AuthPayload": {answer(t, ios.key, b, fields, "approved")}})
	if resp.StatusCode != 200 || b["status"] != "approved" {
		t.Fatalf("approve: %d %v", resp.StatusCode, b)
	}
	time.Sleep(5 * time.Second) // past the retry at 3 s (+ up to 20% jitter)
	if n := fake.count(); n != 12 {
		t.Fatalf("%d pushes after the challenge was approved, want 12", n)
	}
}
