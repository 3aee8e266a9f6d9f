package api

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"

	"github.com/verifyd/verify/internal/verifytest"
)

// badText are values refused in every text parameter: invalid UTF-8, NUL,
// another C0 control (ESC) in one-line text, DEL and a C1 control.
var badText = map[string]string{
	"invalid UTF-8": "ab\xffcd",
	"NUL":           "ab\x00cd",
	"ESC":           "ab\x1b[2Jcd",
	"DEL":           "ab\x7fcd",
	"C1 NEL":        "ab\u0085cd",
}

// badJSON are JSON-valued parameters refused wherever a JSON object of
// strings is expected.
var badJSON = map[string]string{
	"invalid UTF-8":          "{\"a\":\"b\xffc\"}",
	"escaped NUL":            `{"a":"b\u0000c"}`,
	"escaped ESC in key":     `{"a\u001b":"b"}`,
	"lone surrogate":         `{"a":"b\ud800c"}`,
	"duplicate key":          `{"a":"1","a":"2"}`,
	"duplicate, twice coded": `"{\"a\":\"1\",\"a\":\"2\"}"`,
}

// TestRefusesBadText sends invalid UTF-8, NUL and other control characters
// in each text parameter over HTTP, and JSON parameters with those or with a
// repeated key, and expects the resource's Twilio 400 and nothing stored.
func TestRefusesBadText(t *testing.T) {
	e := newEnv(t)
	svc, ent := e.newService(t, "")
	svcPath := "/v2/Services/" + svc
	fsid := e.verifiedPush(t, ent)
	factorPath := ent + "/Factors/" + fsid
	keys := "/2010-04-01/Accounts/" + acctA + "/Keys.json"
	newEnt := "/v2/Services/" + svc + "/Entities/user-bad-0001"

	// Snapshots of what must not change.
	snap := func() [][]byte {
		return [][]byte{
			e.as(http.MethodGet, "/v2/Services", "").want(t, http.StatusOK).raw,
			e.as(http.MethodGet, svcPath, "").want(t, http.StatusOK).raw,
			e.as(http.MethodGet, factorPath, "").want(t, http.StatusOK).raw,
			e.as(http.MethodGet, ent+"/Challenges", "").want(t, http.StatusOK).raw,
			e.as(http.MethodGet, keys, "").want(t, http.StatusOK).raw,
			e.as(http.MethodGet, "/v1/Credentials", "").want(t, http.StatusOK).raw,
		}
	}
	before := snap()

	type call struct {
		path   string
		form   url.Values
		field  string // the parameter to spoil
		code   int
		isJSON bool
	}
	_, pub := verifytest.DeviceKey(t)
	pushFactor := func() url.Values {
		return url.Values{"FriendlyName": {"phone"}, "FactorType": {"push"}, "Binding.Alg": {"ES256"},
			"Binding.PublicKey": {pub},
			"Config.AppId":      {"com.example.app"}, "Config.NotificationPlatform": {"fcm"},
			"Config.NotificationToken": {"token-0123456789"}, "Config.SdkVersion": {"1.0.0"}}
	}
	calls := []call{
		{"/v2/Services", url.Values{}, "FriendlyName", 60200, false},
		{svcPath, url.Values{}, "FriendlyName", 60200, false},
		{svcPath, url.Values{}, "TtsName", 60200, false},
		{svcPath, url.Values{}, "Totp.Issuer", 60200, false},
		{svcPath, url.Values{}, "Whatsapp.From", 60200, false},
		{svcPath, url.Values{}, "Passkeys.RelyingParty.Id", 60200, false},
		{svcPath, url.Values{}, "Passkeys.RelyingParty.Name", 60200, false},
		{svcPath, url.Values{}, "Passkeys.RelyingParty.Origins", 60200, false},
		{newEnt + "/Factors", url.Values{"FactorType": {"totp"}}, "FriendlyName", 60300, false},
		{newEnt + "/Factors", url.Values{"FactorType": {"totp"}, "FriendlyName": {"x"}}, "Metadata", 60300, true},
		{newEnt + "/Factors", pushFactor(), "Config.AppId", 60370, false},
		{newEnt + "/Factors", pushFactor(), "Config.SdkVersion", 60370, false},
		{newEnt + "/Factors", pushFactor(), "Config.NotificationToken", 60370, false},
		{factorPath, url.Values{}, "FriendlyName", 60300, false},
		{factorPath, url.Values{}, "Metadata", 60300, true},
		{factorPath, url.Values{}, "Config.AppId", 60370, false},
		{factorPath, url.Values{}, "Config.SdkVersion", 60370, false},
		{ent + "/Challenges", url.Values{"FactorSid": {fsid}}, "Details.Message", 60368, false},
		{ent + "/Challenges", url.Values{"FactorSid": {fsid}, "Details.Message": {"Log in?"}}, "HiddenDetails", 60368, true},
		{svcPath + "/AccessTokens", url.Values{"Identity": {"user-bad-0001"}, "FactorType": {"push"}}, "FactorFriendlyName", 60305, false},
		{keys, url.Values{}, "FriendlyName", 20001, false},
		{"/v1/Credentials", url.Values{"Type": {"fcm"}}, "FriendlyName", 20001, false},
	}
	for _, c := range calls {
		values := badText
		if c.isJSON {
			values = badJSON
		}
		for name, bad := range values {
			form := url.Values{}
			for k, v := range c.form {
				form[k] = v
			}
			form.Set(c.field, bad)
			r := e.as(http.MethodPost, c.path, form.Encode())
			if r.status != http.StatusBadRequest || r.body["code"] != float64(c.code) {
				t.Errorf("POST %s with %s %s: %d %s, want 400 with code %d", c.path, c.field, name, r.status, r.raw, c.code)
			}
		}
	}

	// Details.Fields items: bad text in the label or value, a repeated key,
	// invalid UTF-8 in the raw JSON.
	fields := map[string]string{
		"NUL in label":           `{"label":"a\u0000","value":"b"}`,
		"newline in label":       `{"label":"a\nb","value":"b"}`,
		"ESC in value":           `{"label":"a","value":"b\u001b"}`,
		"invalid UTF-8 in value": "{\"label\":\"a\",\"value\":\"b\xff\"}",
		"lone surrogate":         `{"label":"a","value":"\udc00"}`,
		"repeated label":         `{"label":"a","label":"b","value":"c"}`,
		"repeated, twice coded":  `"{\"label\":\"a\",\"value\":\"b\",\"value\":\"c\"}"`,
	}
	for name, item := range fields {
		form := url.Values{"FactorSid": {fsid}, "Details.Message": {"Log in?"}, "Details.Fields": {`{"label":"ok","value":"ok"}`, item}}
		e.as(http.MethodPost, ent+"/Challenges", form.Encode()).wantError(t, http.StatusBadRequest, 60368)
		if t.Failed() {
			t.Fatalf("Details.Fields %s", name)
		}
	}

	// No new entity: the refused factors did not create it.
	e.as(http.MethodGet, newEnt, "").wantError(t, http.StatusNotFound, 20404)
	for i, after := range snap() {
		if !bytes.Equal(after, before[i]) {
			t.Errorf("snapshot %d changed:\n%s\nwas\n%s", i, after, before[i])
		}
	}

	// Multi-line text keeps tab, newline and carriage return, and comes
	// back as sent.
	msg := "Log in from\r\nBerlin?\tYes"
	r := e.as(http.MethodPost, ent+"/Challenges", url.Values{"FactorSid": {fsid}, "Details.Message": {msg},
		"Details.Fields": {`{"label":"Where","value":"line 1\nline 2"}`},
		"HiddenDetails":  {`{"ip":"203.0.113.7\n"}`}}.Encode()).want(t, http.StatusCreated)
	if got := r.str(t, "details.message"); got != msg {
		t.Errorf("details.message = %q, want %q", got, msg)
	}
	if got := r.str(t, "hidden_details.ip"); got != "203.0.113.7\n" {
		t.Errorf("hidden_details.ip = %q", got)
	}
	// A challenge answer's Metadata is checked as well, before anything
	// is stored.
	csid := r.str(t, "sid")
	for name, bad := range badJSON {
		e.as(http.MethodPost, ent+"/Challenges/"+csid, url.Values{"AuthPayload": {"x"}, "Metadata": {bad}}.Encode()).
			wantError(t, http.StatusBadRequest, 60300)
		if t.Failed() {
			t.Fatalf("challenge Metadata %s", name)
		}
	}
	if got := e.as(http.MethodGet, ent+"/Challenges/"+csid, "").want(t, http.StatusOK).str(t, "status"); got != "pending" {
		t.Errorf("status = %s after refused answers", got)
	}
}
