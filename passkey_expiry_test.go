package verify_test

import (
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestPasskeyExpiry: a registration answered after the ceremony's 10
// minutes is refused and leaves the factor unverified; a login answered
// after its 10 minutes is refused as expired, whether it waited as a login
// (discoverable) or as a challenge of a factor, and the sweep deletes the
// expired login.
func TestPasskeyExpiry(t *testing.T) {
	e := newBenchEnv(t)
	id, name, origins := "localhost", "verifyd", "http://localhost:8080"
	if _, err := e.v.UpdateService(e.ctx, benchAccount, e.service, verify.ServiceParams{
		PasskeysRelyingPartyID: &id, PasskeysRelyingPartyName: &name, PasskeysRelyingPartyOrigins: &origins}); err != nil {
		t.Fatal(err)
	}
	rp := virtualwebauthn.RelyingParty{ID: id, Name: name, Origin: origins}
	auth := virtualwebauthn.NewAuthenticator()
	cred := verifytest.PasskeyCredential(t)
	identity, friendly := "expiry-user-1", "Laptop"
	register := func() (*verify.NewFactor, []byte) {
		nf, err := e.v.CreatePasskeyFactor(e.ctx, benchAccount, e.service, &identity, &friendly, nil)
		if err != nil {
			t.Fatal(err)
		}
		auth.Options.UserHandle = nf.Options.UserID
		body := virtualwebauthn.CreateAttestationResponse(rp, auth, cred, virtualwebauthn.AttestationOptions{Challenge: nf.Options.Challenge, RelyingPartyID: id})
		return nf, []byte(body)
	}
	late, body := register()
	e.clock.t = e.clock.t.Add(verify.PasskeyTimeout + time.Second)
	if _, err := e.v.VerifyPasskeyFactor(e.ctx, benchAccount, e.service, body); !verify.IsCode(err, verify.EFactorState) {
		t.Fatalf("a registration after the timeout: %v", err)
	}
	if f, err := e.v.FetchFactor(e.ctx, benchAccount, e.service, identity, late.Sid); err != nil || f.Status != verify.FactorUnverified {
		t.Fatalf("the factor after a late registration: %+v %v", f, err)
	}
	nf, body := register()
	if _, err := e.v.VerifyPasskeyFactor(e.ctx, benchAccount, e.service, body); err != nil {
		t.Fatal(err)
	}
	sign := func(pc *verify.PasskeyChallenge) []byte {
		cred.Counter++
		return []byte(virtualwebauthn.CreateAssertionResponse(rp, auth, cred, virtualwebauthn.AssertionOptions{Challenge: pc.Options.Challenge, RelyingPartyID: id}))
	}
	var login verify.Sid
	for _, factor := range []string{"", string(nf.Sid)} {
		pc, err := e.v.CreatePasskeyChallenge(e.ctx, benchAccount, e.service, "", factor)
		if err != nil {
			t.Fatal(err)
		}
		if factor == "" {
			login = pc.Sid
		}
		e.clock.t = e.clock.t.Add(verify.PasskeyTimeout)
		if _, err := e.v.ApprovePasskeyChallenge(e.ctx, benchAccount, e.service, sign(pc)); !verify.IsCode(err, verify.EChallengeExpire) {
			t.Fatalf("factor %q: an approval at the expiry: %v", factor, err)
		}
	}
	swept, err := e.v.Sweep(e.ctx, 0)
	if err != nil || swept.PasskeyLogins != 1 {
		t.Fatalf("sweep: %+v %v", swept, err)
	}
	if _, err := e.v.Store.FindPasskeyLogin(e.ctx, e.service, login); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("the expired login after the sweep: %v", err)
	}
}
