package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/verifyd/verify/otp"
)

// sample is one line of the Prometheus text format: name{labels} value.
var sample = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",? ?)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$`)

// scrape reads a metrics page, checks every line's syntax, and returns
// the samples by name and labels.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not the Prometheus text format: %q", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("value of %q: %v", line, err)
		}
		out[m[1]+m[2]] = v
	}
	return out
}

// TestMetrics scrapes /metrics after known requests: requests by route
// and status with latency histograms, outbox attempts and depth, and the
// Go and process metrics; with --metrics-addr they move off the API.
func TestMetrics(t *testing.T) {
	s := startServer(t, t.TempDir()+"/v.db", accountEnv(testAccount, testToken), "--dev")
	c := twilioClient(t, s, testAccount, testToken)
	svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Shop"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateVerification(*svc.Sid, newVerification("+14155552671", "sms")); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(s.base + "/v2/Services"); err == nil {
		resp.Body.Close()
	}
	if _, err := twilioClient(t, s, testAccount, strings.Repeat("0", 32)).ListService(nil); err == nil {
		t.Fatal("a wrong token was accepted")
	}
	nf, err := c.CreateNewFactor(*svc.Sid, "user-0001", (&openapi.CreateNewFactorParams{}).SetFriendlyName("phone").SetFactorType("totp"))
	if err != nil {
		t.Fatal(err)
	}
	codes := newCodes(t, (*nf.Binding).(map[string]any)["secret"].(string), otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1})
	if _, err := c.UpdateFactor(*svc.Sid, "user-0001", *nf.Sid, (&openapi.UpdateFactorParams{}).SetAuthPayload(codes.next(t))); err != nil {
		t.Fatal(err)
	}
	// A code that no step near now has: wrong whatever the clock does.
	wrong := 0
	for step := codes.last - 2; step <= codes.last+3; step++ {
		if right, err := otp.HOTP(codes.secret, uint64(step), "sha1", 6); err == nil && right == fmt.Sprintf("%06d", wrong) {
			wrong++
			step = codes.last - 3
		}
	}
	if ch, err := c.CreateChallenge(*svc.Sid, "user-0001", (&openapi.CreateChallengeParams{}).SetFactorSid(*nf.Sid).
		SetAuthPayload(fmt.Sprintf("%06d", wrong))); err != nil || *ch.Status != "pending" {
		t.Fatalf("wrong code: %v, %v", ch, err)
	}
	// The next step's code: within the factor's skew of 1, and after the
	// one the verification used (a step boundary passing meanwhile only
	// moves it to the current step).
	step := codes.last + 1
	next, err := otp.HOTP(codes.secret, uint64(step), "sha1", 6)
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := c.CreateChallenge(*svc.Sid, "user-0001", (&openapi.CreateChallengeParams{}).SetFactorSid(*nf.Sid).SetAuthPayload(next)); err != nil || *ch.Status != "approved" {
		t.Fatalf("challenge: %v, %v", ch, err)
	}
	var m map[string]float64
	deadline := time.Now().Add(5 * time.Second)
	for {
		m = scrape(t, s.base+"/metrics")
		if m[`verifyd_outbox_attempts_total{kind="code",outcome="delivered"}`] == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for name, want := range map[string]float64{
		`verifyd_requests_total{op="POST /v2/Services",status="201"}`:                               1,
		`verifyd_requests_total{op="POST /v2/Services/{ServiceSid}/Verifications",status="201"}`:    1,
		`verifyd_requests_total{op="GET /v2/Services",status="401"}`:                                2, // no credentials, a wrong token
		`verifyd_request_duration_seconds_count{op="POST /v2/Services/{ServiceSid}/Verifications"}`: 1,
		`verifyd_outbox_attempts_total{kind="code",outcome="delivered"}`:                            1,
		`verifyd_outbox_rows{status="pending"}`:                                                     0,
		`verifyd_failed_logins_total`:                                                               1,
		`verifyd_events_total{event="factor.created",factor_type="totp"}`:                           1,
		`verifyd_events_total{event="factor.verified",factor_type="totp"}`:                          1,
		`verifyd_events_total{event="challenge.created",factor_type="totp"}`:                        2,
		`verifyd_events_total{event="code.rejected",factor_type="totp"}`:                            1,
		`verifyd_errors_total{op="GET /v2/Services",code="20003"}`:                                  2,
		`verifyd_events_total{event="challenge.approved",factor_type="totp"}`:                       1,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if m[`verifyd_cache_lookups_total{result="hit"}`] < 1 || m[`verifyd_cache_lookups_total{result="miss"}`] < 1 {
		t.Errorf("cache lookups: %v hits, %v misses", m[`verifyd_cache_lookups_total{result="hit"}`], m[`verifyd_cache_lookups_total{result="miss"}`])
	}
	if used, budget := m[`verifyd_cache_bytes`], m[`verifyd_cache_budget_bytes`]; used <= 0 || budget != 10<<20 || used > budget {
		t.Errorf("cache bytes %v of a budget of %v, want some of 10 MiB", used, budget)
	}
	for _, name := range []string{`go_goroutines`, `process_resident_memory_bytes`, `verifyd_db_seconds_count{op="commit"}`, `verifyd_db_seconds_count{op="fsync"}`} {
		if _, ok := m[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	s.stop()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := startServer(t, t.TempDir()+"/v.db", accountEnv(testAccount, testToken), "--metrics-addr", addr)
	if resp, err := http.Get(p.base + "/metrics"); err != nil || resp.StatusCode != 404 {
		t.Errorf("/metrics on the API with --metrics-addr: %v %v", resp.StatusCode, err)
	}
	if _, ok := scrape(t, "http://"+addr+"/metrics")[`verifyd_outbox_rows{status="dead"}`]; !ok {
		t.Errorf("the metrics address serves no outbox gauge")
	}
}
