package api

import (
	"crypto/ecdsa"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestChallengeQuotaWindows moves the clock across a push factor's quota
// windows: 50 in its first hour, 50 more in the next, then the day's 100
// are spent until 24 hours after its first challenge. A request refused for
// its parameters, or for the quota, counts nothing.
func TestChallengeQuotaWindows(t *testing.T) {
	e := newEnv(t)
	_, ent := e.newService(t, "")
	fsid := e.verifiedPush(t, ent)
	create := func() response {
		return e.as(http.MethodPost, ent+"/Challenges", "FactorSid="+fsid+"&Details.Message=Hi")
	}

	for i := range 50 {
		if r := create(); r.status != http.StatusCreated {
			t.Fatalf("challenge %d: HTTP %d %s", i+1, r.status, r.raw)
		}
		if i == 0 {
			// Invalid parameters are refused before the quota is counted.
			e.as(http.MethodPost, ent+"/Challenges", "FactorSid="+fsid).wantError(t, http.StatusBadRequest, verify.EDetails)
		}
	}
	create().wantError(t, http.StatusTooManyRequests, verify.EChallengeQuota)
	create().wantError(t, http.StatusTooManyRequests, verify.EChallengeQuota)

	e.clock.Advance(time.Hour)
	for i := range 50 {
		if r := create(); r.status != http.StatusCreated {
			t.Fatalf("challenge %d of the second hour: HTTP %d %s", i+1, r.status, r.raw)
		}
	}
	create().wantError(t, http.StatusTooManyRequests, verify.EChallengeQuota)
	e.clock.Advance(time.Hour)
	create().wantError(t, http.StatusTooManyRequests, verify.EChallengeQuota) // the day's 100 are spent
	e.clock.Advance(22 * time.Hour)
	create().want(t, http.StatusCreated)

	if got := len(e.as(http.MethodGet, ent+"/Challenges?PageSize=1000", "").want(t, http.StatusOK).sids(t, "challenges")); got != 101 {
		t.Fatalf("%d challenges stored, want 101", got)
	}
}

// TestFactorQuota: an entity may have 100 factors created in a day. The
// cap of 100 TOTP factors alone would let a caller delete one and create
// another without end; the 101st creation of the day is refused with 60326
// (429), and the next day's are not. The cap counts push apart from TOTP.
func TestFactorQuota(t *testing.T) {
	e := newEnv(t)
	_, ent := e.newService(t, "")
	var last string
	for i := range verify.MaxFactorCreationsPerDay {
		r := e.as(http.MethodPost, ent+"/Factors", "FactorType=totp&FriendlyName=phone")
		if r.status != http.StatusCreated {
			t.Fatalf("factor %d: HTTP %d %s", i+1, r.status, r.raw)
		}
		last = r.str(t, "sid")
	}
	e.as(http.MethodPost, ent+"/Factors", "FactorType=totp&FriendlyName=phone").wantError(t, http.StatusBadRequest, verify.EFactorMax)
	e.as(http.MethodDelete, ent+"/Factors/"+last, "").want(t, http.StatusNoContent)
	e.as(http.MethodPost, ent+"/Factors", "FactorType=totp&FriendlyName=phone").wantError(t, http.StatusTooManyRequests, verify.EFactorQuota)
	e.clock.Advance(24 * time.Hour)
	e.as(http.MethodPost, ent+"/Factors", "FactorType=totp&FriendlyName=phone").want(t, http.StatusCreated)
	e.verifiedPush(t, ent) // beside 100 TOTP factors
	if got := len(e.as(http.MethodGet, ent+"/Factors?PageSize=1000", "").want(t, http.StatusOK).sids(t, "factors")); got != 101 {
		t.Fatalf("%d factors, want 100 TOTP and 1 push", got)
	}
}

// verifiedPush enrolls and verifies a push factor (platform none) on the
// entity at ent, as the account, and returns its SID.
func (e *testEnv) verifiedPush(t *testing.T, ent string) string {
	t.Helper()
	key, pub := verifytest.DeviceKey(t)
	fsid := e.as(http.MethodPost, ent+"/Factors", url.Values{
		"FriendlyName": {"phone"}, "FactorType": {"push"}, "Binding.Alg": {"ES256"},
		"Binding.PublicKey": {pub},
		"Config.AppId":      {"com.example.app"}, "Config.NotificationPlatform": {"none"}, "Config.SdkVersion": {"1.0.0"},
	}.Encode()).want(t, http.StatusCreated).str(t, "sid")
	e.verifyPush(t, ent, fsid, key)
	return fsid
}

// verifyPush verifies push factor fsid as the SDK does: AuthPayload is the
// base64 DER ECDSA signature of the factor SID with the device key.
func (e *testEnv) verifyPush(t *testing.T, ent, fsid string, key *ecdsa.PrivateKey) {
	t.Helper()
	e.as(http.MethodPost, ent+"/Factors/"+fsid, url.Values{"AuthPayload": {verifytest.SignSid(t, key, fsid)}}.Encode()).
		want(t, http.StatusOK)
}
