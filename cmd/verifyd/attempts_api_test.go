package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/verifyd/verify"
)

// TestAttemptsAPI makes attempts in two services with twilio-go, approves
// some, and reads them back through the Attempts API and its summary:
// every filter (the date bounds inclusive), paging, fetch, the conversion
// figures and the errors of bad filters; another account, with an attempt
// of its own, sees none of them.
func TestAttemptsAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		// Another account's attempt, made on the same database first.
		s := startServer(t, db, accountEnv(otherAccount, otherToken), "--dev")
		c2 := twilioClient(t, s, otherAccount, otherToken)
		svc2, err := c2.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Theirs"))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := c2.CreateVerification(*svc2.Sid, newVerification("+14155552671", "sms"))
		if err != nil {
			t.Fatal(err)
		}
		theirVL := (*theirs.SendCodeAttempts)[0].(map[string]any)["attempt_sid"].(string)
		s.stop()

		s = startServer(t, db, accountEnv(testAccount, testToken), "--dev")
		c := twilioClient(t, s, testAccount, testToken)
		c2 = twilioClient(t, s, otherAccount, otherToken)
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
		// The bounds are inclusive: an attempt's own date_created keeps it.
		for _, at := range all {
			when := *at.DateCreated
			var newer, older int
			for _, o := range all {
				if !o.DateCreated.Before(when) {
					newer++
				}
				if !o.DateCreated.After(when) {
					older++
				}
			}
			after := list((&openapi.ListVerificationAttemptParams{}).SetDateCreatedAfter(when))
			before := list((&openapi.ListVerificationAttemptParams{}).SetDateCreatedBefore(when))
			both := list((&openapi.ListVerificationAttemptParams{}).SetDateCreatedAfter(when).SetDateCreatedBefore(when))
			if len(after) != newer || len(before) != older || len(both) != newer+older-len(all) || !hasAttempt(both, *at.Sid) {
				t.Errorf("bounds at %s: %d after, %d before, %d both; want %d, %d, %d with %s", when,
					len(after), len(before), len(both), newer, older, newer+older-len(all), *at.Sid)
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
		for _, sid := range []string{"VL00000000000000000000000000000000", "VLnothex", theirVL} {
			_, err = c.FetchVerificationAttempt(sid)
			wantTwilioError(t, err, 20404, 404)
		}

		// The other account sees its own attempt only, and none of ours.
		if got, err := c2.ListVerificationAttempt(&openapi.ListVerificationAttemptParams{}); err != nil || len(got) != 1 || *got[0].Sid != theirVL {
			t.Errorf("other account's list: %d attempts, %v", len(got), err)
		}
		if got, err := c2.ListVerificationAttempt((&openapi.ListVerificationAttemptParams{}).SetVerifyServiceSid(a)); err != nil || len(got) != 0 {
			t.Errorf("other account's list of our service: %d attempts, %v", len(got), err)
		}
		_, err = c2.FetchVerificationAttempt(vl)
		wantTwilioError(t, err, 20404, 404)
		if got, err := c2.FetchVerificationAttemptsSummary(&openapi.FetchVerificationAttemptsSummaryParams{}); err != nil ||
			got.TotalAttempts != 1 || got.TotalConverted != 0 || got.ConversionRatePercentage == nil || *got.ConversionRatePercentage != "0" {
			t.Errorf("other account's summary: %+v, %v", got, err)
		}

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

		// Bad filters are 400/60200 naming the parameter, never a 500.
		for _, tc := range []struct {
			path string
			q    url.Values
		}{
			{"/v2/Attempts", url.Values{"Country": {"XX"}}}, {"/v2/Attempts", url.Values{"DateCreatedAfter": {"yesterday"}}},
			{"/v2/Attempts", url.Values{"DateCreatedBefore": {"2024-13-01T00:00:00Z"}}}, {"/v2/Attempts", url.Values{"Channel": {"fax"}}},
			{"/v2/Attempts", url.Values{"ChannelData.To": {"abc"}}}, {"/v2/Attempts", url.Values{"Status": {"maybe"}}},
			{"/v2/Attempts", url.Values{"VerifyServiceSid": {"VA123"}}}, {"/v2/Attempts", url.Values{"VerificationSid": {"XX"}}},
			{"/v2/Attempts", url.Values{"PageToken": {"garbage"}}}, {"/v2/Attempts", url.Values{"PageSize": {"0"}}},
			{"/v2/Attempts/Summary", url.Values{"Country": {"XX"}}}, {"/v2/Attempts/Summary", url.Values{"Channel": {"fax"}}},
			{"/v2/Attempts/Summary", url.Values{"VerifyServiceSid": {"VA123"}}},
			{"/v2/Attempts/Summary", url.Values{"DateCreatedBefore": {"tomorrow"}}},
			{"/v2/Attempts/Summary", url.Values{"DestinationPrefix": {"+"}}},
			{"/v2/Attempts/Summary", url.Values{"DestinationPrefix": {"+1234567890123456"}}},
			{"/v2/Attempts/Summary", url.Values{"DestinationPrefix": {"+44a"}}},
		} {
			req, _ := http.NewRequest("GET", s.base+tc.path+"?"+tc.q.Encode(), nil)
			req.SetBasicAuth(testAccount, testToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != 400 || err != nil || body.Code != 60200 || body.Message == "" {
				t.Errorf("%s %v: %d %+v (%v), want 400 with 60200", tc.path, tc.q, resp.StatusCode, body, err)
			}
		}
		_, err = c.FetchVerificationAttemptsSummary((&openapi.FetchVerificationAttemptsSummaryParams{}).SetDestinationPrefix("44"))
		wantTwilioError(t, err, 60200, 400)
	})
}

