package fcm

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewRejects(t *testing.T) {
	f := newFake(t)
	var good map[string]string
	if err := json.Unmarshal(f.serviceAccount(), &good); err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(mustEC(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		edit   func(m map[string]string)
		base   string
		errHas string
	}{
		{"no project_id", func(m map[string]string) { delete(m, "project_id") }, "", "project_id"},
		{"no client_email", func(m map[string]string) { delete(m, "client_email") }, "", "client_email"},
		{"no private_key", func(m map[string]string) { delete(m, "private_key") }, "", "private_key"},
		{"not PEM", func(m map[string]string) { m["private_key"] = "MIIEvQIBADANBg" }, "", "not PEM"},
		{"EC key", func(m map[string]string) {
			m["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
		}, "", "not an RSA key"},
		{"wrong type", func(m map[string]string) { m["type"] = "authorized_user" }, "", "type"},
		{"project with slash", func(m map[string]string) { m["project_id"] = "a/b" }, "", "project_id"},
		{"bad token_uri", func(m map[string]string) { m["token_uri"] = "file:///etc/passwd" }, "", "token_uri"},
		{"bad base URL", func(map[string]string) {}, "fcm.googleapis.com", "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range good {
				m[k] = v
			}
			tt.edit(m)
			b, _ := json.Marshal(m)
			_, err := New(Config{ServiceAccount: b, BaseURL: tt.base})
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("New = %v, want an error about %s", err, tt.errHas)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "MII") {
				t.Errorf("error quotes key material: %v", err)
			}
		})
	}
	if _, err := New(Config{ServiceAccount: []byte("{")}); err == nil {
		t.Error("New accepted a truncated file")
	}
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPKCS1Key(t *testing.T) {
	block := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())})
	k, err := parseRSAKey(string(block))
	if err != nil || !k.Equal(testKey()) {
		t.Fatalf("parseRSAKey(PKCS#1) = %v", err)
	}
}

func TestDefaultTokenURI(t *testing.T) {
	b, _ := json.Marshal(map[string]string{"project_id": "p", "client_email": "e", "private_key": string(
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey())}))})
	sa, _, err := parseServiceAccount(b)
	if err != nil {
		t.Fatal(err)
	}
	if sa.TokenURI != "https://oauth2.googleapis.com/token" || sa.PrivateKey != "" {
		t.Errorf("token_uri = %q, key kept: %t", sa.TokenURI, sa.PrivateKey != "")
	}
}

// TestSystemRoots proves that the default client trusts what SSL_CERT_FILE
// names, that is, that New builds no private RootCAs pool. Nothing else in
// this package loads the system roots (every other test injects the fake's
// client), so setting the variable here takes effect.
func TestSystemRoots(t *testing.T) {
	f := newFake(t)
	file := filepath.Join(t.TempDir(), "fake-ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(file, pemCert, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", file)
	t.Setenv("SSL_CERT_DIR", t.TempDir())
	c, err := New(Config{ServiceAccount: f.serviceAccount(), BaseURL: f.srv.URL, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), testMessage(f.clock.Now())); err != nil {
		t.Fatalf("Send through the default client: %v", err)
	}
	if c.hc.Transport != nil || c.hc.Timeout != sendTimeout {
		t.Errorf("default client: transport %v, timeout %v", c.hc.Transport, c.hc.Timeout)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		h    string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{now.Add(45 * time.Second).Format(http.TimeFormat), 45 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"999999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.h, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	if OutcomeOf(nil) != Delivered {
		t.Error("nil is not Delivered")
	}
	if OutcomeOf(context.Canceled) != Retry {
		t.Error("a foreign error is not Retry")
	}
	wrapped := &Error{Outcome: TokenDead}
	if OutcomeOf(errorsJoin(wrapped)) != TokenDead {
		t.Error("a wrapped *Error lost its Outcome")
	}
	for o, s := range map[Outcome]string{Delivered: "delivered", Retry: "retry", TokenDead: "token_dead", Permanent: "permanent"} {
		if o.String() != s {
			t.Errorf("%d.String() = %q", int(o), o.String())
		}
	}
}

func errorsJoin(err error) error { return &wrapErr{err} }

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "outer: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

func BenchmarkSend(b *testing.B) {
	f := newFake(b)
	c := f.client()
	ctx := context.Background()
	m := testMessage(f.clock.Now())
	if _, err := c.Send(ctx, m); err != nil { // fetch the token outside the loop
		b.Fatal(err)
	}
	f.mu.Lock()
	f.discard = true
	f.mu.Unlock()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
