package apns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify/jws"
)

// Test identities. The key and certificates are generated per test run;
// no real key is ever committed.
const (
	testKeyID  = "ABC123DEFG"
	testTeamID = "DEF123GHIJ"
	testTopic  = "com.example.verifydemo"
	testToken  = "8e0b1f0c9f3a4d6e7b2c5a1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"
	testCSid   = "YC0123456789abcdef0123456789abcdef"
	testFSid   = "YF0123456789abcdef0123456789abcdef"
	testAPNsID = "eabeae54-14a8-11e5-b60b-1697f925ec7b"
)

// testT0 is the fixed start of every test clock.
var testT0 = time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)

// clock is an injectable clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testT0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// seen is one request as the fake APNs received it.
type seen struct {
	ProtoMajor int
	Method     string
	Path       string
	Header     http.Header
	Body       []byte
	JWT        string // the bearer token, "" in certificate mode
	Kid        string
	Claims     tokenClaims
	RemoteAddr string
	PeerCN     string // the client certificate's CN, certificate mode
}

// reply is the fake's scripted answer to one request.
type reply struct {
	Status     int
	Reason     string
	Timestamp  int64 // ms, sent with 410
	RetryAfter string
	Block      time.Duration // wait this long before answering
}

// fakeAPNs is Apple's provider API as far as this package uses it, over
// HTTP/2 and TLS on loopback (delivery.md §10.1).
type fakeAPNs struct {
	t   testing.TB
	srv *httptest.Server
	pub *ecdsa.PublicKey // token mode: verifies the provider JWT
	now func() time.Time

	mu      sync.Mutex
	reqs    []seen
	counted int // requests not kept because of forget, for the benchmark
	forget  bool
	script  func(i int) reply // answer to the i-th request (from 0); nil means 200
}

// newFake starts a fake APNs. With pub set it requires a provider token
// signed by that key; with clientCAs set it requires a client certificate
// issued by them.
func newFake(t testing.TB, pub *ecdsa.PublicKey, clientCAs *x509.CertPool, now func() time.Time) *fakeAPNs {
	t.Helper()
	f := &fakeAPNs{t: t, pub: pub, now: now}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.EnableHTTP2 = true
	if clientCAs != nil {
		f.srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// roots trusts the fake's certificate, for Config.TLS.
func (f *fakeAPNs) roots() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(f.srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

func (f *fakeAPNs) setScript(s func(i int) reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = s
}

func (f *fakeAPNs) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fakeAPNs) serve(w http.ResponseWriter, r *http.Request) {
	// APNs speaks HTTP/2 only; this is what catches a client that fell
	// back to HTTP/1.1.
	if r.ProtoMajor != 2 {
		w.WriteHeader(http.StatusHTTPVersionNotSupported)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("fake: read body: %v", err)
	}
	s := seen{ProtoMajor: r.ProtoMajor, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, RemoteAddr: r.RemoteAddr}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		s.PeerCN = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	if f.pub != nil {
		f.checkJWT(r, &s)
	}
	f.mu.Lock()
	i := len(f.reqs) + f.counted
	if f.forget {
		f.counted++
	} else {
		f.reqs = append(f.reqs, s)
	}
	script := f.script
	f.mu.Unlock()

	rep := reply{Status: http.StatusOK}
	if script != nil {
		rep = script(i)
	}
	if rep.Block > 0 {
		select {
		case <-time.After(rep.Block):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("apns-id", testAPNsID)
	if rep.RetryAfter != "" {
		w.Header().Set("Retry-After", rep.RetryAfter)
	}
	if rep.Status == http.StatusOK {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.Status)
	m := map[string]any{"reason": rep.Reason}
	if rep.Timestamp != 0 {
		m["timestamp"] = rep.Timestamp
	}
	_ = json.NewEncoder(w).Encode(m)
}

// checkJWT verifies the bearer provider token as APNs would: ES256 by the
// team's key, kid and iss, and an iat within the last hour.
func (f *fakeAPNs) checkJWT(r *http.Request, s *seen) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "bearer ")
	if !ok {
		f.t.Errorf("fake: authorization %q, want bearer <jwt>", auth)
		return
	}
	s.JWT = tok
	parsed, err := jws.Parse(tok)
	if err != nil {
		f.t.Errorf("fake: parse provider token: %v", err)
		return
	}
	if err := parsed.VerifyES256(f.pub); err != nil {
		f.t.Errorf("fake: provider token: %v", err)
	}
	s.Kid = parsed.Header.Kid
	if err := json.Unmarshal(parsed.Payload, &s.Claims); err != nil {
		f.t.Errorf("fake: provider token claims: %v", err)
	}
	iat := time.Unix(s.Claims.Iat, 0)
	if now := f.now(); iat.After(now) || now.Sub(iat) >= time.Hour {
		f.t.Errorf("fake: iat %v is not within the hour before %v", iat, now)
	}
}

// newSigningKey returns a fresh P-256 key and its .p8 file contents.
func newSigningKey(t testing.TB) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// testCA is a throwaway certificate authority for client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "verifyd test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// clientCert issues a TLS client certificate named cn, as Apple issues a
// push certificate for a bundle ID.
func (ca *testCA) clientCert(t testing.TB, cn string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tokenClient starts a token-mode fake and a Client for it.
func tokenClient(t *testing.T, clk *clock) (*Client, *fakeAPNs) {
	t.Helper()
	key, _ := newSigningKey(t)
	f := newFake(t, &key.PublicKey, nil, clk.Now)
	c, err := New(Config{BaseURL: f.srv.URL, SigningKey: key, KeyID: testKeyID, TeamID: testTeamID, Now: clk.Now, TLS: f.roots()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, f
}

// testNotification is a challenge push whose challenge expires in 5 min.
func testNotification() Notification {
	return Notification{
		DeviceToken:  testToken,
		Topic:        testTopic,
		ChallengeSid: testCSid,
		FactorSid:    testFSid,
		Message:      "Login request from Chrome",
		TTL:          MaxTTL,
		Expiration:   testT0.Add(5 * time.Minute),
	}
}
