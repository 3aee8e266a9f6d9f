package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/verifyd/verify/sqlstore"
)

// rawCreate posts a verification create with RateLimits by hand, to read
// the headers twilio-go does not show.
func rawCreate(t *testing.T, s *server, va, to, limits string) *http.Response {
	t.Helper()
	form := url.Values{"To": {to}, "Channel": {"sms"}, "RateLimits": {limits}}
	req, _ := http.NewRequest("POST", s.base+"/v2/Services/"+va+"/Verifications", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testAccount, testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func limited(value string) string { return `{"end_user_phone":"` + value + `"}` }

// TestRateLimits manages rate limits and buckets with twilio-go and
// enforces them on verification creates: a bucket of 3 per 60 s admits
// exactly 3 creates for a value and refuses the 4th with 429/20429,
// Retry-After and Twilio-Reached-Rate-Limit, while other values pass; a
// refused create counts in no other bucket; a changed bucket starts
// afresh.
func TestRateLimits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, accountEnv(testAccount, testToken), "--dev")
		c := twilioClient(t, s, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Shop"))
		if err != nil {
			t.Fatal(err)
		}
		va := *svc.Sid
		newLimit := func(name string) (*openapi.VerifyV2RateLimit, error) {
			return c.CreateRateLimit(va, (&openapi.CreateRateLimitParams{}).SetUniqueName(name).SetDescription("per "+name))
		}
		rl, err := newLimit("end_user_phone")
		if err != nil || *rl.UniqueName != "end_user_phone" || *rl.Description != "per end_user_phone" || !strings.HasPrefix(*rl.Sid, "RK") ||
			(*rl.Links)["buckets"] != *rl.Url+"/Buckets" {
			t.Fatalf("create: %+v, %v", rl, err)
		}
		_, err = newLimit("end_user_phone")
		wantTwilioError(t, err, 60208, 400)
		_, err = newLimit("bad name!")
		wantTwilioError(t, err, 60209, 400)
		_, err = c.CreateRateLimit(va, &openapi.CreateRateLimitParams{})
		wantTwilioError(t, err, 60200, 400)
		byName, err := c.FetchRateLimit(va, "end_user_phone")
		if err != nil || *byName.Sid != *rl.Sid {
			t.Fatalf("fetch by UniqueName: %+v, %v", byName, err)
		}
		upd, err := c.UpdateRateLimit(va, *rl.Sid, (&openapi.UpdateRateLimitParams{}).SetDescription("phones"))
		if err != nil || *upd.Description != "phones" || *upd.UniqueName != "end_user_phone" {
			t.Fatalf("update: %+v, %v", upd, err)
		}
		_, err = c.FetchRateLimit(va, "RK"+strings.Repeat("0", 32))
		wantTwilioError(t, err, 20404, 404)

		bucket := func(rl string, max, interval int) (*openapi.VerifyV2Bucket, error) {
			return c.CreateBucket(va, rl, (&openapi.CreateBucketParams{}).SetMax(max).SetInterval(interval))
		}
		b, err := bucket(*rl.Sid, 3, 60)
		if err != nil || b.Max != 3 || b.Interval != 60 || *b.RateLimitSid != *rl.Sid || !strings.HasPrefix(*b.Sid, "BL") {
			t.Fatalf("bucket: %+v, %v", b, err)
		}
		_, err = bucket(*rl.Sid, 10, 60)
		wantTwilioError(t, err, 60211, 400)
		_, err = bucket("end_user_phone", 0, 30)
		wantTwilioError(t, err, 60200, 400)
		_, err = c.CreateBucket(va, *rl.Sid, (&openapi.CreateBucketParams{}).SetMax(5))
		wantTwilioError(t, err, 60200, 400)
		day, err := bucket("end_user_phone", 100, 86400) // addressed by UniqueName
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.ListBucket(va, *rl.Sid, nil); err != nil || len(got) != 2 {
			t.Fatalf("list buckets: %d, %v", len(got), err)
		}

		// Three creates for one value pass, each to its own To; the fourth
		// is refused, and the value's bucket admits again in 20 s
		// (60 s / 3).
		for i := range 3 {
			if r := rawCreate(t, s, va, fmt.Sprintf("+1415555%04d", i), limited("+15005550006")); r.StatusCode != 201 {
				t.Fatalf("create %d: %d", i, r.StatusCode)
			}
		}
		r := rawCreate(t, s, va, "+14155550100", limited("+15005550006"))
		retry, _ := strconv.Atoi(r.Header.Get("Retry-After"))
		if r.StatusCode != 429 || retry < 19 || retry > 20 || r.Header.Get("Twilio-Reached-Rate-Limit") != "end_user_phone" {
			t.Fatalf("fourth create: %d, Retry-After %q, limit %q", r.StatusCode, r.Header.Get("Retry-After"), r.Header.Get("Twilio-Reached-Rate-Limit"))
		}
		_, err = c.CreateVerification(va, newVerification("+14155550101", "sms").SetRateLimits(map[string]any{"end_user_phone": "+15005550006"}))
		wantTwilioError(t, err, 20429, 429)
		if _, err := c.CreateVerification(va, newVerification("+14155550102", "sms").SetRateLimits(map[string]any{"end_user_phone": "+15005550007"})); err != nil {
			t.Fatalf("another value: %v", err)
		}
		// Unknown names are ignored; malformed JSON is 60200.
		if _, err := c.CreateVerification(va, newVerification("+14155550103", "sms").SetRateLimits(map[string]any{"nobody": "x"})); err != nil {
			t.Fatalf("unknown limit: %v", err)
		}
		if r := rawCreate(t, s, va, "+14155550104", `{"end_user_phone":`); r.StatusCode != 400 {
			t.Fatalf("malformed RateLimits: %d", r.StatusCode)
		}

		// A refused create counts nowhere: with a second limit of 2 per
		// hour, the refusals by end_user_phone take nothing from it.
		ip, err := newLimit("ip")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bucket(*ip.Sid, 2, 3600); err != nil {
			t.Fatal(err)
		}
		both := func(phone string) string { return `{"end_user_phone":"` + phone + `","ip":"203.0.113.9"}` }
		for i := range 3 {
			if r := rawCreate(t, s, va, fmt.Sprintf("+1415555%04d", 200+i), both("+15005550006")); r.StatusCode != 429 ||
				r.Header.Get("Twilio-Reached-Rate-Limit") != "end_user_phone" {
				t.Fatalf("refused by phone: %d %q", r.StatusCode, r.Header.Get("Twilio-Reached-Rate-Limit"))
			}
		}
		for i := range 2 {
			if r := rawCreate(t, s, va, fmt.Sprintf("+1415555%04d", 300+i), both(fmt.Sprintf("+1500555%04d", i))); r.StatusCode != 201 {
				t.Fatalf("ip create %d: %d", i, r.StatusCode)
			}
		}
		r = rawCreate(t, s, va, "+14155550400", both("+15005559999"))
		if r.StatusCode != 429 || r.Header.Get("Twilio-Reached-Rate-Limit") != "ip" {
			t.Fatalf("third ip create: %d %q", r.StatusCode, r.Header.Get("Twilio-Reached-Rate-Limit"))
		}
		if retry, _ := strconv.Atoi(r.Header.Get("Retry-After")); retry < 1790 || retry > 1800 {
			t.Errorf("ip Retry-After %d, want about 1800", retry)
		}

		// Raising Max starts the bucket afresh.
		if _, err := c.UpdateBucket(va, *rl.Sid, *b.Sid, (&openapi.UpdateBucketParams{}).SetMax(5)); err != nil {
			t.Fatal(err)
		}
		_, err = c.UpdateBucket(va, *rl.Sid, *b.Sid, (&openapi.UpdateBucketParams{}).SetInterval(86400))
		wantTwilioError(t, err, 60211, 400)
		if r := rawCreate(t, s, va, "+14155550500", limited("+15005550006")); r.StatusCode != 201 {
			t.Fatalf("after the update: %d", r.StatusCode)
		}
		if err := c.DeleteBucket(va, *rl.Sid, *day.Sid); err != nil {
			t.Fatal(err)
		}
		wantTwilioError(t, c.DeleteBucket(va, *rl.Sid, *day.Sid), 20404, 404)
		if err := c.DeleteRateLimit(va, "ip"); err != nil {
			t.Fatal(err)
		}
		_, err = c.FetchBucket(va, *ip.Sid, *b.Sid)
		wantTwilioError(t, err, 20404, 404)
		if list, err := c.ListRateLimit(va, nil); err != nil || len(list) != 1 {
			t.Fatalf("list: %d, %v", len(list), err)
		}
	})
}

