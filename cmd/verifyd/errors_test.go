package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/otp"
)

// call makes a raw request with the test account's credentials and returns
// the HTTP status and the decoded JSON body.
func call(t *testing.T, s *server, method, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, m := request(t, s, method, path, testAccount, testToken, form)
	return resp.StatusCode, m
}

// request sends form (as the body of a POST, else as the query) with HTTP
// Basic credentials and decodes the JSON answer; a 204 has none.
func request(t *testing.T, s *server, method, path, user, pass string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		path += "?" + form.Encode()
	}
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
		}
	}
	return resp, m
}

// wantError fails unless the response is the Twilio error code with status.
func wantError(t *testing.T, name string, status int, body map[string]any, code, wantStatus int) {
	t.Helper()
	if status != wantStatus || body["code"] != float64(code) || body["status"] != float64(wantStatus) {
		t.Errorf("%s: got HTTP %d %v, want %d with code %d", name, status, body, wantStatus, code)
	}
}

func pubKey(t *testing.T, curve elliptic.Curve) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func pushForm(name, key, platform string) url.Values {
	f := url.Values{
		"FriendlyName": {name}, "FactorType": {"push"}, "Binding.Alg": {"ES256"}, "Binding.PublicKey": {key},
		"Config.AppId": {"com.example.app"}, "Config.NotificationPlatform": {platform}, "Config.SdkVersion": {"0.9.0"},
	}
	if platform != "none" {
		f.Set("Config.NotificationToken", strings.Repeat("t", 40))
	}
	return f
}

// TestErrorPaths checks each documented refusal: its Twilio code and HTTP
// status, through real HTTP.
func TestErrorPaths(t *testing.T) { forEachBackend(t, testErrorPaths) }

