package main

import (
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// TestAttemptsAPI makes attempts in two services with twilio-go, approves
// some, and reads them back through the Attempts API and its summary:
// every filter, paging, fetch, the conversion figures and the errors of
// bad filters.
func TestAttemptsAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, accountEnv(testAccount, testToken), "--dev")
		c := twilioClient(t, s, testAccount, testToken)
		newService := func(name string) string {
			svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName(name).SetCustomCodeEnabled(true))
			if err != nil {
				t.Fatal(err)
			}
			return *svc.Sid
		}
		a, b := newService("Alpha"), newService("Beta")
		send := func(va, to, channel string) *openapi.VerifyV2Verification {
			v, err := c.CreateVerification(va, newVerification(to, channel).SetCustomCode("123456"))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		us := send(a, "+14155552671", "sms")
		us = send(a, "+14155552671", "call") // a re-send: a second attempt of the same verification
		gb := send(a, "+447400123456", "sms")
		de := send(b, "+4915112345678", "sms")
		send(b, "user@example.com", "email")
		if _, err := c.CreateVerificationCheck(a, checkTo("+14155552671", "123456")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.UpdateVerification(b, *de.Sid, (&openapi.UpdateVerificationParams{}).SetStatus("approved")); err != nil {
			t.Fatal(err)
		}

		list := func(p *openapi.ListVerificationAttemptParams) []openapi.VerifyV2VerificationAttempt {
			t.Helper()
			got, err := c.ListVerificationAttempt(p.SetPageSize(2))
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		all := list(&openapi.ListVerificationAttemptParams{})
		if len(all) != 5 {
			t.Fatalf("%d attempts, want 5", len(all))
		}
		if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].DateCreated.After(*all[j].DateCreated) }) {
			t.Errorf("not newest first")
		}
		for _, tc := range []struct {
			name string
			p    *openapi.ListVerificationAttemptParams
			want int
		}{
			{"service", (&openapi.ListVerificationAttemptParams{}).SetVerifyServiceSid(a), 3},
			{"channel", (&openapi.ListVerificationAttemptParams{}).SetChannel("call"), 1},
			{"to", (&openapi.ListVerificationAttemptParams{}).SetChannelDataTo("+14155552671"), 2},
			{"country", (&openapi.ListVerificationAttemptParams{}).SetCountry("GB"), 1},
			{"converted", (&openapi.ListVerificationAttemptParams{}).SetStatus("converted"), 3},
			{"unconverted", (&openapi.ListVerificationAttemptParams{}).SetStatus("unconverted"), 2},
			{"verification", (&openapi.ListVerificationAttemptParams{}).SetVerificationSid(*us.Sid), 2},
			{"after", (&openapi.ListVerificationAttemptParams{}).SetDateCreatedAfter(time.Now().Add(time.Hour)), 0},
			{"before", (&openapi.ListVerificationAttemptParams{}).SetDateCreatedBefore(time.Now().Add(time.Hour)), 5},
		} {
			if got := list(tc.p); len(got) != tc.want {
				t.Errorf("%s: %d attempts, want %d", tc.name, len(got), tc.want)
			}
		}

		// One attempt in full.
		sends := *gb.SendCodeAttempts
		vl := sends[0].(map[string]any)["attempt_sid"].(string)
		got, err := c.FetchVerificationAttempt(vl)
		if err != nil {
			t.Fatal(err)
		}
		data := (*got.ChannelData).(map[string]any)
		if *got.Sid != vl || *got.VerificationSid != *gb.Sid || *got.ServiceSid != a || *got.ConversionStatus != "unconverted" ||
			*got.Channel != "sms" || data["to"] != "+447400123456" || data["status"] != "unconfirmed" || data["country"] != "GB" ||
			data["code_length"] != float64(6) || data["message_status"] == nil || *got.Url != s.base+"/v2/Attempts/"+vl {
			t.Fatalf("fetch: %+v %v", got, data)
		}
		for _, at := range list((&openapi.ListVerificationAttemptParams{}).SetVerificationSid(*us.Sid)) {
			if *at.ConversionStatus != "converted" || (*at.ChannelData).(map[string]any)["status"] != "confirmed" {
				t.Errorf("approved verification's attempt: %s, %v", *at.ConversionStatus, *at.ChannelData)
			}
		}
		_, err = c.FetchVerificationAttempt("VL00000000000000000000000000000000")
		wantTwilioError(t, err, 20404, 404)

		// The summary agrees.
		sum := func(p *openapi.FetchVerificationAttemptsSummaryParams) *openapi.VerifyV2VerificationAttemptsSummary {
			t.Helper()
			got, err := c.FetchVerificationAttemptsSummary(p)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		rate := func(r *string) string {
			if r == nil {
				return "null"
			}
			return *r
		}
		for _, tc := range []struct {
			name        string
			p           *openapi.FetchVerificationAttemptsSummaryParams
			total, conv int
			percentage  string
		}{
			{"all", &openapi.FetchVerificationAttemptsSummaryParams{}, 5, 3, "60"},
			{"service", (&openapi.FetchVerificationAttemptsSummaryParams{}).SetVerifyServiceSid(a), 3, 2, "66.666666667"},
			{"prefix", (&openapi.FetchVerificationAttemptsSummaryParams{}).SetDestinationPrefix("+44"), 1, 0, "0"},
			{"country", (&openapi.FetchVerificationAttemptsSummaryParams{}).SetCountry("DE"), 1, 1, "100"},
			{"channel", (&openapi.FetchVerificationAttemptsSummaryParams{}).SetChannel("email"), 1, 0, "0"},
			{"none", (&openapi.FetchVerificationAttemptsSummaryParams{}).SetDateCreatedAfter(time.Now().Add(time.Hour)), 0, 0, "null"},
		} {
			got := sum(tc.p)
			if got.TotalAttempts != tc.total || got.TotalConverted != tc.conv || got.TotalUnconverted != tc.total-tc.conv ||
				rate(got.ConversionRatePercentage) != tc.percentage {
				t.Errorf("%s: %d/%d/%d %s, want %d/%d %s", tc.name, got.TotalAttempts, got.TotalConverted, got.TotalUnconverted,
					rate(got.ConversionRatePercentage), tc.total, tc.conv, tc.percentage)
			}
		}

		// Bad filters are 400/60200, never a 500.
		for _, q := range []url.Values{
			{"Country": {"XX"}}, {"DateCreatedAfter": {"yesterday"}}, {"Channel": {"fax"}}, {"ChannelData.To": {"abc"}},
			{"Status": {"maybe"}}, {"VerifyServiceSid": {"VA123"}}, {"VerificationSid": {"XX"}},
		} {
			req, _ := http.NewRequest("GET", s.base+"/v2/Attempts?"+q.Encode(), nil)
			req.SetBasicAuth(testAccount, testToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("%v: %d, want 400", q, resp.StatusCode)
			}
		}
		_, err = c.FetchVerificationAttemptsSummary((&openapi.FetchVerificationAttemptsSummaryParams{}).SetDestinationPrefix("44"))
		wantTwilioError(t, err, 60200, 400)
	})
}
