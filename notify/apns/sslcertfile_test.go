package apns

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// childURLEnv, when set, makes TestSSLCertFileChild send one push to the
// fake APNs at that URL. The system roots are loaded once per process, so
// only a fresh process can show what SSL_CERT_FILE does.
const childURLEnv = "VERIFYD_APNS_TEST_CHILD_URL"

// TestSSLCertFile shows that a Client built without Config.TLS trusts what
// Go's SSL_CERT_FILE names, as an operator with a private CA (or the fake in
// front of a test server) needs: production code must not build its own
// root pool.
func TestSSLCertFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary again")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	f := newFake(t, nil, nil, nil) // no provider-token check: the child has its own key
	dir := t.TempDir()
	writePEM := func(name string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fakeCA := writePEM("fake.pem", f.srv.Certificate().Raw)
	otherCA := writePEM("other.pem", newTestCA(t).cert.Raw)
	emptyDir := t.TempDir()

	run := func(certFile string) (string, error) {
		cmd := exec.Command(exe, "-test.run=^TestSSLCertFileChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), childURLEnv+"="+f.srv.URL, "SSL_CERT_FILE="+certFile, "SSL_CERT_DIR="+emptyDir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run(fakeCA)
	if err != nil || !strings.Contains(out, "child: delivered") {
		t.Fatalf("child with SSL_CERT_FILE=fake CA: %v\n%s", err, out)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("fake saw %d requests, want 1", n)
	}

	out, err = run(otherCA)
	if err == nil || !strings.Contains(out, "unknown authority") {
		t.Errorf("child with SSL_CERT_FILE=another CA: err=%v, want an unknown-authority failure\n%s", err, out)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("fake saw %d requests after the untrusted child, want still 1", n)
	}
}

// TestSSLCertFileChild is the child half of TestSSLCertFile.
func TestSSLCertFileChild(t *testing.T) {
	url := os.Getenv(childURLEnv)
	if url == "" {
		t.Skip("only run by TestSSLCertFile")
	}
	key, _ := newSigningKey(t)
	c, err := New(Config{BaseURL: url, SigningKey: key, KeyID: testKeyID, TeamID: testTeamID}) // no Config.TLS
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := testNotification()
	n.Expiration = n.Expiration.AddDate(100, 0, 0) // the child runs on the real clock
	if _, err := c.Send(context.Background(), n); err != nil {
		t.Fatalf("child: %v", err)
	}
	t.Log("child: delivered")
}
