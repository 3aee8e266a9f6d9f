package main

import (
	"strings"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// TestMessagingConfigurations manages a service's per-country Messaging
// Service SIDs with twilio-go and checks that an SMS carries the one of
// its destination's country to the gateway, all's otherwise, and none
// for WhatsApp, which has the service's own.
func TestMessagingConfigurations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		g := &gatewayReceiver{t: t}
		env := gatewayEnv(t, g)
		s := startServer(t, db, env)
		c := twilioClient(t, s, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Shop"))
		if err != nil {
			t.Fatal(err)
		}
		va := *svc.Sid
		mg := func(c string) string { return "MG" + strings.Repeat(c, 32) }
		create := func(country, sid string) (*openapi.VerifyV2MessagingConfiguration, error) {
			return c.CreateMessagingConfiguration(va, (&openapi.CreateMessagingConfigurationParams{}).
				SetCountry(country).SetMessagingServiceSid(sid))
		}

		all, err := create("all", mg("a"))
		if err != nil || *all.Country != "all" || *all.MessagingServiceSid != mg("a") || *all.ServiceSid != va ||
			*all.AccountSid != testAccount || !strings.HasSuffix(*all.Url, "/v2/Services/"+va+"/MessagingConfigurations/all") {
			t.Fatalf("create all: %+v, %v", all, err)
		}
		gb, err := create("gb", mg("b"))
		if err != nil || *gb.Country != "GB" {
			t.Fatalf("create gb: %+v, %v", gb, err)
		}
		_, err = create("GB", mg("c"))
		wantTwilioError(t, err, 60213, 400)
		_, err = create("XX", mg("c"))
		wantTwilioError(t, err, 60200, 400)
		_, err = create("FR", "MG123")
		wantTwilioError(t, err, 60200, 400)
		_, err = create("FR", "")
		wantTwilioError(t, err, 60200, 400)
		_, err = c.CreateMessagingConfiguration(va, (&openapi.CreateMessagingConfigurationParams{}).SetMessagingServiceSid(mg("c")))
		wantTwilioError(t, err, 60200, 400)
		_, err = c.CreateMessagingConfiguration("VA"+strings.Repeat("0", 32), (&openapi.CreateMessagingConfigurationParams{}).
			SetCountry("FR").SetMessagingServiceSid(mg("c")))
		wantTwilioError(t, err, 20404, 404)

		got, err := c.FetchMessagingConfiguration(va, "GB")
		if err != nil || *got.MessagingServiceSid != mg("b") {
			t.Fatalf("fetch: %+v, %v", got, err)
		}
		_, err = c.FetchMessagingConfiguration(va, "FR")
		wantTwilioError(t, err, 20404, 404)
		upd, err := c.UpdateMessagingConfiguration(va, "GB", (&openapi.UpdateMessagingConfigurationParams{}).SetMessagingServiceSid(mg("d")))
		if err != nil || *upd.MessagingServiceSid != mg("d") || *upd.Country != "GB" {
			t.Fatalf("update: %+v, %v", upd, err)
		}
		_, err = c.UpdateMessagingConfiguration(va, "GB", (&openapi.UpdateMessagingConfigurationParams{}).SetMessagingServiceSid("PN"+strings.Repeat("0", 32)))
		wantTwilioError(t, err, 60200, 400)
		_, err = c.UpdateMessagingConfiguration(va, "FR", (&openapi.UpdateMessagingConfigurationParams{}).SetMessagingServiceSid(mg("d")))
		wantTwilioError(t, err, 20404, 404)

		// Listing follows the pages twilio-go asks for.
		if _, err := create("US", mg("e")); err != nil {
			t.Fatal(err)
		}
		list, err := c.ListMessagingConfiguration(va, (&openapi.ListMessagingConfigurationParams{}).SetPageSize(2))
		if err != nil || len(list) != 3 {
			t.Fatalf("list: %d, %v", len(list), err)
		}
		seen := map[string]string{}
		for _, m := range list {
			seen[*m.Country] = *m.MessagingServiceSid
		}
		if seen["all"] != mg("a") || seen["GB"] != mg("d") || seen["US"] != mg("e") {
			t.Fatalf("listed %v", seen)
		}

		// An SMS to GB takes GB's, to DE all's; WhatsApp none.
		sends := []struct{ to, channel, want string }{
			{"+447400123456", "sms", mg("d")}, {"+4915112345678", "sms", mg("a")}, {"+14155552671", "whatsapp", ""},
		}
		for _, sd := range sends {
			if _, err := c.CreateVerification(va, newVerification(sd.to, sd.channel)); err != nil {
				t.Fatal(err)
			}
			r := g.waitFor(sd.to, 1)
			if got := r.MessagingServiceSid; (got == nil) != (sd.want == "") || got != nil && *got != sd.want {
				t.Errorf("%s to %s: messaging_service_sid %v, want %q", sd.channel, sd.to, got, sd.want)
			}
		}
		if err := c.DeleteMessagingConfiguration(va, "all"); err != nil {
			t.Fatal(err)
		}
		wantTwilioError(t, c.DeleteMessagingConfiguration(va, "all"), 20404, 404)
		if _, err := c.CreateVerification(va, newVerification("+4915112345679", "sms")); err != nil {
			t.Fatal(err)
		}
		if r := g.waitFor("+4915112345679", 1); r.MessagingServiceSid != nil {
			t.Errorf("after all's delete: %q", *r.MessagingServiceSid)
		}
	})
}
