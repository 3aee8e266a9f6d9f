package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/jws"
	"github.com/verifyd/verify/otp"
)

const identity = "ff483d1ff591898a9942916050d2ca3f"

// newService creates a service as account A and returns its SID and the
// entity path.
func (e *testEnv) newService(t *testing.T, extra string) (string, string) {
	t.Helper()
	sid := e.as(http.MethodPost, "/v2/Services", "FriendlyName=Example"+extra).want(t, http.StatusCreated).str(t, "sid")
	return sid, "/v2/Services/" + sid + "/Entities/" + identity
}

// totpCode returns the current code of a TOTP factor with default config.
func (e *testEnv) totpCode(t *testing.T, secret string) string {
	t.Helper()
	key, err := otp.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	code, err := otp.Code(key, e.clock.Now(), otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestTotpFactorAndChallenge(t *testing.T) {
	e := newEnv(t)
	_, ent := e.newService(t, "")

	// twilio-go's request #2 of clients.md, verbatim.
	c := e.as(http.MethodPost, ent+"/Factors",
		"Config.Alg=sha1&Config.CodeLength=6&Config.Skew=1&Config.TimeStep=30&FactorType=totp&FriendlyName=Alice%27s+phone").
		want(t, http.StatusCreated)
	fsid := c.str(t, "sid")
	secret := c.str(t, "binding.secret")
	if uri := c.str(t, "binding.uri"); !strings.HasPrefix(uri, "otpauth://totp/") {
		t.Errorf("binding.uri = %q", uri)
	}
	c.wantNull(t, "options", "metadata")
	for path, want := range map[string]any{
		"friendly_name": "Alice's phone", "status": "unverified", "factor_type": "totp", "identity": identity,
		"config.alg": "sha1", "config.skew": 1.0, "config.code_length": 6.0, "config.time_step": 30.0,
		"url": e.ts.URL + ent + "/Factors/" + fsid,
	} {
		if got, _ := c.get(path); got != want {
			t.Errorf("create %s = %#v, want %#v", path, got, want)
		}
	}
	c.wantDates(t, "date_created", "date_updated")

	f := e.as(http.MethodGet, ent+"/Factors/"+fsid, "").want(t, http.StatusOK)
	for _, k := range []string{"binding", "options"} {
		if _, ok := f.body[k]; ok {
			t.Errorf("fetch factor has %q: binding is shown only on create", k)
		}
	}
	if got := e.as(http.MethodGet, ent+"/Factors", "").want(t, http.StatusOK).sids(t, "factors"); len(got) != 1 || got[0] != fsid {
		t.Errorf("factors = %v", got)
	}
	en := e.as(http.MethodGet, ent, "").want(t, http.StatusOK)
	if en.str(t, "links.new_factors") != e.ts.URL+ent+"/Factors" {
		t.Errorf("entity links: %s", en.raw)
	}

	v := e.as(http.MethodPost, ent+"/Factors/"+fsid, "AuthPayload="+e.totpCode(t, secret)).want(t, http.StatusOK)
	if v.str(t, "status") != "verified" {
		t.Fatalf("factor not verified: %s", v.raw)
	}

	// twilio-go double-encodes HiddenDetails; ExpirationDate carries an offset.
	exp := e.clock.Now().Add(10 * time.Minute).Truncate(time.Second)
	form := url.Values{
		"FactorSid":       {fsid},
		"Details.Message": {"Hi! Sign in?"},
		"Details.Fields":  {`{"label":"Action","value":"Sign up in portal"}`, `"{\"label\":\"Location\",\"value\":\"California\"}"`},
		"HiddenDetails":   {`"{\"ip\":\"172.168.1.234\"}"`},
		"ExpirationDate":  {exp.In(time.FixedZone("", 2*3600)).Format(time.RFC3339)},
	}
	ch := e.as(http.MethodPost, ent+"/Challenges", form.Encode()).want(t, http.StatusCreated)
	csid := ch.str(t, "sid")
	if got := ch.str(t, "hidden_details.ip"); got != "172.168.1.234" {
		t.Errorf("hidden_details.ip = %q", got)
	}
	if got := ch.str(t, "expiration_date"); got != exp.UTC().Format(dateLayout) {
		t.Errorf("expiration_date = %s, want %s", got, exp.UTC().Format(dateLayout))
	}
	if fields, _ := ch.get("details.fields"); len(fields.([]any)) != 2 {
		t.Errorf("details.fields = %v", fields)
	}
	if _, ok := ch.get("details.date"); ok {
		t.Error("details.date present although the service does not include it")
	}
	ch.wantNull(t, "date_responded", "metadata")
	if ch.str(t, "links.notifications") != e.ts.URL+ent+"/Challenges/"+csid+"/Notifications" {
		t.Errorf("links: %s", ch.raw)
	}

	g := e.as(http.MethodGet, ent+"/Challenges/"+csid, "").want(t, http.StatusOK)
	// The list push-protocol.md §7 recommends, as one header line.
	const wantFields = "sid,account_sid,service_sid,entity_sid,identity,factor_sid,date_created,expiration_date,details,hidden_details"
	if got := g.header.Values(headerSignatureFields); len(got) != 1 || got[0] != wantFields {
		t.Errorf("signature header on pending challenge = %q", got)
	}
	for _, field := range strings.Split(wantFields, ",") {
		if _, ok := g.body[field]; !ok {
			t.Errorf("signature field %q missing from the challenge", field)
		}
	}

	l := e.as(http.MethodGet, ent+"/Challenges?FactorSid="+fsid+"&Status=pending&Order=desc&PageSize=10", "").want(t, http.StatusOK)
	if got := l.sids(t, "challenges"); len(got) != 1 || got[0] != csid {
		t.Errorf("challenges = %v", got)
	}
	if l.header.Get(headerSignatureFields) != "" {
		t.Error("signature header on a list")
	}
	wantURL := e.ts.URL + ent + "/Challenges?FactorSid=" + fsid + "&Status=pending&Order=desc&PageSize=10&Page=0"
	if got := l.str(t, "meta.url"); got != wantURL {
		t.Errorf("meta.url = %s, want %s", got, wantURL)
	}
	e.as(http.MethodGet, ent+"/Challenges?pageToken=nope", "").wantError(t, http.StatusBadRequest, verify.EPushParam)

	e.clock.Advance(time.Minute) // a fresh time step: the verifying code is spent
	a := e.as(http.MethodPost, ent+"/Challenges/"+csid, "AuthPayload="+e.totpCode(t, secret)).want(t, http.StatusOK)
	if a.str(t, "status") != "approved" {
		t.Fatalf("challenge not approved: %s", a.raw)
	}
	a.wantDates(t, "date_responded")
	g = e.as(http.MethodGet, ent+"/Challenges/"+csid, "").want(t, http.StatusOK)
	if g.str(t, "status") != "approved" || g.header.Get(headerSignatureFields) != "" {
		t.Errorf("approved challenge: status %v, header %q", g.body["status"], g.header.Get(headerSignatureFields))
	}

	ch2 := e.as(http.MethodPost, ent+"/Challenges", "FactorSid="+fsid).want(t, http.StatusCreated).str(t, "sid")
	e.clock.Advance(6 * time.Minute)
	x := e.as(http.MethodGet, ent+"/Challenges/"+ch2, "").want(t, http.StatusOK)
	if x.str(t, "status") != "expired" || x.header.Get(headerSignatureFields) != "" {
		t.Errorf("expired challenge: status %v, header %q", x.body["status"], x.header.Get(headerSignatureFields))
	}
	e.as(http.MethodPost, ent+"/Challenges", "FactorSid="+fsid+"&ExpirationDate=tomorrow").
		wantError(t, http.StatusBadRequest, verify.EPushParam)
}

func TestPushFactorTokenAndNotification(t *testing.T) {
	e := newEnv(t)
	svc, ent := e.newService(t, "&Push.IncludeDate=true")

	at := e.as(http.MethodPost, "/v2/Services/"+svc+"/AccessTokens",
		"FactorFriendlyName=Pixel+8&FactorType=push&Identity="+identity+"&Ttl=300").want(t, http.StatusCreated)
	if at.str(t, "factor_friendly_name") != "Pixel 8" || at.str(t, "entity_identity") != identity || at.str(t, "token") == "" {
		t.Errorf("access token: %s", at.raw)
	}
	if got := e.as(http.MethodGet, "/v2/Services/"+svc+"/AccessTokens/"+at.str(t, "sid"), "").want(t, http.StatusOK); got.str(t, "token") != at.str(t, "token") {
		t.Errorf("fetched token differs: %s", got.raw)
	}
	e.as(http.MethodPost, "/v2/Services/"+svc+"/AccessTokens", "Identity="+identity+"&FactorType=push&Ttl=soon").
		wantError(t, http.StatusBadRequest, verify.EAccessToken)

	key, pub := verifytest.DeviceKey(t)
	form := url.Values{
		"FriendlyName": {"Pixel 8"}, "FactorType": {"push"}, "Binding.Alg": {"ES256"}, "Binding.PublicKey": {pub},
		"Config.AppId": {"com.example.myapp"}, "Config.NotificationPlatform": {"fcm"},
		"Config.NotificationToken": {"fcm-token-0123456789abcdef0123456789abcdef"}, "Config.SdkVersion": {"1.0.0"},
		"Metadata": {`{"os":"Android"}`},
	}
	c := e.as(http.MethodPost, ent+"/Factors", form.Encode()).want(t, http.StatusCreated)
	fsid := c.str(t, "sid")
	if c.str(t, "binding.public_key") != pub || c.str(t, "binding.alg") != "ES256" || c.str(t, "metadata.os") != "Android" {
		t.Errorf("push factor: %s", c.raw)
	}
	if !verify.Sid(c.str(t, "config.credential_sid")).Valid(verify.PrefixCredential) {
		t.Errorf("config.credential_sid = %v", c.body["config"])
	}
	f := e.as(http.MethodGet, ent+"/Factors/"+fsid, "").want(t, http.StatusOK)
	if f.str(t, "config.credential_sid") != c.str(t, "config.credential_sid") || f.str(t, "config.notification_platform") != "fcm" {
		t.Errorf("fetched push config: %v", f.body["config"])
	}

	e.verifyPush(t, ent, fsid, key)
	ch := e.as(http.MethodPost, ent+"/Challenges", url.Values{
		"FactorSid": {fsid}, "Details.Message": {"Hi! Mr. John Doe, would you like to sign up?"},
		"Details.Fields": {`{"label":"Action","value":"Sign up in portal"}`},
		"HiddenDetails":  {`{"ip":"172.168.1.234"}`},
	}.Encode()).want(t, http.StatusCreated)
	csid := ch.str(t, "sid")
	ch.wantDates(t, "details.date")
	n := e.as(http.MethodPost, ent+"/Challenges/"+csid+"/Notifications", "Ttl=150").want(t, http.StatusCreated)
	if n.str(t, "priority") != "high" || n.str(t, "challenge_sid") != csid || n.body["ttl"] != 150.0 {
		t.Errorf("notification: %s", n.raw)
	}
	n.wantDates(t, "date_created")

	// Answer as the SDK does: copy the listed fields from the GET body, set
	// status, sign with the factor key. This checks that what the server
	// renders is what the Verifier compares against.
	g := e.as(http.MethodGet, ent+"/Challenges/"+csid, "").want(t, http.StatusOK)
	signed := map[string]any{"status": "approved"}
	for _, field := range strings.Split(g.header.Get(headerSignatureFields), ",") {
		signed[field] = g.body[field]
	}
	jwt, err := jws.SignES256(key, map[string]string{"typ": "JWT", "alg": "ES256"}, signed)
	if err != nil {
		t.Fatal(err)
	}
	signed["details"] = map[string]any{"message": "tampered"}
	forged, err := jws.SignES256(key, map[string]string{"typ": "JWT", "alg": "ES256"}, signed)
	if err != nil {
		t.Fatal(err)
	}
	e.as(http.MethodPost, ent+"/Challenges/"+csid, "AuthPayload="+forged).wantError(t, http.StatusForbidden, verify.EChallengeVerify)
	a := e.as(http.MethodPost, ent+"/Challenges/"+csid, "AuthPayload="+jwt).want(t, http.StatusOK)
	if a.str(t, "status") != "approved" {
		t.Errorf("push challenge not approved: %s", a.raw)
	}
	e.as(http.MethodPost, ent+"/Challenges/"+csid, "AuthPayload="+jwt).wantError(t, http.StatusForbidden, verify.EChallengeDone)
	e.as(http.MethodDelete, ent+"/Factors/"+fsid, "").want(t, http.StatusNoContent)
	e.as(http.MethodDelete, ent, "").want(t, http.StatusNoContent)
	e.as(http.MethodGet, ent, "").wantError(t, http.StatusNotFound, verify.ENotFound)
}
