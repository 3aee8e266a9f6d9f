package main

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/device"
	"github.com/verifyd/verify/internal/verifytest"
)

// rawDevice is the least a device needs to speak the push protocol; the
// negative tests use it to forge what a well-behaved SDK never sends.
type rawDevice struct {
	key                  *ecdsa.PrivateKey
	account, cred, sid   string
	service, identity, e string // e: the entity path
}

// deviceCall sends a request authenticated as "token:<credential>".
func deviceCall(t *testing.T, s *server, method, path, credential string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	return request(t, s, method, path, "token", credential, form)
}

// jwt mints a device JWT valid from nbf, as the SDK does (exp = nbf+600).
func (d *rawDevice) jwt(t *testing.T, nbf time.Time) string {
	t.Helper()
	tok, err := device.JWT(d.key, d.cred, d.account, nbf.Unix())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// answer signs status over the listed fields of a challenge as read by GET
// (or as a forger changed it).
func answer(t *testing.T, key *ecdsa.PrivateKey, body map[string]any, fields, status string) string {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := device.Answer(key, raw, strings.Split(fields, ","), status)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// enrollRaw creates and verifies a push factor through the device routes.
func enrollRaw(t *testing.T, s *server, c *openapi.ApiService, service, identity string) *rawDevice {
	t.Helper()
	at, err := c.CreateAccessToken(service, new(openapi.CreateAccessTokenParams).SetIdentity(identity).SetFactorType("push"))
	if err != nil {
		t.Fatal(err)
	}
	key, pub := verifytest.DeviceKey(t)
	e := "/v2/Services/" + service + "/Entities/" + identity
	resp, body := deviceCall(t, s, "POST", e+"/Factors", *at.Token, pushForm("device", pub, "none"))
	if resp.StatusCode != 201 {
		t.Fatalf("enroll: %d %v", resp.StatusCode, body)
	}
	d := &rawDevice{key: key, account: body["account_sid"].(string), cred: body["config"].(map[string]any)["credential_sid"].(string),
		sid: body["sid"].(string), service: service, identity: identity, e: e}
	resp, body = deviceCall(t, s, "POST", e+"/Factors/"+d.sid, d.jwt(t, time.Now()), url.Values{"AuthPayload": {verifytest.SignSid(t, key, d.sid)}})
	if resp.StatusCode != 200 || body["status"] != "verified" {
		t.Fatalf("verify: %d %v", resp.StatusCode, body)
	}
	return d
}

// TestPushDeviceRefusals covers each way a device request is refused, with
// the Twilio code and status, and checks that a refusal changes nothing.
func TestPushDeviceRefusals(t *testing.T) { forEachBackend(t, testPushDeviceRefusals) }

func testPushDeviceRefusals(t *testing.T, db string) {
	s, c := newServer(t, db)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Push"))
	if err != nil {
		t.Fatal(err)
	}
	VA := *svc.Sid

	// Access tokens: reuse, wrong identity, wrong service, expired shapes.
	at, _ := c.CreateAccessToken(VA, new(openapi.CreateAccessTokenParams).SetIdentity("alice-0001").SetFactorType("push"))
	_, pub := verifytest.DeviceKey(t)
	E := "/v2/Services/" + VA + "/Entities/alice-0001"
	resp, body := deviceCall(t, s, "POST", "/v2/Services/"+VA+"/Entities/mallory-01/Factors", *at.Token, pushForm("x", pub, "none"))
	wantError(t, "token for another identity", resp.StatusCode, body, 60313, 403)
	resp, body = deviceCall(t, s, "POST", E+"/Factors", *at.Token+"x", pushForm("x", pub, "none"))
	wantError(t, "tampered token", resp.StatusCode, body, 60313, 403)
	resp, body = deviceCall(t, s, "POST", E+"/Factors", *at.Token, without(pushForm("x", pub, "none"), "Config.AppId"))
	wantError(t, "bad form keeps the token", resp.StatusCode, body, 60370, 400)
	if resp, body = deviceCall(t, s, "POST", E+"/Factors", *at.Token, pushForm("x", pub, "none")); resp.StatusCode != 201 {
		t.Fatalf("enroll with the token after a refused request: %d %v", resp.StatusCode, body)
	}
	_, pub2 := verifytest.DeviceKey(t)
	resp, body = deviceCall(t, s, "POST", E+"/Factors", *at.Token, pushForm("y", pub2, "none"))
	wantError(t, "reused token", resp.StatusCode, body, 60313, 403)
	resp, body = deviceCall(t, s, "GET", "/v2/Services/"+VA, *at.Token, nil)
	wantError(t, "token outside create factor", resp.StatusCode, body, 20003, 401)

	alice := enrollRaw(t, s, c, VA, "alice-0002")
	bob := enrollRaw(t, s, c, VA, "bob-00000001")
	newChallenge := func(d *rawDevice, exp time.Time) string {
		t.Helper()
		p := new(openapi.CreateChallengeParams).SetFactorSid(d.sid).SetDetailsMessage("Log in?").
			SetDetailsFields([]any{map[string]string{"label": "IP", "value": "203.0.113.7"}}).SetHiddenDetails(map[string]string{"ip": "203.0.113.7"})
		if !exp.IsZero() {
			p.SetExpirationDate(exp)
		}
		ch, err := c.CreateChallenge(VA, d.identity, p)
		if err != nil {
			t.Fatal(err)
		}
		return *ch.Sid
	}
	get := func(d *rawDevice, sid string) (*http.Response, map[string]any) {
		return deviceCall(t, s, "GET", d.e+"/Challenges/"+sid, d.jwt(t, time.Now()), nil)
	}
	post := func(d *rawDevice, sid, payload string) (*http.Response, map[string]any) {
		return deviceCall(t, s, "POST", d.e+"/Challenges/"+sid, d.jwt(t, time.Now()), url.Values{"AuthPayload": {payload}})
	}
	statusOf := func(sid, identity string) string {
		ch, err := c.FetchChallenge(VA, identity, sid)
		if err != nil {
			t.Fatal(err)
		}
		return *ch.Status
	}

	ch := newChallenge(alice, time.Time{})
	resp, body = get(alice, ch)
	fields := resp.Header.Get("Twilio-Verify-Signature-Fields")
	if resp.StatusCode != 200 || fields == "" || strings.Contains(fields, " ") {
		t.Fatalf("GET pending challenge: %d fields=%q %v", resp.StatusCode, fields, body)
	}

	// Tampered payload: a field changed after signing, or a different value signed.
	good := answer(t, alice.key, body, fields, "approved")
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), "approved", "denied", 1)
	resp, body2 := post(alice, ch, parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(forged))+"."+parts[2])
	wantError(t, "tampered payload", resp.StatusCode, body2, 60324, 403)
	changed := map[string]any{}
	for k, v := range body {
		changed[k] = v
	}
	changed["hidden_details"] = map[string]any{"ip": "198.51.100.1"}
	resp, body2 = post(alice, ch, answer(t, alice.key, changed, fields, "approved"))
	wantError(t, "signed other details", resp.StatusCode, body2, 60324, 403)
	resp, body2 = post(alice, ch, answer(t, alice.key, body, fields, "maybe"))
	wantError(t, "status not approved/denied", resp.StatusCode, body2, 60324, 403)
	resp, body2 = post(alice, ch, answer(t, bob.key, body, fields, "approved"))
	wantError(t, "signed by another key", resp.StatusCode, body2, 60324, 403)
	resp, body2 = post(alice, ch, answer(t, alice.key, body, strings.TrimSuffix(fields, ",hidden_details"), "approved"))
	wantError(t, "a field left out", resp.StatusCode, body2, 60324, 403)
	if st := statusOf(ch, alice.identity); st != "pending" {
		t.Fatalf("refused answers changed the challenge to %s", st)
	}

	// Another entity's challenge: not visible, not answerable, not listable.
	resp, body2 = get(bob, ch)
	wantError(t, "bob reads alice's challenge via his path", resp.StatusCode, body2, 20404, 404)
	resp, body2 = deviceCall(t, s, "GET", alice.e+"/Challenges/"+ch, bob.jwt(t, time.Now()), nil)
	wantError(t, "bob on alice's path", resp.StatusCode, body2, 20404, 404)
	resp, body2 = deviceCall(t, s, "POST", alice.e+"/Challenges/"+ch, bob.jwt(t, time.Now()), url.Values{"AuthPayload": {answer(t, bob.key, body, fields, "approved")}})
	wantError(t, "bob answers alice's challenge", resp.StatusCode, body2, 20404, 404)
	resp, body2 = deviceCall(t, s, "GET", bob.e+"/Challenges", bob.jwt(t, time.Now()), url.Values{"FactorSid": {alice.sid}})
	wantError(t, "bob lists alice's factor", resp.StatusCode, body2, 20404, 404)
	resp, body2 = deviceCall(t, s, "GET", bob.e+"/Challenges", bob.jwt(t, time.Now()), nil)
	if list, _ := body2["challenges"].([]any); resp.StatusCode != 200 || len(list) != 0 {
		t.Fatalf("bob's list: %d %v", resp.StatusCode, body2)
	}
	resp, body2 = deviceCall(t, s, "POST", alice.e+"/Factors/"+alice.sid, bob.jwt(t, time.Now()), url.Values{"FriendlyName": {"pwned"}})
	wantError(t, "bob updates alice's factor", resp.StatusCode, body2, 20404, 404)
	resp, body2 = deviceCall(t, s, "DELETE", alice.e+"/Factors/"+alice.sid, bob.jwt(t, time.Now()), nil)
	wantError(t, "bob deletes alice's factor", resp.StatusCode, body2, 20404, 404)
	for _, op := range []struct{ method, path string }{
		{"GET", "/v2/Services"}, {"GET", alice.e + "/Factors"}, {"GET", alice.e + "/Factors/" + alice.sid},
		{"POST", alice.e + "/Challenges"}, {"GET", "/v2/Services/" + VA + "/Entities"}, {"DELETE", alice.e},
	} {
		resp, body2 = deviceCall(t, s, op.method, op.path, alice.jwt(t, time.Now()), url.Values{"FactorSid": {alice.sid}})
		wantError(t, "backend-only "+op.method+" "+op.path, resp.StatusCode, body2, 20003, 401)
	}

	// Device JWTs out of their window, or not device JWTs at all: 401 with Date.
	for name, tok := range map[string]string{
		"from the future":   alice.jwt(t, time.Now().Add(10*time.Minute)),
		"expired":           alice.jwt(t, time.Now().Add(-20*time.Minute)),
		"challenge payload": good,
		"garbage":           "not-a-jwt",
	} {
		resp, body2 = deviceCall(t, s, "GET", alice.e+"/Challenges/"+ch, tok, nil)
		wantError(t, "device JWT "+name, resp.StatusCode, body2, 20003, 401)
		if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || time.Since(d) > time.Minute {
			t.Errorf("401 for %s: Date header %q", name, resp.Header.Get("Date"))
		}
	}

	// The right answer works once; then 60322. Denial is recorded as denied.
	resp, body2 = post(alice, ch, good)
	if resp.StatusCode != 200 || body2["status"] != "approved" || body2["date_responded"] == nil {
		t.Fatalf("approve: %d %v", resp.StatusCode, body2)
	}
	resp, body2 = get(alice, ch)
	if resp.Header.Get("Twilio-Verify-Signature-Fields") != "" || body2["status"] != "approved" {
		t.Fatalf("GET after approval: header %q, %v", resp.Header.Get("Twilio-Verify-Signature-Fields"), body2["status"])
	}
	resp, body2 = post(alice, ch, good)
	wantError(t, "answer twice", resp.StatusCode, body2, 60322, 403)
	ch2 := newChallenge(bob, time.Time{})
	_, b2 := get(bob, ch2)
	if resp, body2 = post(bob, ch2, answer(t, bob.key, b2, fields, "denied")); body2["status"] != "denied" {
		t.Fatalf("deny: %d %v", resp.StatusCode, body2)
	}

	// Expired: the answer is refused and the challenge stays expired.
	expAt := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second)
	ch3 := newChallenge(alice, expAt)
	_, b3 := get(alice, ch3)
	late := answer(t, alice.key, b3, fields, "approved")
	time.Sleep(time.Until(expAt) + 100*time.Millisecond)
	resp, body2 = post(alice, ch3, late)
	wantError(t, "answer after expiry", resp.StatusCode, body2, 60323, 403)
	if st := statusOf(ch3, alice.identity); st != "expired" {
		t.Fatalf("expired challenge reads %s", st)
	}
}