func testErrorPaths(t *testing.T, db string) {
	s, c := newServer(t, db)

	// Authentication.
	for name, creds := range map[string][2]string{
		"wrong token":   {testAccount, "nope"},
		"unknown sid":   {otherAccount, testToken},
		"malformed sid": {"XX123", testToken},
	} {
		_, err := twilioClient(t, s, creds[0], creds[1]).ListService(nil)
		if !strings.Contains(fmt.Sprint(err), "20003") {
			t.Errorf("%s: %v", name, err)
		}
	}
	resp, err := http.Get(s.base + "/v2/Services")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no credentials: HTTP %d", resp.StatusCode)
	}

	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Errors"))
	if err != nil {
		t.Fatal(err)
	}
	S := "/v2/Services/" + *svc.Sid
	const id = "error-path-user"
	E := S + "/Entities/" + id

	// Services.
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"missing name", url.Values{}},
		{"long name", url.Values{"FriendlyName": {strings.Repeat("n", 33)}}},
		{"code length 3", url.Values{"FriendlyName": {"x"}, "CodeLength": {"3"}}},
		{"code length 11", url.Values{"FriendlyName": {"x"}, "CodeLength": {"11"}}},
		{"code length text", url.Values{"FriendlyName": {"x"}, "CodeLength": {"six"}}},
		{"time step 61", url.Values{"FriendlyName": {"x"}, "Totp.TimeStep": {"61"}}},
		{"time step 19", url.Values{"FriendlyName": {"x"}, "Totp.TimeStep": {"19"}}},
		{"totp digits 9", url.Values{"FriendlyName": {"x"}, "Totp.CodeLength": {"9"}}},
		{"skew 3", url.Values{"FriendlyName": {"x"}, "Totp.Skew": {"3"}}},
		{"bool", url.Values{"FriendlyName": {"x"}, "Psd2Enabled": {"maybe"}}},
		{"credential sid", url.Values{"FriendlyName": {"x"}, "Push.ApnCredentialSid": {"CR12"}}},
	} {
		st, body := call(t, s, "POST", "/v2/Services", tc.form)
		wantError(t, "service "+tc.name, st, body, 60200, 400)
	}
	st, body := call(t, s, "POST", S, url.Values{"Totp.Skew": {"-1"}})
	wantError(t, "service update skew", st, body, 60200, 400)
	st, body = call(t, s, "GET", "/v2/Services/VA00000000000000000000000000000000", nil)
	wantError(t, "missing service", st, body, 20404, 404)
	st, body = call(t, s, "GET", "/v2/Services", url.Values{"PageSize": {"1001"}})
	if st != 400 {
		t.Errorf("PageSize 1001: HTTP %d %v", st, body)
	}
	st, body = call(t, s, "GET", "/v2/Services", url.Values{"PageToken": {"garbage"}})
	if st != 400 {
		t.Errorf("bad PageToken: HTTP %d %v", st, body)
	}

	// Entities.
	st, body = call(t, s, "POST", S+"/Entities", url.Values{"Identity": {"short"}})
	wantError(t, "short identity", st, body, 60366, 400)
	st, body = call(t, s, "POST", S+"/Entities", url.Values{"Identity": {"has_underscore1"}})
	wantError(t, "identity charset", st, body, 60366, 400)
	if st, body = call(t, s, "POST", S+"/Entities", url.Values{"Identity": {id}}); st != 201 {
		t.Fatalf("create entity: %d %v", st, body)
	}
	st, body = call(t, s, "POST", S+"/Entities", url.Values{"Identity": {id}})
	wantError(t, "duplicate entity", st, body, 60301, 409)

	// Factor creation.
	totp := url.Values{"FriendlyName": {"phone"}, "FactorType": {"totp"}}
	with := func(base url.Values, kv ...string) url.Values {
		f := url.Values{}
		for k, v := range base {
			f[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	priv, key := verifytest.DeviceKey(t)
	for _, tc := range []struct {
		name   string
		form   url.Values
		code   int
		status int
	}{
		{"no type", url.Values{"FriendlyName": {"x"}}, 60369, 400},
		{"bad type", with(totp, "FactorType", "sms"), 60369, 400},
		{"no name", with(totp, "FriendlyName", ""), 60300, 400},
		{"long name", with(totp, "FriendlyName", strings.Repeat("n", 65)), 60300, 400},
		{"alg md5", with(totp, "Config.Alg", "md5"), 60370, 400},
		{"time step 10", with(totp, "Config.TimeStep", "10"), 60370, 400},
		{"digits 9", with(totp, "Config.CodeLength", "9"), 60370, 400},
		{"skew 3", with(totp, "Config.Skew", "3"), 60370, 400},
		{"bad secret", with(totp, "Binding.Secret", "not base32!"), 60314, 400},
		{"short secret", with(totp, "Binding.Secret", "JBSWY3DP"), 60314, 400},
		{"metadata not json", with(totp, "Metadata", "{os"), 60300, 400},
		{"metadata not strings", with(totp, "Metadata", `{"n":1}`), 60300, 400},
		{"metadata too long", with(totp, "Metadata", `{"k":"`+strings.Repeat("v", 1020)+`"}`), 60300, 400},
		{"push no key", with(pushForm("p", key, "fcm"), "Binding.PublicKey", ""), 60314, 400},
		{"push bad key", with(pushForm("p", key, "fcm"), "Binding.PublicKey", "bm90IGEga2V5"), 60314, 400},
		{"push P-384 key", pushForm("p", pubKey(t, elliptic.P384()), "fcm"), 60314, 400},
		{"push alg", with(pushForm("p", key, "fcm"), "Binding.Alg", "RS256"), 60314, 400},
		{"push no app", func() url.Values { f := pushForm("p", key, "fcm"); f.Del("Config.AppId"); return f }(), 60370, 400},
		{"push long app", with(pushForm("p", key, "fcm"), "Config.AppId", strings.Repeat("a", 101)), 60370, 400},
		{"push platform", with(pushForm("p", key, "fcm"), "Config.NotificationPlatform", "sms"), 60370, 400},
		{"push short token", with(pushForm("p", key, "fcm"), "Config.NotificationToken", "short"), 60370, 400},
		{"push no token", with(pushForm("p", key, "apn"), "Config.NotificationToken", ""), 60370, 400},
		{"bad identity", totp, 60366, 400},
	} {
		path := E + "/Factors"
		if tc.name == "bad identity" {
			path = S + "/Entities/bad_id!/Factors"
		}
		st, body := call(t, s, "POST", path, tc.form)
		wantError(t, "factor "+tc.name, st, body, tc.code, tc.status)
	}

	// Push factor cap and duplicate binding.
	first := ""
	for i := range 20 {
		st, body := call(t, s, "POST", E+"/Factors", pushForm(fmt.Sprint("p", i), pubKey(t, elliptic.P256()), "none"))
		if st != 201 {
			t.Fatalf("push factor %d: %d %v", i, st, body)
		}
		if i == 0 {
			first = body["sid"].(string)
		}
	}
	st, body = call(t, s, "POST", E+"/Factors", pushForm("p21", pubKey(t, elliptic.P256()), "none"))
	wantError(t, "21st push factor", st, body, 60315, 400)
	st, body = call(t, s, "DELETE", E+"/Factors/"+first, nil)
	if st != 204 {
		t.Fatalf("delete factor: %d %v", st, body)
	}
	if st, body = call(t, s, "POST", E+"/Factors", pushForm("dup", key, "none")); st != 201 {
		t.Fatalf("push factor: %d %v", st, body)
	}
	pushSid := body["sid"].(string)
	st, body = call(t, s, "POST", E+"/Factors", pushForm("dup", key, "none"))
	wantError(t, "duplicate binding", st, body, 60317, 409)
	st, body = call(t, s, "POST", E+"/Factors/"+pushSid, url.Values{"AuthPayload": {base64.StdEncoding.EncodeToString([]byte("not a signature"))}, "FriendlyName": {"renamed"}})
	wantError(t, "push bad signature", st, body, 60311, 403)
	if st, body = call(t, s, "GET", E+"/Factors/"+pushSid, nil); body["friendly_name"] != "dup" {
		t.Errorf("a refused verification changed the factor: %d %v", st, body["friendly_name"])
	}
	if st, body = call(t, s, "POST", E+"/Factors/"+pushSid, url.Values{"AuthPayload": {verifytest.SignSid(t, priv, pushSid)}}); body["status"] != "verified" {
		t.Fatalf("verify push factor: %d %v", st, body)
	}

	// TOTP factor: challenge before verification, then five wrong codes.
	st, body = call(t, s, "POST", E+"/Factors", totp)
	if st != 201 {
		t.Fatalf("totp factor: %d %v", st, body)
	}
	tf := body["sid"].(string)
	secret := body["binding"].(map[string]any)["secret"].(string)
	codes := newCodes(t, secret, otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1})
	st, body = call(t, s, "POST", E+"/Challenges", url.Values{"FactorSid": {tf}})
	wantError(t, "challenge on unverified factor", st, body, 60318, 403)
	st, body = call(t, s, "POST", E+"/Factors/"+tf, url.Values{"AuthPayload": {"12"}})
	wantError(t, "2-digit code", st, body, 60300, 400)
	for i := range 5 {
		st, body = call(t, s, "POST", E+"/Factors/"+tf, url.Values{"AuthPayload": {codes.wrong(t)}})
		if st != 200 || body["status"] != "unverified" {
			t.Fatalf("wrong code %d: %d %v", i, st, body)
		}
	}
	st, body = call(t, s, "POST", E+"/Factors/"+tf, url.Values{"AuthPayload": {codes.next(t)}})
	wantError(t, "sixth try", st, body, 60310, 429)

	// A verified TOTP factor for challenge errors.
	st, body = call(t, s, "POST", E+"/Factors", totp)
	if st != 201 {
		t.Fatalf("totp factor: %d %v", st, body)
	}
	tf = body["sid"].(string)
	codes = newCodes(t, body["binding"].(map[string]any)["secret"].(string), otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1})
	if st, body = call(t, s, "POST", E+"/Factors/"+tf, url.Values{"AuthPayload": {codes.next(t)}}); body["status"] != "verified" {
		t.Fatalf("verify: %d %v", st, body)
	}
	expAt := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second)
	soon := expAt.Format(time.RFC3339)
	for _, tc := range []struct {
		name string
		form url.Values
		code int
	}{
		{"no factor", url.Values{}, 60363},
		{"malformed factor", url.Values{"FactorSid": {"YF12"}}, 60363},
		{"late expiry", url.Values{"FactorSid": {tf}, "ExpirationDate": {time.Now().Add(61 * time.Minute).UTC().Format(time.RFC3339)}}, 60300},
		{"past expiry", url.Values{"FactorSid": {tf}, "ExpirationDate": {"2020-01-01T00:00:00Z"}}, 60300},
		{"bad date", url.Values{"FactorSid": {tf}, "ExpirationDate": {"tomorrow"}}, 60300},
		{"short code", url.Values{"FactorSid": {tf}, "AuthPayload": {"12"}}, 60300},
		{"long code", url.Values{"FactorSid": {tf}, "AuthPayload": {"123456789"}}, 60300},
		{"hidden not json", url.Values{"FactorSid": {tf}, "HiddenDetails": {"ip=1"}}, 60368},
		{"label too long", url.Values{"FactorSid": {tf}, "Details.Fields": {`{"label":"` + strings.Repeat("l", 37) + `","value":"v"}`}}, 60368},
		{"field not json", url.Values{"FactorSid": {tf}, "Details.Fields": {`label=x`}}, 60368},
		{"21 fields", url.Values{"FactorSid": {tf}, "Details.Fields": strings.Split(strings.Repeat(`{"label":"a","value":"b"}|`, 21)[:21*26-1], "|")}, 60368},
		{"push without message", url.Values{"FactorSid": {pushSid}}, 60368},
		{"push long message", url.Values{"FactorSid": {pushSid}, "Details.Message": {strings.Repeat("m", 257)}}, 60368},
	} {
		st, body := call(t, s, "POST", E+"/Challenges", tc.form)
		wantError(t, "challenge "+tc.name, st, body, tc.code, 400)
	}
	st, body = call(t, s, "POST", E+"/Challenges", url.Values{"FactorSid": {"YF00000000000000000000000000000000"}})
	wantError(t, "unknown factor", st, body, 20404, 404)

	// Notifications: a TOTP challenge, platform none, bad ttl.
	st, body = call(t, s, "POST", E+"/Challenges", url.Values{"FactorSid": {tf}, "ExpirationDate": {soon}})
	if st != 201 {
		t.Fatalf("challenge: %d %v", st, body)
	}
	expiring := body["sid"].(string)
	st, body = call(t, s, "POST", E+"/Challenges/"+expiring+"/Notifications", nil)
	wantError(t, "notify totp", st, body, 60300, 400)
	st, body = call(t, s, "POST", E+"/Challenges/"+expiring+"/Notifications", url.Values{"Ttl": {"301"}})
	wantError(t, "notify ttl", st, body, 60300, 400)

	// Expired and already-answered challenges.
	time.Sleep(time.Until(expAt) + 100*time.Millisecond)
	st, body = call(t, s, "GET", E+"/Challenges/"+expiring, nil)
	if body["status"] != "expired" {
		t.Fatalf("challenge past expiry reads %v", body["status"])
	}
	st, body = call(t, s, "POST", E+"/Challenges/"+expiring, url.Values{"AuthPayload": {codes.wrong(t)}})
	wantError(t, "answer expired", st, body, 60323, 403)
	st, body = call(t, s, "GET", E+"/Challenges", url.Values{"Status": {"expired"}})
	if list, _ := body["challenges"].([]any); st != 200 || len(list) != 1 {
		t.Fatalf("expired filter: %d %v", st, body)
	}
	st, body = call(t, s, "GET", E+"/Challenges", url.Values{"Status": {"lost"}})
	wantError(t, "bad status filter", st, body, 60300, 400)
	st, body = call(t, s, "GET", E+"/Challenges", url.Values{"Order": {"sideways"}})
	wantError(t, "bad order", st, body, 60300, 400)

	// Access tokens.
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"no identity", url.Values{"FactorType": {"push"}}},
		{"bad identity", url.Values{"FactorType": {"push"}, "Identity": {"x"}}},
		{"totp", url.Values{"FactorType": {"totp"}, "Identity": {id}}},
		{"ttl 59", url.Values{"FactorType": {"push"}, "Identity": {id}, "Ttl": {"59"}}},
		{"ttl 301", url.Values{"FactorType": {"push"}, "Identity": {id}, "Ttl": {"301"}}},
	} {
		st, body := call(t, s, "POST", S+"/AccessTokens", tc.form)
		wantError(t, "access token "+tc.name, st, body, 60305, 400)
	}
	st, body = call(t, s, "GET", S+"/AccessTokens/YK00000000000000000000000000000000", nil)
	wantError(t, "missing access token", st, body, 20404, 404)
	st, body = call(t, s, "GET", "/v2/Forms/form-sms", nil)
	wantError(t, "unknown form", st, body, 20404, 404)
}

