package fcm

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is one RSA-2048 key for the whole package run; generating one per
// test would dominate the run time on a shared machine.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

const (
	testProject = "verifyd-test"
	testEmail   = "fcm-sender@verifyd-test.iam.gserviceaccount.com"
	testKeyID   = "0123456789abcdef0123456789abcdef01234567"
)

// clock is a settable clock shared by the client and the fakes.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fake is one TLS loopback server playing both Google's token endpoint
// (/token) and FCM (/v1/projects/{project}/messages:send).
type fake struct {
	t     testing.TB
	srv   *httptest.Server
	clock *clock

	// Set before the first request.
	expiresIn   int           // the token lifetime the token endpoint grants
	tokenDelay  time.Duration // how long the token endpoint takes
	tokenStatus int           // if not 0, the token endpoint fails with it
	// reply, if set, answers the nth (from 1) send that carried a valid
	// token instead of the default 200.
	reply func(n int, w http.ResponseWriter)
	// discard keeps the bodies from piling up in a benchmark.
	discard bool

	mu         sync.Mutex
	tokenCalls int
	sendCalls  int // sends with a valid token
	refused    int // sends refused with 401 for a bad token
	valid      map[string]bool
	bodies     []string
}

func newFake(t testing.TB) *fake {
	f := &fake{t: t, clock: newClock(), expiresIn: 3599, valid: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", f.token)
	mux.HandleFunc("/v1/", f.send)
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// serviceAccount is a key file as Google issues it, pointing at the fake.
func (f *fake) serviceAccount() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(testKey())
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     testProject,
		"private_key_id": testKeyID,
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   testEmail,
		"client_id":      "123456789012345678901",
		"auth_uri":       "https://accounts.google.com/o/oauth2/auth",
		"token_uri":      f.srv.URL + "/token",
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fake) client() *Client {
	c, err := New(Config{
		ServiceAccount: f.serviceAccount(),
		BaseURL:        f.srv.URL,
		HTTPClient:     f.srv.Client(),
		Now:            f.clock.Now,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// revoke makes FCM refuse every token issued so far.
func (f *fake) revoke() {
	f.mu.Lock()
	clear(f.valid)
	f.mu.Unlock()
}

func (f *fake) counts() (tokenCalls, sendCalls, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls, f.sendCalls, f.refused
}

func (f *fake) token(w http.ResponseWriter, r *http.Request) {
	if f.tokenDelay > 0 {
		time.Sleep(f.tokenDelay)
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		f.t.Errorf("token endpoint: %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("token endpoint: %v", err)
	}
	if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		f.t.Errorf("grant_type = %q", g)
	}
	if err := f.checkAssertion(r.PostForm.Get("assertion")); err != nil {
		f.t.Errorf("assertion: %v", err)
		http.Error(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.tokenCalls++
	tok := fmt.Sprintf("ya29.test-token-%d", f.tokenCalls)
	f.valid[tok] = true
	status := f.tokenStatus
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid grant: account not found"}`)
		return
	}
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":%d,"token_type":"Bearer"}`, tok, f.expiresIn)
}

// checkAssertion verifies the JWT-bearer assertion as Google does: RS256
// over the service account's public key, then the claims.
func (f *fake) checkAssertion(jwt string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%d parts", len(parts))
	}
	var header struct{ Alg, Typ, Kid string }
	var claims struct {
		Iss, Scope, Aud string
		Iat, Exp        int64
	}
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, v); err != nil {
			return err
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&testKey().PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return err
	}
	now := f.clock.Now().Unix()
	switch {
	case header.Alg != "RS256" || header.Typ != "JWT" || header.Kid != testKeyID:
		return fmt.Errorf("header %+v", header)
	case claims.Iss != testEmail:
		return fmt.Errorf("iss %q", claims.Iss)
	case claims.Scope != "https://www.googleapis.com/auth/firebase.messaging":
		return fmt.Errorf("scope %q", claims.Scope)
	case claims.Aud != f.srv.URL+"/token":
		return fmt.Errorf("aud %q, want the token_uri", claims.Aud)
	case claims.Iat > now || claims.Iat < now-60:
		return fmt.Errorf("iat %d, now %d", claims.Iat, now)
	case claims.Exp <= now || claims.Exp-claims.Iat > 3600:
		return fmt.Errorf("exp %d, iat %d, now %d", claims.Exp, claims.Iat, now)
	}
	return nil
}

func (f *fake) send(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/projects/"+testProject+"/messages:send" {
		f.t.Errorf("FCM: %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("FCM: Content-Type %q", ct)
	}
	body, _ := io.ReadAll(r.Body)
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	if !ok || !f.valid[tok] {
		f.refused++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
		return
	}
	f.sendCalls++
	n := f.sendCalls
	if !f.discard {
		f.bodies = append(f.bodies, string(body))
	}
	reply := f.reply
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if reply != nil {
		reply(n, w)
		return
	}
	fmt.Fprintf(w, `{"name":"projects/%s/messages/%d"}`, testProject, n)
}

// fcmError writes FCM's error body with an FcmError detail.
func fcmError(w http.ResponseWriter, code int, status, errorCode string, extra ...string) {
	w.WriteHeader(code)
	details := fmt.Sprintf(`{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":%q}`, errorCode)
	for _, e := range extra {
		details += "," + e
	}
	fmt.Fprintf(w, `{"error":{"code":%d,"message":"scripted %s","status":%q,"details":[%s]}}`, code, errorCode, status, details)
}
