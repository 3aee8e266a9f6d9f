package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsoleObserved: console requests pass the API's access log and
// request metrics, under the console's route patterns (a bounded set of
// labels, never a path), as the API's own requests do.
func TestConsoleObserved(t *testing.T) {
	log := &lockedBuffer{}
	s := startServerLog(t, filepath.Join(t.TempDir(), "verifyd.db"), accountEnv(testAccount, testToken), log, "--console")
	for range 2 {
		resp, err := http.Get(s.base + "/console/signin")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-in page: %d", resp.StatusCode)
		}
	}
	resp, err := http.Get(s.base + "/console/no/such/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	m := scrape(t, s.base+"/metrics")
	if got := m[`verifyd_requests_total{op="GET /console/signin",status="200"}`]; got != 2 {
		t.Errorf("sign-in page requests counted: %v, want 2", got)
	}
	if got := m[`verifyd_requests_total{op="unmatched",status="404"}`]; got != 1 {
		t.Errorf("unknown console page counted: %v, want 1 unmatched 404", got)
	}
	if n := strings.Count(log.String(), `route="GET /console/signin" status=200`); n != 2 {
		t.Errorf("access log lines for the sign-in page: %d, want 2\n%s", n, log.String())
	}
	if strings.Contains(log.String(), "no/such/page") {
		t.Error("the access log names a path")
	}
}

// TestPasskeyDemoObserved: the --dev passkeys demo's requests pass the
// access log and request metrics as the console's do, under the demo's
// route patterns.
func TestPasskeyDemoObserved(t *testing.T) {
	log := &lockedBuffer{}
	s := startServerLog(t, filepath.Join(t.TempDir(), "verifyd.db"), map[string]string{}, log, "--dev")
	for _, path := range []string{"/dev/passkeys", "/dev/passkeys/demo.js"} {
		resp, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	m := scrape(t, s.base+"/metrics")
	for _, op := range []string{"GET /dev/passkeys", "GET /dev/passkeys/demo.js"} {
		if got := m[`verifyd_requests_total{op="`+op+`",status="200"}`]; got != 1 {
			t.Errorf("%s requests counted: %v, want 1", op, got)
		}
		if n := strings.Count(log.String(), `route="`+op+`" status=200`); n != 1 {
			t.Errorf("access log lines for %s: %d, want 1\n%s", op, n, log.String())
		}
	}
}
