package main

import (
	"encoding/json"
	"encoding/pem"
	"net/url"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestPushCertificateMode: with an APNs credential in certificate mode
// (certificate and key, no .p8), a push challenge reaches the fake APNs
// over HTTP/2 on a TLS connection on which the server presented exactly
// that certificate, with no provider token.
func TestPushCertificateMode(t *testing.T) { forEachBackend(t, testPushCertificateMode) }

func testPushCertificateMode(t *testing.T, db string) {
	fake, ca := newPushFake(t)
	env := accountEnv(testAccount, testToken)
	env["SSL_CERT_FILE"], env["VERIFYD_APNS_URL"] = ca, fake.srv.URL
	s := startServer(t, db, env)
	c := twilioClient(t, s, testAccount, testToken)

	now := time.Now()
	certPEM, keyPEM := apnCert(t, now.Add(-time.Hour), now.Add(24*time.Hour))
	status, body := postForm(t, nil, s.base+"/v1/Credentials", url.Values{"Type": {"apn"}, "FriendlyName": {"ios cert"},
		"Certificate": {certPEM}, "PrivateKey": {keyPEM}, "Sandbox": {"true"}})
	if status != 201 {
		t.Fatalf("apn credential: %d %s", status, body)
	}
	var cred struct{ Sid string }
	_ = json.Unmarshal([]byte(body), &cred)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Cert").SetPushApnCredentialSid(cred.Sid))
	if err != nil {
		t.Fatal(err)
	}
	va := *svc.Sid
	const identity = "carol-0001"
	at, err := c.CreateAccessToken(va, new(openapi.CreateAccessTokenParams).SetIdentity(identity).SetFactorType("push"))
	if err != nil {
		t.Fatal(err)
	}
	key, pub := verifytest.DeviceKey(t)
	e := "/v2/Services/" + va + "/Entities/" + identity
	token := strings.Repeat("cd", 32)
	form := pushForm("device", pub, "apn")
	form.Set("Config.NotificationToken", token)
	resp, b := deviceCall(t, s, "POST", e+"/Factors", *at.Token, form)
	if resp.StatusCode != 201 {
		t.Fatalf("enroll: %d %v", resp.StatusCode, b)
	}
	d := &rawDevice{key: key, account: b["account_sid"].(string), cred: b["config"].(map[string]any)["credential_sid"].(string),
		sid: b["sid"].(string), service: va, identity: identity, e: e}
	resp, b = deviceCall(t, s, "POST", e+"/Factors/"+d.sid, d.jwt(t, time.Now()), url.Values{"AuthPayload": {verifytest.SignSid(t, key, d.sid)}})
	if resp.StatusCode != 200 {
		t.Fatalf("verify factor: %d %v", resp.StatusCode, b)
	}
	ch, err := c.CreateChallenge(va, identity, new(openapi.CreateChallengeParams).SetFactorSid(d.sid).SetDetailsMessage("Log in?"))
	if err != nil {
		t.Fatal(err)
	}

	p := fake.wait(t, 1)
	if p.Proto != 2 || p.Path != "/3/device/"+token || p.Header.Get("apns-topic") != "com.example.app" ||
		p.Header.Get("apns-push-type") != "alert" || p.Header.Get("apns-priority") != "10" {
		t.Fatalf("APNs request %s HTTP/%d %v", p.Path, p.Proto, p.Header)
	}
	if a := p.Header.Get("Authorization"); a != "" {
		t.Fatalf("certificate mode sent a provider token: %q", a)
	}
	if p.Body["challenge_sid"] != *ch.Sid || p.Body["factor_sid"] != d.sid || p.Body["type"] != "verify_push_challenge" {
		t.Fatalf("APNs payload %v", p.Body)
	}
	blk, _ := pem.Decode([]byte(certPEM))
	if len(p.Peer) == 0 || string(p.Peer[0].Raw) != string(blk.Bytes) {
		t.Fatalf("client certificate presented: %d certificates, not the credential's", len(p.Peer))
	}
}
