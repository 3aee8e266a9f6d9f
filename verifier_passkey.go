package verify

import (
	"bytes"
	"context"

	"github.com/verifyd/verify/passkey"
)

// The Passkeys endpoints hang off the service and their WebAuthn bodies
// carry neither a factor nor a challenge SID: as on Twilio, a ceremony's
// challenge is the characters of the SID it is for (the factor's for a
// registration, the challenge's for a login), so the challenge the client
// signed says which one it answers. SIDs hold 128 random bits, as WebAuthn
// asks of a challenge, and each is answered once: a factor is verified
// once, a challenge approved once (compare-and-swap).

// CreatePasskeyFactor creates an unverified passkeys factor for identity
// (and its entity if needed) and returns it with its creation options.
func (v *Verifier) CreatePasskeyFactor(ctx context.Context, account, service Sid, identity, friendlyName *string, config *PasskeyConfigParams) (*NewFactor, error) {
	if identity == nil || *identity == "" {
		return nil, missing(EIdentity, "identity")
	}
	typ := string(FactorPasskeys)
	return v.createFactor(ctx, account, service, *identity, FactorParams{FriendlyName: friendlyName, FactorType: &typ, Passkey: config}, nil)
}

// entityPasskeys returns the credentials of the entity's verified passkeys.
func entityPasskeys(ctx context.Context, st Store, entity Sid) ([]*passkey.Credential, error) {
	fs, err := passkeyFactors(ctx, st, entity)
	if err != nil {
		return nil, err
	}
	creds := make([]*passkey.Credential, len(fs))
	for i, f := range fs {
		creds[i] = f.Passkey.Credential
	}
	return creds, nil
}

