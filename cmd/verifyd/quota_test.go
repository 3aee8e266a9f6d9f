package main

import (
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/otp"
)

// TestChallengeQuota drives the factor challenge quota through twilio-go,
// on each backend: a 6-digit TOTP factor takes 50 challenges in its hour;
// the 51st is refused with 60312 (429) even with the right code, and
// nothing of it is stored. A 4-digit factor takes 10.
func TestChallengeQuota(t *testing.T) { forEachBackend(t, testChallengeQuota) }

func testChallengeQuota(t *testing.T, db string) {
	_, c := newServer(t, db)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Quota").SetTotpSkew(2))
	if err != nil {
		t.Fatal(err)
	}
	sid := *svc.Sid
	const identity = "quota-user-0001"
	verified := func(digits int) (string, *codes) {
		t.Helper()
		f, err := c.CreateNewFactor(sid, identity, new(openapi.CreateNewFactorParams).
			SetFriendlyName("phone").SetFactorType("totp").SetConfigCodeLength(digits))
		if err != nil {
			t.Fatal(err)
		}
		binding := deref(t, f.Binding, "binding").(map[string]any)
		cs := newCodes(t, binding["secret"].(string), otp.Params{Alg: "sha1", Digits: digits, Period: 30, Skew: 2})
		v, err := c.UpdateFactor(sid, identity, *f.Sid, new(openapi.UpdateFactorParams).SetAuthPayload(cs.next(t)))
		if err != nil || deref(t, v.Status, "status") != "verified" {
			t.Fatalf("verify factor: %+v, %v", v, err)
		}
		return *f.Sid, cs
	}

	six, sixCodes := verified(6)
	for i := range 50 {
		if _, err := c.CreateChallenge(sid, identity, new(openapi.CreateChallengeParams).SetFactorSid(six)); err != nil {
			t.Fatalf("challenge %d: %v", i+1, err)
		}
	}
	_, err = c.CreateChallenge(sid, identity, new(openapi.CreateChallengeParams).SetFactorSid(six).SetAuthPayload(sixCodes.next(t)))
	wantTwilioError(t, err, 60312, 429)
	list, err := c.ListChallenge(sid, identity, new(openapi.ListChallengeParams).SetFactorSid(six).SetPageSize(100))
	if err != nil || len(list) != 50 {
		t.Fatalf("challenges stored: %d, %v; want 50", len(list), err)
	}
	for _, ch := range list {
		if *ch.Status != "pending" {
			t.Fatalf("challenge %s is %s: the refused code approved something", *ch.Sid, *ch.Status)
		}
	}

	four, _ := verified(4)
	for i := range 10 {
		if _, err := c.CreateChallenge(sid, identity, new(openapi.CreateChallengeParams).SetFactorSid(four)); err != nil {
			t.Fatalf("4-digit challenge %d: %v", i+1, err)
		}
	}
	_, err = c.CreateChallenge(sid, identity, new(openapi.CreateChallengeParams).SetFactorSid(four))
	wantTwilioError(t, err, 60312, 429)
}
