package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/sqlstore"
)

// TestSelfSignedTLS serves HTTPS with the development certificate and
// drives it with twilio-go trusting only the certificate the server printed;
// a client that does not trust it is refused, and a restart reuses it.
func TestSelfSignedTLS(t *testing.T) { forEachBackend(t, testSelfSignedTLS) }

func testSelfSignedTLS(t *testing.T, db string) {
	args := []string{"--tls-self-signed"}
	if sqlstore.IsPostgres(db) { // no file to keep the certificate beside
		args = append(args, "--tls-self-signed-dir", t.TempDir())
	}
	s := startServer(t, db, accountEnv(testAccount, testToken), args...)
	if !strings.HasPrefix(s.base, "https://127.0.0.1:") {
		t.Fatalf("base = %s", s.base)
	}
	out := s.stdout.String()
	begin := strings.Index(out, "-----BEGIN CERTIFICATE-----")
	end := strings.Index(out, "-----END CERTIFICATE-----")
	if begin < 0 || end < 0 {
		t.Fatalf("no certificate printed:\n%s", out)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(out[begin : end+len("-----END CERTIFICATE-----")])) {
		t.Fatal("printed certificate does not parse")
	}
	trusting := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	c := twilioClientVia(t, s, testAccount, testToken, trusting)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Over TLS"))
	if err != nil {
		t.Fatalf("CreateService over TLS: %v", err)
	}
	if !strings.HasPrefix(*svc.Url, "https://") {
		t.Fatalf("url = %s", *svc.Url)
	}
	if _, err := twilioClient(t, s, testAccount, testToken).FetchService(*svc.Sid); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusting client: %v", err)
	}
	s.stop()

	s2 := startServer(t, db, accountEnv(testAccount, testToken), args...)
	if !strings.Contains(s2.stdout.String(), "Using self-signed certificate") {
		t.Fatalf("restart made a new certificate:\n%s", s2.stdout)
	}
	if _, err := twilioClientVia(t, s2, testAccount, testToken, trusting).FetchService(*svc.Sid); err != nil {
		t.Fatalf("same certificate after restart: %v", err)
	}
}
