package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/otp"
)

// TestTwilioGoEndToEnd drives every operation of the core API with the
// official twilio-go client against the real server on loopback.
func TestTwilioGoEndToEnd(t *testing.T) { forEachBackend(t, testTwilioGoEndToEnd) }

func testTwilioGoEndToEnd(t *testing.T, db string) {
	_, c := newServer(t, db)

	// Services: create, fetch, update, list over several pages, delete.
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Acme Login").SetTotpTimeStep(60).SetTotpSkew(2).SetCodeLength(8))
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	svcSid := deref(t, svc.Sid, "service sid")
	totp := deref(t, svc.Totp, "totp").(map[string]any)
	if totp["issuer"] != "Acme Login" || totp["time_step"] != float64(60) || totp["skew"] != float64(2) || totp["code_length"] != float64(6) {
		t.Fatalf("service totp = %v", totp)
	}
	if svc.CodeLength != 8 || deref(t, svc.AccountSid, "account_sid") != testAccount {
		t.Fatalf("service = %+v", svc)
	}
	got, err := c.FetchService(svcSid)
	if err != nil || deref(t, got.FriendlyName, "friendly_name") != "Acme Login" {
		t.Fatalf("FetchService = %+v, %v", got, err)
	}
	upd, err := c.UpdateService(svcSid, new(openapi.UpdateServiceParams).SetFriendlyName("Acme").SetPsd2Enabled(true))
	if err != nil || *upd.FriendlyName != "Acme" || !*upd.Psd2Enabled || deref(t, upd.DateUpdated, "date_updated").Before(*upd.DateCreated) {
		t.Fatalf("UpdateService = %+v, %v", upd, err)
	}
	for i := range 4 {
		if _, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName(fmt.Sprintf("Extra %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	services, err := c.ListService(new(openapi.ListServiceParams).SetPageSize(2))
	if err != nil || len(services) != 5 {
		t.Fatalf("ListService over pages = %d services, %v", len(services), err)
	}
	assertUnique(t, len(services), func(i int) string { return *services[i].Sid })

	// Entities: create, fetch, list over pages.
	const identity = "ff483d1ff591898a9942916050d2ca3f"
	ent, err := c.CreateEntity(svcSid, new(openapi.CreateEntityParams).SetIdentity(identity))
	if err != nil || *ent.Identity != identity || !strings.HasPrefix(*ent.Sid, "YE") {
		t.Fatalf("CreateEntity = %+v, %v", ent, err)
	}
	if e, err := c.FetchEntity(svcSid, identity); err != nil || *e.Sid != *ent.Sid {
		t.Fatalf("FetchEntity = %+v, %v", e, err)
	}
	for i := range 4 {
		if _, err := c.CreateEntity(svcSid, new(openapi.CreateEntityParams).SetIdentity(fmt.Sprintf("user-%04d-x", i))); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := c.ListEntity(svcSid, new(openapi.ListEntityParams).SetPageSize(2))
	if err != nil || len(ents) != 5 {
		t.Fatalf("ListEntity = %d, %v", len(ents), err)
	}

	// TOTP factor: create (binding only here), verify with a wrong then a right code.
	nf, err := c.CreateNewFactor(svcSid, identity, new(openapi.CreateNewFactorParams).
		SetFriendlyName("Alice's phone").SetFactorType("totp").SetConfigAlg("sha256").SetConfigCodeLength(8))
	if err != nil {
		t.Fatalf("CreateNewFactor totp: %v", err)
	}
	factorSid := *nf.Sid
	binding := deref(t, nf.Binding, "binding").(map[string]any)
	secret, _ := binding["secret"].(string)
	uri, _ := binding["uri"].(string)
	wantURI := fmt.Sprintf("otpauth://totp/Acme%%20Login:Alice%%27s%%20phone?secret=%s&issuer=Acme+Login&algorithm=SHA256&digits=8&period=60", secret)
	if len(secret) < 32 || uri != wantURI {
		t.Fatalf("binding = %v, want uri %s", binding, wantURI)
	}
	cfg := deref(t, nf.Config, "config").(map[string]any)
	if cfg["alg"] != "sha256" || cfg["code_length"] != float64(8) || cfg["time_step"] != float64(60) || cfg["skew"] != float64(2) {
		t.Fatalf("factor config = %v", cfg)
	}
	codes := newCodes(t, secret, otp.Params{Alg: "sha256", Digits: 8, Period: 60, Skew: 2})
	f, err := c.UpdateFactor(svcSid, identity, factorSid, new(openapi.UpdateFactorParams).SetAuthPayload(codes.wrong(t)))
	if err != nil || *f.Status != "unverified" {
		t.Fatalf("verify with a wrong code = %+v, %v", f, err)
	}
	verifyCode := codes.next(t)
	f, err = c.UpdateFactor(svcSid, identity, factorSid, new(openapi.UpdateFactorParams).SetAuthPayload(verifyCode))
	if err != nil || *f.Status != "verified" {
		t.Fatalf("verify with the right code = %+v, %v", f, err)
	}
	if ff, err := c.FetchFactor(svcSid, identity, factorSid); err != nil || *ff.Status != "verified" || ff.FriendlyName == nil {
		t.Fatalf("FetchFactor = %+v, %v", ff, err)
	}

	// TOTP challenges: approved at creation; the same code again is a replay.
	ch, err := c.CreateChallenge(svcSid, identity, new(openapi.CreateChallengeParams).SetFactorSid(factorSid).SetAuthPayload(codes.next(t)))
	if err != nil || *ch.Status != "approved" || ch.DateResponded == nil || *ch.FactorType != "totp" {
		t.Fatalf("CreateChallenge with code = %+v, %v", ch, err)
	}
	replay, err := c.CreateChallenge(svcSid, identity, new(openapi.CreateChallengeParams).SetFactorSid(factorSid).SetAuthPayload(verifyCode))
	if err != nil || *replay.Status != "pending" {
		t.Fatalf("replayed code = %+v, %v", replay, err)
	}
	pending, err := c.CreateChallenge(svcSid, identity, new(openapi.CreateChallengeParams).SetFactorSid(factorSid))
	if err != nil || *pending.Status != "pending" || pending.DateResponded != nil {
		t.Fatalf("CreateChallenge pending = %+v, %v", pending, err)
	}
	if exp := pending.ExpirationDate.Sub(*pending.DateCreated); exp != 5*time.Minute {
		t.Fatalf("default expiration = %v after creation", exp)
	}
	ans, err := c.UpdateChallenge(svcSid, identity, *pending.Sid, new(openapi.UpdateChallengeParams).SetAuthPayload(codes.next(t)))
	if err != nil || *ans.Status != "approved" {
		t.Fatalf("UpdateChallenge = %+v, %v", ans, err)
	}
	_, err = c.UpdateChallenge(svcSid, identity, *pending.Sid, new(openapi.UpdateChallengeParams).SetAuthPayload(codes.wrong(t)))
	wantTwilioError(t, err, 60322, 403)

	// Wrong codes: five are counted, the sixth try is refused.
	tries, err := c.CreateChallenge(svcSid, identity, new(openapi.CreateChallengeParams).SetFactorSid(factorSid))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r, err := c.UpdateChallenge(svcSid, identity, *tries.Sid, new(openapi.UpdateChallengeParams).SetAuthPayload(codes.wrong(t)))
		if err != nil || *r.Status != "pending" {
			t.Fatalf("wrong code %d = %+v, %v", i+1, r, err)
		}
	}
	_, err = c.UpdateChallenge(svcSid, identity, *tries.Sid, new(openapi.UpdateChallengeParams).SetAuthPayload(codes.wrong(t)))
	wantTwilioError(t, err, 60308, 429)

	// Push factor: a real P-256 key, verified by a DER signature over its SID.
	key, pub := verifytest.DeviceKey(t)
	pf, err := c.CreateNewFactor(svcSid, identity, new(openapi.CreateNewFactorParams).
		SetFriendlyName("Pixel 8").SetFactorType("push").SetBindingAlg("ES256").SetBindingPublicKey(pub).
		SetConfigAppId("com.example.myapp").SetConfigNotificationPlatform("fcm").
		SetConfigNotificationToken("fcm-token-0123456789abcdef0123456789abcdef").SetConfigSdkVersion("0.9.0").
		SetMetadata(map[string]string{"os": "Android"}))
	if err != nil {
		t.Fatalf("CreateNewFactor push: %v", err)
	}
	pcfg := deref(t, pf.Config, "config").(map[string]any)
	if cred, _ := pcfg["credential_sid"].(string); len(cred) != 34 || pcfg["notification_platform"] != "fcm" || pcfg["app_id"] != "com.example.myapp" {
		t.Fatalf("push config = %v", pcfg)
	}
	if b := deref(t, pf.Binding, "binding").(map[string]any); b["public_key"] != pub || b["alg"] != "ES256" {
		t.Fatalf("push binding = %v", b)
	}
	if md := deref(t, pf.Metadata, "metadata").(map[string]any); md["os"] != "Android" {
		t.Fatalf("metadata = %v", md)
	}
	h := sha256.Sum256([]byte(*pf.Sid))
	sig, _ := ecdsa.SignASN1(rand.Reader, key, h[:])
	vf, err := c.UpdateFactor(svcSid, identity, *pf.Sid, new(openapi.UpdateFactorParams).SetAuthPayload(base64.StdEncoding.EncodeToString(sig)))
	if err != nil || *vf.Status != "verified" {
		t.Fatalf("verify push factor = %+v, %v", vf, err)
	}
	if vf.Config == nil || (*vf.Config).(map[string]any)["credential_sid"] != pcfg["credential_sid"] {
		t.Fatalf("credential_sid changed: %v", vf.Config)
	}

	// Push challenge with details, double-encoded hidden details and an offset date.
	exp := time.Now().Add(10 * time.Minute).In(time.FixedZone("CEST", 2*3600))
	pc, err := c.CreateChallenge(svcSid, identity, new(openapi.CreateChallengeParams).SetFactorSid(*pf.Sid).
		SetDetailsMessage("Hi! Mr. John Doe, would you like to sign up?").
		SetDetailsFields([]any{map[string]string{"label": "Action", "value": "Sign up in portal"}, map[string]string{"label": "Location", "value": "California; USA"}}).
		SetHiddenDetails(`{"ip":"172.168.1.234"}`).SetExpirationDate(exp))
	if err != nil {
		t.Fatalf("CreateChallenge push: %v", err)
	}
	if !pc.ExpirationDate.Equal(exp.Truncate(time.Second)) || pc.ExpirationDate.Location() != time.UTC {
		t.Fatalf("expiration_date = %v, want %v", pc.ExpirationDate, exp)
	}
	details := deref(t, pc.Details, "details").(map[string]any)
	fields, _ := details["fields"].([]any)
	if details["message"] != "Hi! Mr. John Doe, would you like to sign up?" || len(fields) != 2 || fields[1].(map[string]any)["value"] != "California; USA" {
		t.Fatalf("details = %v", details)
	}
	if hd := deref(t, pc.HiddenDetails, "hidden_details").(map[string]any); hd["ip"] != "172.168.1.234" {
		t.Fatalf("hidden_details = %v", hd)
	}
	if l := deref(t, pc.Links, "links"); !strings.HasSuffix(fmt.Sprint(l["notifications"]), *pc.Sid+"/Notifications") {
		t.Fatalf("links = %v", l)
	}

	// Notifications: three per challenge.
	for i := range 3 {
		n, err := c.CreateNotification(svcSid, identity, *pc.Sid, new(openapi.CreateNotificationParams).SetTtl(150))
		if err != nil || n.Ttl != 150 || *n.ChallengeSid != *pc.Sid || *n.Priority != "high" {
			t.Fatalf("CreateNotification %d = %+v, %v", i, n, err)
		}
	}
	_, err = c.CreateNotification(svcSid, identity, *pc.Sid, nil)
	wantTwilioError(t, err, 60309, 429)

	// Challenge list: filters, order and paging.
	all, err := c.ListChallenge(svcSid, identity, new(openapi.ListChallengeParams).SetPageSize(2))
	if err != nil || len(all) != 5 {
		t.Fatalf("ListChallenge = %d, %v", len(all), err)
	}
	assertUnique(t, len(all), func(i int) string { return *all[i].Sid })
	byFactor, err := c.ListChallenge(svcSid, identity, new(openapi.ListChallengeParams).SetFactorSid(factorSid).SetStatus("pending").SetOrder("desc").SetPageSize(1))
	if err != nil || len(byFactor) != 2 {
		t.Fatalf("ListChallenge pending totp = %d, %v", len(byFactor), err)
	}
	for _, ch := range byFactor {
		if *ch.FactorSid != factorSid || *ch.Status != "pending" {
			t.Fatalf("filter leaked %+v", ch)
		}
	}
	if *byFactor[0].Sid != *tries.Sid || *byFactor[1].Sid != *replay.Sid {
		t.Fatalf("desc order: %s then %s, want the newest (%s) first", *byFactor[0].Sid, *byFactor[1].Sid, *tries.Sid)
	}
	if fc, err := c.FetchChallenge(svcSid, identity, *pc.Sid); err != nil || *fc.Status != "pending" {
		t.Fatalf("FetchChallenge = %+v, %v", fc, err)
	}

	// Factors list over pages.
	factors, err := c.ListFactor(svcSid, identity, new(openapi.ListFactorParams).SetPageSize(1))
	if err != nil || len(factors) != 2 {
		t.Fatalf("ListFactor = %d, %v", len(factors), err)
	}
	for _, f := range factors {
		if f.Config == nil || f.Status == nil {
			t.Fatalf("listed factor lacks fields: %+v", f)
		}
	}

	// Access tokens: create and fetch.
	at, err := c.CreateAccessToken(svcSid, new(openapi.CreateAccessTokenParams).SetIdentity(identity).SetFactorType("push").SetFactorFriendlyName("Pixel 8").SetTtl(300))
	if err != nil || at.Ttl != 300 || len(deref(t, at.Token, "token")) < 40 || *at.EntityIdentity != identity {
		t.Fatalf("CreateAccessToken = %+v, %v", at, err)
	}
	at2, err := c.FetchAccessToken(svcSid, *at.Sid)
	if err != nil || *at2.Token != *at.Token || *at2.FactorFriendlyName != "Pixel 8" {
		t.Fatalf("FetchAccessToken = %+v, %v", at2, err)
	}
	if at3, err := c.CreateAccessToken(svcSid, new(openapi.CreateAccessTokenParams).SetIdentity(identity).SetFactorType("push")); err != nil || at3.Ttl != 60 {
		t.Fatalf("default ttl = %+v, %v", at3, err)
	}

	// Forms.
	form, err := c.FetchForm("form-push")
	if err != nil || *form.FormType != "form-push" || form.Forms == nil {
		t.Fatalf("FetchForm = %+v, %v", form, err)
	}

	// Factor update: friendly name and config.
	uf, err := c.UpdateFactor(svcSid, identity, factorSid, new(openapi.UpdateFactorParams).SetFriendlyName("Work phone").SetConfigSkew(1))
	if err != nil || *uf.FriendlyName != "Work phone" || (*uf.Config).(map[string]any)["skew"] != float64(1) {
		t.Fatalf("UpdateFactor = %+v, %v", uf, err)
	}

	// Deletes: a factor, then the entity with everything in it, then the service.
	if err := c.DeleteFactor(svcSid, identity, *pf.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchFactor(svcSid, identity, *pf.Sid)
	wantTwilioError(t, err, 20404, 404)
	_, err = c.FetchChallenge(svcSid, identity, *pc.Sid)
	wantTwilioError(t, err, 20404, 404)
	if err := c.DeleteEntity(svcSid, identity); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchChallenge(svcSid, identity, *tries.Sid)
	wantTwilioError(t, err, 20404, 404)
	_, err = c.FetchEntity(svcSid, identity)
	wantTwilioError(t, err, 20404, 404)
	if err := c.DeleteService(svcSid); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchService(svcSid)
	wantTwilioError(t, err, 20404, 404)
}

func assertUnique(t *testing.T, n int, key func(int) string) {
	t.Helper()
	seen := map[string]bool{}
	for i := range n {
		if seen[key(i)] {
			t.Fatalf("%s listed twice", key(i))
		}
		seen[key(i)] = true
	}
}

// TestRestartKeepsDataAndTenancy stops the server and starts it again on the
// same database: a TOTP factor still checks codes (its secret decrypts with
// the key file, or on PostgreSQL with the same VERIFYD_SECRET_KEY), and a
// second account sees none of the first one's data.
func TestRestartKeepsDataAndTenancy(t *testing.T) { forEachBackend(t, testRestartKeepsDataAndTenancy) }

func testRestartKeepsDataAndTenancy(t *testing.T, db string) {
	s1 := startServer(t, db, accountEnv(testAccount, testToken))
	c := twilioClient(t, s1, testAccount, testToken)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Durable"))
	if err != nil {
		t.Fatal(err)
	}
	const identity = "0123456789abcdef"
	nf, err := c.CreateNewFactor(*svc.Sid, identity, new(openapi.CreateNewFactorParams).SetFriendlyName("phone").SetFactorType("totp"))
	if err != nil {
		t.Fatal(err)
	}
	codes := newCodes(t, (*nf.Binding).(map[string]any)["secret"].(string), otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1})
	s1.stop()

	s2 := startServer(t, db, accountEnv(otherAccount, otherToken))
	c = twilioClient(t, s2, testAccount, testToken)
	f, err := c.UpdateFactor(*svc.Sid, identity, *nf.Sid, new(openapi.UpdateFactorParams).SetAuthPayload(codes.next(t)))
	if err != nil || *f.Status != "verified" {
		t.Fatalf("verify after restart = %+v, %v", f, err)
	}
	other := twilioClient(t, s2, otherAccount, otherToken)
	_, err = other.FetchService(*svc.Sid)
	wantTwilioError(t, err, 20404, 404)
	_, err = other.FetchFactor(*svc.Sid, identity, *nf.Sid)
	wantTwilioError(t, err, 20404, 404)
	if list, err := other.ListService(nil); err != nil || len(list) != 0 {
		t.Fatalf("other account lists %d services, %v", len(list), err)
	}
}