// TestNotificationRefusals covers the notification codes that need a
// verified push factor: platform none (60307) and a cap test lives in the
// end-to-end test.
func TestNotificationRefusals(t *testing.T) { forEachBackend(t, testNotificationRefusals) }

func testNotificationRefusals(t *testing.T, db string) {
	s, _ := newServer(t, db)
	E := newEntityPath(t, s, "Notify", "notify-user-1")
	k, pub := verifytest.DeviceKey(t)
	st, body := call(t, s, "POST", E+"/Factors", pushForm("none phone", pub, "none"))
	if st != 201 {
		t.Fatal(st, body)
	}
	fs := body["sid"].(string)
	if _, ok := body["config"].(map[string]any)["notification_token"]; ok {
		t.Errorf("platform none factor has a notification token: %v", body["config"])
	}
	sig := verifytest.SignSid(t, k, fs)
	if st, body = call(t, s, "POST", E+"/Factors/"+fs, url.Values{"AuthPayload": {sig}}); body["status"] != "verified" {
		t.Fatal(st, body)
	}
	st, body = call(t, s, "POST", E+"/Challenges", url.Values{"FactorSid": {fs}, "Details.Message": {"Log in?"}})
	if st != 201 {
		t.Fatal(st, body)
	}
	st, body = call(t, s, "POST", E+"/Challenges/"+body["sid"].(string)+"/Notifications", nil)
	wantError(t, "platform none", st, body, 60307, 400)
}

