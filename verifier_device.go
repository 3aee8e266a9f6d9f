package verify

import (
	"context"
	"encoding/json"
	"reflect"
	"time"

	"github.com/verifyd/verify/jws"
)

// Device JWT rules of the Verify Push SDKs (push-protocol.md §4.2).
const (
	// DeviceJWTType is the cty header of a device JWT. Requiring it keeps a
	// signed challenge answer, which has no cty, from being used as a login.
	DeviceJWTType = "twilio-pba;v=1"
	// DeviceLeeway is the clock difference tolerated on nbf and exp. The SDK
	// corrects its clock from the Date header of a 401 and retries, so the
	// leeway only absorbs network delay and small drift.
	DeviceLeeway = 60 * time.Second
	// maxDeviceJWTLife bounds exp-nbf; the SDKs use 600 seconds.
	maxDeviceJWTLife = 3600
	// maxDeviceClaimSkew bounds how far nbf, exp and iat may lie from the
	// server's clock before any arithmetic is done on them, so that exp-nbf
	// and the leeway sums cannot overflow int64 (an nbf near MinInt64 and an
	// exp near MaxInt64 would otherwise make exp-nbf negative and the token
	// valid for ever). The SDKs send nbf = now and exp = now+600 from a
	// clock they correct from the Date header of our 401, so every genuine
	// token is within minutes of now; a year is far wider than any accepted
	// token (nbf within now-3660s..now+60s) and still small enough that no
	// sum of two claims comes near the int64 range. A device whose clock is
	// further off still gets the 401 and Date header, and its retry is in
	// range.
	maxDeviceClaimSkew = int64(365 * 24 * time.Hour / time.Second)
)

// SignatureFields are the challenge fields, in JSON form, that a device signs
// when it answers a push challenge. The list is sent in the
// Twilio-Verify-Signature-Fields header of a pending challenge; every field
// is immutable and always present in the JSON, so the device's copy and the
// server's rendering are equal until the answer.
var SignatureFields = []string{
	"sid", "account_sid", "service_sid", "entity_sid", "identity", "factor_sid",
	"date_created", "expiration_date", "details", "hidden_details",
}

// AuthenticateDevice checks a device JWT and returns the push factor whose
// key signed it. Every failure is EAuthenticate: the transport answers 401
// with a Date header, from which the SDK corrects its clock before retrying.
func (v *Verifier) AuthenticateDevice(ctx context.Context, token string) (*Factor, error) {
	deny := func(why string) error { return Errorf(EAuthenticate, "Authentication Error - %s", why) }
	t, err := jws.Parse(token)
	if err != nil {
		return nil, deny("malformed device token")
	}
	if t.Header.Cty != DeviceJWTType {
		return nil, deny("not a device token")
	}
	if !Sid(t.Header.Kid).Valid(PrefixCredential) {
		return nil, deny("unknown credential")
	}
	f, err := v.Store.FindFactorByCredential(ctx, Sid(t.Header.Kid))
	if IsCode(err, ENotFound) {
		return nil, deny("unknown credential")
	}
	if err != nil {
		return nil, err
	}
	pub, err := f.Push.Key()
	if err != nil {
		return nil, err
	}
	if err := t.VerifyES256(pub); err != nil {
		return nil, deny("invalid device token signature")
	}
	// Integer claims only: the SDKs send whole seconds, and a fraction or
	// exponent (1.7e9) fails to decode into int64 and is refused.
	var claims struct {
		Sub string `json:"sub"`
		Nbf *int64 `json:"nbf"`
		Exp *int64 `json:"exp"`
		Iat *int64 `json:"iat"`
	}
	if err := json.Unmarshal(t.Payload, &claims); err != nil || claims.Nbf == nil || claims.Exp == nil {
		return nil, deny("device token lacks sub, nbf or exp")
	}
	if Sid(claims.Sub) != f.AccountSid {
		return nil, deny("device token is for another account")
	}
	now := v.Now().Unix()
	for _, c := range []*int64{claims.Nbf, claims.Exp, claims.Iat} {
		if c != nil && (*c < now-maxDeviceClaimSkew || *c > now+maxDeviceClaimSkew) {
			return nil, deny("device token is not valid at the server's time")
		}
	}
	leeway := int64(DeviceLeeway / time.Second)
	if *claims.Exp-*claims.Nbf > maxDeviceJWTLife || *claims.Exp <= *claims.Nbf {
		return nil, deny("device token lifetime out of range")
	}
	if now < *claims.Nbf-leeway || now >= *claims.Exp+leeway {
		return nil, deny("device token is not valid at the server's time")
	}
	return f, nil
}

// checkPushAnswer checks a push challenge's AuthPayload, a compact ES256 JWT
// by the challenge's factor whose payload repeats SignatureFields as
// rendered and adds status approved or denied, and returns that status. Any
// mismatch is EChallengeVerify. device, the factor that authenticated the
// request, saves looking the factor up again when it is the challenge's.
func (v *Verifier) checkPushAnswer(ctx context.Context, c *Challenge, device *Factor, payload string, render func(*Challenge) (map[string]any, error)) (ChallengeStatus, error) {
	bad := Errorf(EChallengeVerify, "Challenge verification failed: the AuthPayload does not match this challenge or its factor's key")
	if len(payload) > MaxPushAuthPayload {
		return "", Errorf(EPushParam, "Invalid parameter AuthPayload: at most %d characters", MaxPushAuthPayload)
	}
	f := device
	if f == nil || f.Sid != c.FactorSid {
		var err error
		if f, err = v.Store.FindFactor(ctx, c.EntitySid, c.FactorSid); err != nil {
			return "", err
		}
	}
	t, err := jws.Parse(payload)
	if err != nil {
		return "", bad
	}
	pub, err := f.Push.Key()
	if err != nil {
		return "", err
	}
	if t.VerifyES256(pub) != nil {
		return "", bad
	}
	var signed map[string]any
	if err := json.Unmarshal(t.Payload, &signed); err != nil {
		return "", bad
	}
	status := ChallengeStatus("")
	if s, ok := signed["status"].(string); ok {
		status = ChallengeStatus(s)
	}
	if status != ChallengeApproved && status != ChallengeDenied {
		return "", bad
	}
	want, err := render(c)
	if err != nil {
		return "", err
	}
	for _, field := range SignatureFields {
		got, ok := signed[field]
		if !ok || !reflect.DeepEqual(got, want[field]) {
			return "", bad
		}
	}
	return status, nil
}