func hasAttempt(list []openapi.VerifyV2VerificationAttempt, sid string) bool {
	for _, a := range list {
		if *a.Sid == sid {
			return true
		}
	}
	return false
}

// TestAttemptsRetention: an attempt older than --attempts-retention leaves
// the list, the summary and fetch even while its verification is kept
// (it is still pending, and the sweep is off).
func TestAttemptsRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, accountEnv(testAccount, testToken), "--dev", "--attempts-retention", "2s", "--sweep-interval", "0")
		c := twilioClient(t, s, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Short"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.CreateVerification(*svc.Sid, newVerification("+14155552671", "sms"))
		if err != nil {
			t.Fatal(err)
		}
		vl := (*v.SendCodeAttempts)[0].(map[string]any)["attempt_sid"].(string)
		count := func() (int, int) {
			t.Helper()
			list, err := c.ListVerificationAttempt(&openapi.ListVerificationAttemptParams{})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := c.FetchVerificationAttemptsSummary(&openapi.FetchVerificationAttemptsSummaryParams{})
			if err != nil {
				t.Fatal(err)
			}
			return len(list), sum.TotalAttempts
		}
		if l, n := count(); l != 1 || n != 1 {
			t.Fatalf("fresh: %d listed, %d counted", l, n)
		}
		if _, err := c.FetchVerificationAttempt(vl); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3500 * time.Millisecond) // past 2s, in whole seconds
		if l, n := count(); l != 0 || n != 0 {
			t.Fatalf("past the retention: %d listed, %d counted", l, n)
		}
		_, err = c.FetchVerificationAttempt(vl)
		wantTwilioError(t, err, 20404, 404)
		if _, err := c.FetchVerification(*svc.Sid, *v.Sid); err != nil {
			t.Fatalf("the verification itself: %v", err)
		}
	})
}

