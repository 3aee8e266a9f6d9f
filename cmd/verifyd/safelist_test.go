package main

import (
	"os"
	"path/filepath"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// TestSafeListAndGeo serves geo permissions that block SMS to Nigeria and
// calls everywhere: a create to Nigeria answers 403/60605 until the number
// is on the Safe List (managed with twilio-go, literal "+" in the path),
// or with RiskCheck=disable; other countries and channels pass.
func TestSafeListAndGeo(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		geo := filepath.Join(t.TempDir(), "geo.json")
		if err := os.WriteFile(geo, []byte(`{"rules": [
			{"countries": ["NG"], "permission": "block", "channels": ["sms"]},
			{"countries": ["*"], "permission": "block", "channels": ["call"]}
		]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, db, accountEnv(testAccount, testToken), "--dev", "--geo-permissions", geo)
		c := twilioClient(t, s, testAccount, testToken)
		svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Shop"))
		if err != nil {
			t.Fatal(err)
		}
		va := *svc.Sid
		const ng, ng2 = "+2348031234567", "+2348031234568"
		_, err = c.CreateVerification(va, newVerification(ng, "sms"))
		wantTwilioError(t, err, 60605, 403)
		_, err = c.CreateVerification(va, newVerification("+14155552671", "call"))
		wantTwilioError(t, err, 60605, 403)
		if _, err := c.CreateVerification(va, newVerification("+14155552671", "sms")); err != nil {
			t.Fatalf("sms to the US: %v", err)
		}
		if _, err := c.CreateVerification(va, newVerification(ng, "whatsapp")); err != nil {
			t.Fatalf("whatsapp to Nigeria: %v", err)
		}

		// The Safe List.
		_, err = c.FetchSafelist(ng)
		wantTwilioError(t, err, 20404, 404)
		sl, err := c.CreateSafelist((&openapi.CreateSafelistParams{}).SetPhoneNumber(ng))
		if err != nil || *sl.PhoneNumber != ng || len(*sl.Sid) != 34 || (*sl.Sid)[:2] != "GN" || *sl.Url != s.base+"/v2/SafeList/Numbers/"+ng {
			t.Fatalf("create: %+v, %v", sl, err)
		}
		_, err = c.CreateSafelist((&openapi.CreateSafelistParams{}).SetPhoneNumber(ng))
		wantTwilioError(t, err, 60411, 400)
		_, err = c.CreateSafelist((&openapi.CreateSafelistParams{}).SetPhoneNumber("+1234"))
		wantTwilioError(t, err, 60200, 400)
		_, err = c.CreateSafelist(&openapi.CreateSafelistParams{})
		wantTwilioError(t, err, 60200, 400)
		got, err := c.FetchSafelist(ng)
		if err != nil || *got.Sid != *sl.Sid {
			t.Fatalf("fetch: %+v, %v", got, err)
		}
		if _, err := c.CreateVerification(va, newVerification(ng, "sms")); err != nil {
			t.Fatalf("a safe-listed number: %v", err)
		}
		// RiskCheck=disable skips geo permissions for one request.
		_, err = c.CreateVerification(va, newVerification(ng2, "sms"))
		wantTwilioError(t, err, 60605, 403)
		if _, err := c.CreateVerification(va, newVerification(ng2, "sms").SetRiskCheck("disable")); err != nil {
			t.Fatalf("RiskCheck=disable: %v", err)
		}
		if err := c.DeleteSafelist(ng); err != nil {
			t.Fatal(err)
		}
		wantTwilioError(t, c.DeleteSafelist(ng), 20404, 404)
		_, err = c.FetchSafelist(ng)
		wantTwilioError(t, err, 20404, 404)
	})
}
