package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAccessLog serves with JSON logs and reads the access lines back: one
// per request with method, route pattern, status, Twilio code and
// account, never the auth token, the identity in the path nor the query
// (a phone number here); at --log-level warn there are none; a bad
// --log-format stops the start.
func TestAccessLog(t *testing.T) {
	logs := &lockedBuffer{}
	s := startServerLog(t, t.TempDir()+"/v.db", accountEnv(testAccount, testToken), logs, "--log-format", "json")
	req, _ := http.NewRequest("GET", s.base+"/v2/Services/VA00000000000000000000000000000009/Entities/secret-identity-42?ChannelData.To=%2B14155552671", nil)
	req.SetBasicAuth(testAccount, testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err = http.Get(s.base + "/v2/Services"); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	var lines []map[string]any
	for len(lines) < 2 && time.Now().Before(deadline) {
		lines = lines[:0]
		for _, l := range strings.Split(logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["component"] == "access" {
				lines = append(lines, m)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(lines) != 2 {
		t.Fatalf("%d access lines:\n%s", len(lines), logs.String())
	}
	if l := lines[0]; l["method"] != "GET" || l["route"] != "GET /v2/Services/{ServiceSid}/Entities/{Identity}" || l["status"] != float64(404) ||
		l["code"] != float64(20404) || l["account"] != testAccount {
		t.Errorf("first line %v", l)
	}
	if l := lines[1]; l["status"] != float64(401) || l["code"] != float64(20003) || l["account"] != "" || l["route"] != "GET /v2/Services" {
		t.Errorf("second line %v", l)
	}
	for _, secret := range []string{testToken, "14155552671", "secret-identity-42"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	s.stop()

	quiet := &lockedBuffer{}
	q := startServerLog(t, t.TempDir()+"/v.db", accountEnv(testAccount, testToken), quiet, "--log-level", "warn")
	if resp, err := http.Get(q.base + "/healthz"); err == nil {
		resp.Body.Close()
	}
	q.stop()
	if strings.Contains(quiet.String(), "component=access") || strings.Contains(quiet.String(), "level=INFO") {
		t.Errorf("info lines at --log-level warn:\n%s", quiet.String())
	}
	if _, err := parseServe([]string{"--log-format", "xml"}, func(string) string { return "" }, &strings.Builder{}); exitCode(err) != 2 {
		t.Errorf("--log-format xml: %v", err)
	}
}

// TestPprof: --pprof-addr serves Go's profiles on their own listener.
func TestPprof(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := startServer(t, t.TempDir()+"/v.db", accountEnv(testAccount, testToken), "--pprof-addr", addr)
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Fatalf("pprof: %d %.200s", resp.StatusCode, body)
	}
	if resp, err := http.Get(s.base + "/debug/pprof/"); err != nil || resp.StatusCode != 404 {
		t.Errorf("pprof on the API's address: %v %v", resp.StatusCode, err)
	}
}