// TestRateLimitRace sends 100 parallel creates with one value, alternating
// between two servers on one PostgreSQL database (one server on SQLite):
// exactly Max are admitted, the rest refused with 20429.
func TestRateLimitRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, accountEnv(testAccount, testToken), "--dev")
		nodes := []*openapi.ApiService{twilioClient(t, s, testAccount, testToken)}
		if sqlstore.IsPostgres(db) {
			nodes = append(nodes, twilioClient(t, startServer(t, db, accountEnv(testAccount, testToken), "--dev"), testAccount, testToken))
		}
		c := nodes[0]
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Race"))
		if err != nil {
			t.Fatal(err)
		}
		va := *svc.Sid
		rl, err := c.CreateRateLimit(va, (&openapi.CreateRateLimitParams{}).SetUniqueName("ip"))
		if err != nil {
			t.Fatal(err)
		}
		const max = 7
		for _, b := range []struct{ max, interval int }{{max, 600}, {50, 3600}} {
			if _, err := c.CreateBucket(va, *rl.Sid, (&openapi.CreateBucketParams{}).SetMax(b.max).SetInterval(b.interval)); err != nil {
				t.Fatal(err)
			}
		}
		ok, codes := burst(t, nodes, 100, func(i int, c *openapi.ApiService) (string, error) {
			_, err := c.CreateVerification(va, newVerification(fmt.Sprintf("+1415555%04d", 1000+i), "sms").
				SetRateLimits(map[string]any{"ip": "198.51.100.7"}))
			return "", err
		})
		codes[0] = ok[""]
		if codes[0] != max || codes[20429] != 100-max {
			t.Fatalf("answers %v, want %d admitted and %d refused", codes, max, 100-max)
		}
	})
}