// TestTotpFactorCap: an entity holds at most 100 TOTP factors (60315).
// Creating them spends the entity's 100 factor creations of the day, so a
// push factor beside them is refused the same day (60326); that the cap
// counts TOTP apart from push shows a day later (api.TestFactorQuota).
func TestTotpFactorCap(t *testing.T) { forEachBackend(t, testTotpFactorCap) }

func testTotpFactorCap(t *testing.T, db string) {
	s, _ := newServer(t, db)
	E := newEntityPath(t, s, "Cap", "cap-user-0001")
	totp := url.Values{"FriendlyName": {"phone"}, "FactorType": {"totp"}}
	var st int
	var body map[string]any
	for i := range 100 {
		if st, body = call(t, s, "POST", E+"/Factors", totp); st != 201 {
			t.Fatalf("TOTP factor %d: %d %v", i+1, st, body)
		}
	}
	st, body = call(t, s, "POST", E+"/Factors", totp)
	wantError(t, "101st TOTP factor", st, body, 60315, 400)
	_, pub := verifytest.DeviceKey(t)
	st, body = call(t, s, "POST", E+"/Factors", pushForm("push beside", pub, "none"))
	wantError(t, "a push factor beside 100 TOTP factors the same day", st, body, 60326, 429)
	st, body = call(t, s, "GET", E+"/Factors", url.Values{"PageSize": {"1000"}})
	if list, _ := body["factors"].([]any); st != 200 || len(list) != 100 {
		t.Fatalf("list: %d, %d factors", st, len(list))
	}
}

// newEntityPath creates a service and returns the path of an entity in it
// (created with its first factor).
func newEntityPath(t *testing.T, s *server, service, identity string) string {
	t.Helper()
	st, body := call(t, s, "POST", "/v2/Services", url.Values{"FriendlyName": {service}})
	if st != 201 {
		t.Fatal(st, body)
	}
	return "/v2/Services/" + body["sid"].(string) + "/Entities/" + identity
}
