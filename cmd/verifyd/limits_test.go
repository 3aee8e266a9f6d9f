package main

import (
	"net/http"
	"strconv"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/verifyd/verify/sqlstore"
)

// TestBuiltInLimits serves smaller built-in limits than Twilio's and
// meets each: sends (60203) and checks (max_attempts_reached, then 60202)
// of a verification, rate limits per service (60207) and buckets per rate
// limit (60210), status polls of a verification and Safe List requests
// (429/20429 with Retry-After).
func TestBuiltInLimits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, accountEnv(testAccount, testToken), "--dev", "--max-sends", "2", "--max-checks", "2",
			"--max-rate-limits", "1", "--max-buckets", "1", "--status-poll-limit", "3/1m", "--safelist-api-limit", "2/1m")
		c := twilioClient(t, s, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Shop").SetCustomCodeEnabled(true))
		if err != nil {
			t.Fatal(err)
		}
		va := *svc.Sid
		const to = "+14155552671"
		v, err := c.CreateVerification(va, newVerification(to, "sms").SetCustomCode("123456"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateVerification(va, newVerification(to, "sms").SetCustomCode("123456")); err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateVerification(va, newVerification(to, "sms").SetCustomCode("123456"))
		wantTwilioError(t, err, 60203, 429)

		// Three polls a minute: the fourth is refused for 20 s.
		for i := range 3 {
			if _, err := c.FetchVerification(va, *v.Sid); err != nil {
				t.Fatalf("poll %d: %v", i, err)
			}
		}
		req, _ := http.NewRequest("GET", s.base+"/v2/Services/"+va+"/Verifications/"+*v.Sid, nil)
		req.SetBasicAuth(testAccount, testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if retry, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != 429 || retry < 19 || retry > 20 {
			t.Fatalf("fourth poll: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}

		chk, err := c.CreateVerificationCheck(va, checkTo(to, "000000"))
		if err != nil || *chk.Status != "pending" {
			t.Fatalf("first wrong check: %+v, %v", chk, err)
		}
		chk, err = c.CreateVerificationCheck(va, checkTo(to, "000000"))
		if err != nil || *chk.Status != "max_attempts_reached" {
			t.Fatalf("second wrong check: %+v, %v", chk, err)
		}
		_, err = c.CreateVerificationCheck(va, checkTo(to, "123456"))
		wantTwilioError(t, err, 60202, 429)

		rl, err := c.CreateRateLimit(va, (&openapi.CreateRateLimitParams{}).SetUniqueName("ip"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateRateLimit(va, (&openapi.CreateRateLimitParams{}).SetUniqueName("phone"))
		wantTwilioError(t, err, 60207, 400)
		if _, err := c.CreateBucket(va, *rl.Sid, (&openapi.CreateBucketParams{}).SetMax(1).SetInterval(60)); err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateBucket(va, *rl.Sid, (&openapi.CreateBucketParams{}).SetMax(1).SetInterval(120))
		wantTwilioError(t, err, 60210, 400)

		if _, err := c.CreateSafelist((&openapi.CreateSafelistParams{}).SetPhoneNumber(to)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.FetchSafelist(to); err != nil {
			t.Fatal(err)
		}
		_, err = c.FetchSafelist(to)
		wantTwilioError(t, err, 20429, 429)
	})
}

// TestStatusPollRace: 20 parallel fetches of one verification, alternating
// between two servers on one PostgreSQL database (one server on SQLite),
// against a limit of 5 a minute: exactly 5 are answered.
func TestStatusPollRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		args := []string{"--dev", "--status-poll-limit", "5/1m"}
		s := startServer(t, db, accountEnv(testAccount, testToken), args...)
		nodes := []*openapi.ApiService{twilioClient(t, s, testAccount, testToken)}
		if sqlstore.IsPostgres(db) {
			nodes = append(nodes, twilioClient(t, startServer(t, db, accountEnv(testAccount, testToken), args...), testAccount, testToken))
		}
		svc, err := nodes[0].CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Polls"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := nodes[0].CreateVerification(*svc.Sid, newVerification("+14155552671", "sms"))
		if err != nil {
			t.Fatal(err)
		}
		ok, codes := burst(t, nodes, 20, func(_ int, c *openapi.ApiService) (string, error) {
			_, err := c.FetchVerification(*svc.Sid, *v.Sid)
			return "", err
		})
		codes[0] = ok[""]
		if codes[0] != 5 || codes[20429] != 15 {
			t.Fatalf("answers %v, want 5 fetched and 15 refused", codes)
		}
	})
}