func without(f url.Values, k string) url.Values {
	g := url.Values{}
	for key, vals := range f {
		g[key] = vals
	}
	g.Del(k)
	return g
}

// TestIOSStyleEnrollment sends create factor exactly as the iOS SDK encodes
// it: the whole "name=value" string percent-encoded with urlQueryAllowed
// minus '+', so ';', '/', ':', '=' and ',' stay unescaped inside values.
func TestIOSStyleEnrollment(t *testing.T) { forEachBackend(t, testIOSStyleEnrollment) }

func testIOSStyleEnrollment(t *testing.T, db string) {
	s, c := newServer(t, db)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("iOS"))
	if err != nil {
		t.Fatal(err)
	}
	const identity = "ios-user-0001"
	at, err := c.CreateAccessToken(*svc.Sid, new(openapi.CreateAccessTokenParams).SetIdentity(identity).SetFactorType("push"))
	if err != nil {
		t.Fatal(err)
	}
	_, pub := verifytest.DeviceKey(t)
	iosEscape := func(s string) string {
		var b strings.Builder
		for _, r := range []byte(s) {
			switch {
			case r == '+':
				b.WriteString("%2B")
			case r == ' ' || r == '"' || r == '{' || r == '}' || r == '%':
				b.WriteString("%" + hex2(r))
			default:
				b.WriteByte(r)
			}
		}
		return b.String()
	}
	body := strings.Join([]string{
		iosEscape("FriendlyName=Ana's iPhone; work/2, v1:0"),
		iosEscape("FactorType=push"),
		iosEscape("Binding.PublicKey=" + pub),
		iosEscape("Binding.Alg=ES256"),
		iosEscape("Config.SdkVersion=3.0.2"),
		iosEscape("Config.AppId=com.example.ios"),
		iosEscape("Config.NotificationPlatform=apn"),
		iosEscape("Config.NotificationToken=" + strings.Repeat("ab", 32)),
		iosEscape(`Metadata={"os":"iOS","note":"a;b/c"}`),
	}, "&")
	req, _ := http.NewRequest("POST", s.base+"/v2/Services/"+*svc.Sid+"/Entities/"+identity+"/Factors", strings.NewReader(body))
	req.SetBasicAuth("token", *at.Token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil || resp.StatusCode != 201 {
		t.Fatalf("iOS create factor: %d %v %v\nbody: %s", resp.StatusCode, f, err, body)
	}
	cfg := f["config"].(map[string]any)
	md := f["metadata"].(map[string]any)
	if f["friendly_name"] != "Ana's iPhone; work/2, v1:0" || md["note"] != "a;b/c" || md["os"] != "iOS" ||
		f["binding"].(map[string]any)["public_key"] != pub || cfg["notification_platform"] != "apn" || cfg["credential_sid"] == nil {
		t.Fatalf("iOS body decoded as %v", f)
	}
	if dc, _ := f["date_created"].(string); len(dc) != 20 || !strings.HasSuffix(dc, "Z") {
		t.Fatalf("date_created %q is not YYYY-MM-DDTHH:MM:SSZ", dc)
	}
}

func hex2(b byte) string {
	return strings.ToUpper(string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15]))
}
