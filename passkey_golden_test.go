package verify_test

import (
	"os"
	"strings"
	"testing"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/passkey"
)

// TestPasskeySpecExample registers the VerifyFactor example of Twilio's
// OpenAPI spec, a real registration for example.com whose challenge is
// the characters of factor YF048d1a7ec3a2a6970059c2766bbc7e0f and whose
// rawId is hex, through the Verifier: the factor is found by its challenge
// and verified, and the same body again is refused.
func TestPasskeySpecExample(t *testing.T) {
	body := specVerifyFactorExample(t)
	e := newBenchEnv(t)
	id, name, origins := "example.com", "Example", "https://example.com"
	if _, err := e.v.UpdateService(e.ctx, benchAccount, e.service, verify.ServiceParams{
		PasskeysRelyingPartyID: &id, PasskeysRelyingPartyName: &name, PasskeysRelyingPartyOrigins: &origins}); err != nil {
		t.Fatal(err)
	}
	identity := "ff483d1ff591898a9942916050d2ca3f"
	ent, err := e.v.CreateEntity(e.ctx, benchAccount, e.service, &identity)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	f := &verify.Factor{Sid: "YF048d1a7ec3a2a6970059c2766bbc7e0f", AccountSid: benchAccount, ServiceSid: e.service,
		EntitySid: ent.Sid, Identity: ent.Identity, FriendlyName: "friendly_name", Type: verify.FactorPasskeys,
		Status: verify.FactorUnverified, DateCreated: now, DateUpdated: now,
		Passkey: &verify.PasskeyFactor{Config: verify.PasskeyConfig{
			RelyingParty:            passkey.RP{ID: id, Name: name, Origins: []string{origins}},
			AuthenticatorAttachment: "platform", DiscoverableCredentials: "preferred", UserVerification: "preferred"}},
	}
	if err := e.v.Store.CreateFactor(e.ctx, f); err != nil {
		t.Fatal(err)
	}
	got, err := e.v.VerifyPasskeyFactor(e.ctx, benchAccount, e.service, body)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sid != f.Sid || got.Status != verify.FactorVerified || got.Passkey.Credential == nil ||
		got.Passkey.Credential.AttestationFormat != "none" || strings.Join(got.Passkey.Credential.Transports, ",") != "internal" {
		t.Fatalf("verified %+v %+v", got, got.Passkey.Credential)
	}
	if _, err := e.v.VerifyPasskeyFactor(e.ctx, benchAccount, e.service, body); !verify.IsCode(err, verify.EFactorState) {
		t.Fatalf("the same registration again: %v", err)
	}
}

// specVerifyFactorExample returns the example request body of
// UpdatePasskeysFactor in Twilio's spec, as kept in passkey/testdata.
func specVerifyFactorExample(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile("passkey/testdata/verify_factor_example.json")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
