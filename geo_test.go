package verify

import (
	"strings"
	"testing"
)

// TestGeoPermissions: the most specific matching rule decides, and a
// file with any mistake is refused whole.
func TestGeoPermissions(t *testing.T) {
	const acct, other = Sid("AC00000000000000000000000000000001"), Sid("AC00000000000000000000000000000002")
	const svc = Sid("VA00000000000000000000000000000001")
	g, err := LoadGeoPermissions(strings.NewReader(`{"rules": [
		{"countries": ["*"], "permission": "block", "channels": ["call"]},
		{"countries": ["ng", "CU"], "permission": "block"},
		{"account": "` + string(acct) + `", "countries": ["NG"], "permission": "allow"},
		{"account": "` + string(acct) + `", "countries": ["*"], "permission": "allow", "channels": ["call"]},
		{"service": "` + string(svc) + `", "countries": ["*"], "permission": "block", "channels": ["whatsapp"]},
		{"countries": ["CU"], "permission": "allow", "channels": ["whatsapp"]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		account, service Sid
		country, channel string
		want             string
	}{
		{other, "", "NG", "sms", GeoBlock},       // everyone's NG rule
		{acct, "", "NG", "sms", GeoAllow},        // the account's NG rule is more specific
		{other, "", "US", "sms", GeoAllow},       // no rule
		{other, "", "US", "call", GeoBlock},      // everyone's "*" call rule
		{acct, "", "US", "call", GeoAllow},       // the account's "*" beats everyone's "*"
		{acct, "", "NG", "call", GeoAllow},       // the account's NG rule beats everyone's NG rule
		{other, "", "CU", "whatsapp", GeoAllow},  // the later of two equal rules
		{other, svc, "CU", "whatsapp", GeoBlock}, // the service's "*" beats everyone's CU
		{other, "", "NG", "email", GeoAllow},     // e-mail has no country
		{other, "", "", "sms", GeoAllow},         // nor does a non-geographic number
	} {
		if got, _ := g.Decide(tc.account, tc.service, tc.country, tc.channel); got != tc.want {
			t.Errorf("Decide(%s, %s, %s, %s) = %s, want %s", tc.account, tc.service, tc.country, tc.channel, got, tc.want)
		}
	}
	if got, _ := (*GeoPermissions)(nil).Decide(acct, svc, "NG", "sms"); got != GeoAllow {
		t.Errorf("nil permissions: %s", got)
	}
	for _, bad := range []string{
		`{"rules": [{"countries": ["XX"], "permission": "block"}]}`,
		`{"rules": [{"countries": ["NG"], "permission": "deny"}]}`,
		`{"rules": [{"countries": [], "permission": "block"}]}`,
		`{"rules": [{"countries": ["NG"], "permission": "block", "channels": ["email"]}]}`,
		`{"rules": [{"countries": ["NG"], "permission": "block", "account": "AC1"}]}`,
		`{"rules": [{"countries": ["NG"], "permission": "block", "servce": "VA1"}]}`,
		`{"rules": [`,
	} {
		if _, err := LoadGeoPermissions(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