// passkeyFactors returns the entity's verified passkeys factors, at most
// MaxPasskeyFactors, in one page.
func passkeyFactors(ctx context.Context, st Store, entity Sid) ([]*Factor, error) {
	all, _, err := st.ListFactors(ctx, entity, Page{Size: MaxPasskeyFactors + MaxPushFactors + MaxTotpFactors})
	if err != nil {
		return nil, err
	}
	var out []*Factor
	for _, f := range all {
		if f.Type == FactorPasskeys && f.Status == FactorVerified && f.Passkey != nil && f.Passkey.Credential != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// VerifyPasskeyFactor registers the credential of a registration response
// (body, as the client posts it) on the unverified factor whose SID is its
// challenge, and verifies the factor. Nothing is stored from a response
// that fails any check.
func (v *Verifier) VerifyPasskeyFactor(ctx context.Context, account, service Sid, body []byte) (*Factor, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	reg, err := passkey.ParseRegistration(body)
	if err != nil {
		return nil, passkeyError(err, true)
	}
	ch, err := reg.Challenge()
	if err != nil {
		return nil, passkeyError(err, true)
	}
	if !Sid(ch).Valid(PrefixFactor) {
		return nil, Errorf(EPasskeyClient, "clientDataJSON.challenge is not the challenge of a passkeys factor")
	}
	f, err := v.Store.FindServiceFactor(ctx, service, Sid(ch))
	if err != nil {
		return nil, err
	}
	if f.Type != FactorPasskeys || f.Passkey == nil {
		return nil, Errorf(EFactorType, "Factor %s is not a passkeys factor", f.Sid)
	}
	if f.Status != FactorUnverified {
		return nil, Errorf(EFactorState, "Factor %s is verified already", f.Sid)
	}
	now := v.now()
	if now.Sub(f.DateCreated) > PasskeyTimeout {
		return nil, Errorf(EFactorState, "The registration of factor %s timed out; create a new factor", f.Sid)
	}
	c := f.Passkey.Config
	cred, err := reg.Verify(c.RelyingParty, ch, []byte(f.EntitySid), c.UserVerification)
	if err != nil {
		v.observeEvent(EventCodeRejected, FactorPasskeys)
		return nil, passkeyError(err, true)
	}
	f.Passkey.Credential = cred
	err = v.Store.Tx(ctx, func(st Store) error {
		if err := st.RegisterPasskey(ctx, f, now); err != nil {
			return err
		}
		f.Status, f.DateUpdated, f.FailedAttempts = FactorVerified, now, 0
		return v.emit(ctx, st, EventFactorVerified, f, nil)
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// CreatePasskeyChallenge creates a passkeys challenge: for one factor
// (factorSid, or the entity's only passkey), for any passkey of the entity
// (identity, several passkeys), or for any passkey of the service (neither:
// a login with a discoverable credential, which names its user). The first
// kind is an ordinary pending challenge, counted against the factor's
// quota; the others wait as a login until a credential answers them, and
// become the approved challenge of its factor then.
func (v *Verifier) CreatePasskeyChallenge(ctx context.Context, account, service Sid, identity, factorSid string) (*PasskeyChallenge, error) {
	svc, err := v.service(ctx, account, service)
	if err != nil {
		return nil, err
	}
	if identity != "" && !ValidIdentity(identity) {
		return nil, Errorf(EContactID, "Invalid parameter identity: must be 8 to 64 dash-separated letters and digits")
	}
	if factorSid != "" && !Sid(factorSid).Valid(PrefixFactor) {
		return nil, Errorf(EFactorSid, "Invalid parameter factor_sid: must be YF followed by 32 hex characters")
	}
	var f *Factor
	var e *Entity
	var several []*Factor
	switch {
	case factorSid != "":
		if f, err = v.Store.FindServiceFactor(ctx, service, Sid(factorSid)); err != nil {
			return nil, err
		}
		if identity != "" && f.Identity != identity {
			return nil, Errorf(ENotFound, "Factor %s was not found for identity %s", factorSid, identity)
		}
	case identity != "":
		if e, err = v.entityIn(ctx, service, identity); err != nil {
			return nil, err
		}
		fs, err := passkeyFactors(ctx, v.Store, e.Sid)
		if err != nil {
			return nil, err
		}
		switch len(fs) {
		case 0:
			return nil, Errorf(ENotFound, "Entity %s has no verified passkeys factor", identity)
		case 1:
			f = fs[0]
		default:
			several = fs
		}
	}
	if f != nil {
		if f.Type != FactorPasskeys || f.Passkey == nil {
			return nil, Errorf(EFactorType, "Factor %s is not a passkeys factor", f.Sid)
		}
		if f.Status != FactorVerified || f.Passkey.Credential == nil {
			return nil, Errorf(EFactorUnverifed, "The factor %s is not verified", f.Sid)
		}
	}
	sid, err := v.newSid(PrefixChallenge)
	if err != nil {
		return nil, err
	}
	now := v.now()
	c := &Challenge{
		Sid: sid, AccountSid: account, ServiceSid: service, FactorType: FactorPasskeys,
		Status: ChallengePending, RespondedReason: ReasonNone,
		ExpirationDate: now.Add(PasskeyTimeout), DateCreated: now, DateUpdated: now,
	}
	if f != nil {
		c.EntitySid, c.Identity, c.FactorSid = f.EntitySid, f.Identity, f.Sid
		err := v.Store.Tx(ctx, func(st Store) error {
			if err := st.TakeChallengeQuota(ctx, f.Sid, ChallengeQuotaFor(f), now); err != nil {
				return err
			}
			return st.CreateChallenge(ctx, c)
		})
		if err != nil {
			return nil, err
		}
		v.observeCreated(c)
		return &PasskeyChallenge{c, newPasskeyOptions(false, f.Passkey.Config, sid, []*passkey.Credential{f.Passkey.Credential})}, nil
	}
	var config PasskeyConfig
	var allow []*passkey.Credential
	if e != nil {
		c.EntitySid, c.Identity = e.Sid, e.Identity
		config = several[len(several)-1].Passkey.Config
		for _, f := range several {
			allow = append(allow, f.Passkey.Credential)
		}
	} else if config, err = passkeyConfig(svc, nil); err != nil {
		return nil, err
	}
	if err := v.Store.CreatePasskeyLogin(ctx, c); err != nil {
		return nil, err
	}
	v.observeCreated(c)
	return &PasskeyChallenge{c, newPasskeyOptions(false, config, sid, allow)}, nil
}

// ApprovePasskeyChallenge verifies an assertion (body, as the client posts
// it) and approves the challenge whose SID is its challenge, once: of two
// requests carrying the same or different valid assertions for one
// challenge, one approves it and the other is refused as already
// responded to. The approved challenge names the factor whose credential
// signed, also after a login that named no one.
func (v *Verifier) ApprovePasskeyChallenge(ctx context.Context, account, service Sid, body []byte) (*PasskeyChallenge, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	a, err := passkey.ParseAssertion(body)
	if err != nil {
		return nil, passkeyError(err, false)
	}
	ch, err := a.Challenge()
	if err != nil {
		return nil, passkeyError(err, false)
	}
	sid := Sid(ch)
	if !sid.Valid(PrefixChallenge) {
		return nil, Errorf(EPasskeyClient, "clientDataJSON.challenge is not the challenge of a passkeys challenge")
	}
	now := v.now()
	login := false
	c, err := v.Store.FindServiceChallenge(ctx, service, sid)
	if IsCode(err, ENotFound) {
		c, err = v.Store.FindPasskeyLogin(ctx, service, sid)
		login = err == nil
		if IsCode(err, ENotFound) {
			// Approved between the two reads: it is a challenge now,
			// which says that it was responded to.
			c, err = v.Store.FindServiceChallenge(ctx, service, sid)
		}
	}
	if err != nil {
		return nil, err
	}
	if c.FactorType != FactorPasskeys {
		return nil, Errorf(EFactorType, "Challenge %s is not a passkeys challenge", sid)
	}
	c.Status = c.StatusAt(now)
	if err := answerable(c); err != nil {
		return nil, err
	}
	f, err := v.signer(ctx, c, a)
	if err != nil {
		return nil, err
	}
	cfg := f.Passkey.Config
	cred, err := a.Verify(cfg.RelyingParty, ch, []byte(f.EntitySid), cfg.UserVerification, *f.Passkey.Credential)
	if passkey.ReasonOf(err) == passkey.Cloned {
		next := *f.Passkey
		next.CloneWarnings++
		if _, serr := v.Store.SwapPasskey(ctx, f.Sid, f.Passkey, &next); serr != nil {
			return nil, serr
		}
	}
	if err != nil {
		v.observeEvent(EventCodeRejected, FactorPasskeys)
		return nil, passkeyError(err, false)
	}
	next := *f.Passkey
	next.Credential = cred
	done := *c
	done.EntitySid, done.Identity, done.FactorSid = f.EntitySid, f.Identity, f.Sid
	done.responded(ChallengeApproved, nil, now)
	err = v.Store.Tx(ctx, func(st Store) error {
		if login {
			if err := st.ClosePasskeyLogin(ctx, c.Sid, now); err != nil {
				return err
			}
			if err := st.CreateChallenge(ctx, &done); err != nil {
				return err
			}
		} else if err := st.RespondChallenge(ctx, c.Sid, ChallengeApproved, ReasonNone, nil, now); err != nil {
			return err
		}
		ok, err := st.SwapPasskey(ctx, f.Sid, f.Passkey, &next)
		if err != nil {
			return err
		}
		if !ok {
			// Another assertion of this credential was stored since it
			// was read: its counter decides, so this one is retried by
			// the client, not guessed at.
			return Errorf(EChallengeVerify, "The passkey was used by another request at the same time; try again")
		}
		f.Passkey = &next
		return v.emit(ctx, st, EventChallengeApproved, f, &done)
	})
	if err != nil {
		return nil, err
	}
	v.observeEvent(EventChallengeApproved, FactorPasskeys)
	return &PasskeyChallenge{Challenge: &done}, nil
}

// signer finds the factor whose credential signed assertion a for c: by
// credential ID within the service, then checked against whom c is for
// and the user handle the authenticator returned.
func (v *Verifier) signer(ctx context.Context, c *Challenge, a *passkey.Assertion) (*Factor, error) {
	unknown := Errorf(EChallengeVerify, "The assertion is signed by a credential this challenge does not allow")
	f, err := v.Store.FindPasskeyFactor(ctx, c.ServiceSid, a.CredentialID())
	if IsCode(err, ENotFound) {
		return nil, unknown
	}
	if err != nil {
		return nil, err
	}
	if (c.FactorSid != "" && f.Sid != c.FactorSid) || (c.EntitySid != "" && f.EntitySid != c.EntitySid) {
		return nil, unknown
	}
	h := a.UserHandle()
	if c.EntitySid == "" && len(h) == 0 {
		return nil, Errorf(EContactID, "response.userHandle is required to log in without an identity")
	}
	if len(h) > 0 && !bytes.Equal(h, []byte(f.EntitySid)) {
		return nil, Errorf(EChallengeVerify, "response.userHandle is not the owner of the credential")
	}
	if f.Status != FactorVerified || f.Passkey == nil || f.Passkey.Credential == nil {
		return nil, Errorf(EFactorUnverifed, "The factor %s is not verified", f.Sid)
	}
	return f, nil
}
