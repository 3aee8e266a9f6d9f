package main

import (
	"net/http"
	"strconv"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
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