// TestAttemptsGatewayPrice: an attempt sent through the HTTP gateway shows
// the message status and price the gateway reported, and null carrier
// fields; one delivered to the development inbox has no price, and the
// list finds it by its e-mail address.
func TestAttemptsGatewayPrice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		g := &gatewayReceiver{t: t}
		env := gatewayEnv(t, g)
		env["VERIFYD_GATEWAY_CHANNELS"] = "sms"
		s := startServer(t, db, env, "--dev")
		c := twilioClient(t, s, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Shop"))
		if err != nil {
			t.Fatal(err)
		}
		const to = "+14155552671"
		sms, err := c.CreateVerification(*svc.Sid, newVerification(to, "sms"))
		if err != nil {
			t.Fatal(err)
		}
		mail, err := c.CreateVerification(*svc.Sid, newVerification("user@example.com", "email"))
		if err != nil {
			t.Fatal(err)
		}
		req := g.waitFor(to, 1)
		vl := (*sms.SendCodeAttempts)[0].(map[string]any)["attempt_sid"].(string)
		if req.AttemptSid != vl {
			t.Fatalf("the gateway got attempt %s, want %s", req.AttemptSid, vl)
		}
		// The gateway's answer is recorded once the delivery settles.
		var got *openapi.VerifyV2VerificationAttempt
		for deadline := time.Now().Add(10 * time.Second); ; {
			if got, err = c.FetchVerificationAttempt(vl); err != nil {
				t.Fatal(err)
			}
			if (*got.ChannelData).(map[string]any)["message_status"] == "sent" || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		data := (*got.ChannelData).(map[string]any)
		if data["message_status"] != "sent" || got.Price == nil || data["error_code"] != nil || data["country"] != "US" {
			t.Fatalf("settled attempt: price %v, channel_data %v", got.Price, data)
		}
		if price := (*got.Price).(map[string]any); price["value"] != "0.0079" || price["currency"] != "usd" || len(price) != 2 {
			t.Errorf("price %v", price)
		}
		for _, k := range []string{"mcc", "mnc", "carrier"} {
			if v, ok := data[k]; !ok || v != nil {
				t.Errorf("channel_data.%s = %v (present %v), want null", k, v, ok)
			}
		}

		inbox, err := c.FetchVerificationAttempt((*mail.SendCodeAttempts)[0].(map[string]any)["attempt_sid"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if inbox.Price != nil || *inbox.Channel != "email" || (*inbox.ChannelData).(map[string]any)["to"] != "user@example.com" {
			t.Errorf("inbox attempt: price %v, %s, %v", inbox.Price, *inbox.Channel, *inbox.ChannelData)
		}
		if got, err := c.ListVerificationAttempt((&openapi.ListVerificationAttemptParams{}).SetChannelDataTo("user@example.com")); err != nil ||
			len(got) != 1 || *got[0].Channel != "email" {
			t.Errorf("listed by e-mail address: %d, %v", len(got), err)
		}
	})
}

// TestAttemptsSweep runs a server whose sweeper runs every 100ms with a
// retention of 2s: an approved verification and its attempt are deleted
// once past it, and a pending one (still live) is kept with its attempt.
func TestAttemptsSweep(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		env := accountEnv(testAccount, testToken)
		env["VERIFYD_SECRET_KEY"] = testSecretKey // so that the test can open the store too
		s := startServer(t, db, env, "--dev", "--sweep-interval", "100ms", "--attempts-retention", "2s")
		c := twilioClient(t, s, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Sweep").SetCustomCodeEnabled(true))
		if err != nil {
			t.Fatal(err)
		}
		done, err := c.CreateVerification(*svc.Sid, newVerification("+14155552671", "sms").SetCustomCode("123456"))
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := c.CreateVerificationCheck(*svc.Sid, checkTo("+14155552671", "123456")); err != nil || *ok.Status != "approved" {
			t.Fatalf("check: %v", err)
		}
		live, err := c.CreateVerification(*svc.Sid, newVerification("+14155552672", "sms"))
		if err != nil {
			t.Fatal(err)
		}
		vl := func(v *openapi.VerifyV2Verification) verify.Sid {
			return verify.Sid((*v.SendCodeAttempts)[0].(map[string]any)["attempt_sid"].(string))
		}

		store := openTestStore(t, db)
		ctx := context.Background()
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			_, err := store.FindVerification(ctx, verify.Sid(*svc.Sid), verify.Sid(*done.Sid))
			if verify.IsCode(err, verify.ENotFound) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatal("after 15s the approved verification is still stored")
			}
		}
		if _, err := store.FindAttempt(ctx, testAccount, vl(done)); !verify.IsCode(err, verify.ENotFound) {
			t.Errorf("the approved verification's attempt: %v", err)
		}
		if _, err := store.FindVerification(ctx, verify.Sid(*svc.Sid), verify.Sid(*live.Sid)); err != nil {
			t.Errorf("the pending verification: %v", err)
		}
		if _, err := store.FindAttempt(ctx, testAccount, vl(live)); err != nil {
			t.Errorf("the pending verification's attempt: %v", err)
		}
	})
}
