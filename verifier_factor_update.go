package verify

import (
	"context"

	"github.com/verifyd/verify/otp"
)

// factor finds the factor addressed by a path.
func (v *Verifier) factor(ctx context.Context, account, service Sid, identity string, sid Sid) (*Factor, error) {
	e, err := v.entity(ctx, account, service, identity)
	if err != nil {
		return nil, err
	}
	return v.factorOf(ctx, e, sid)
}

// factorOf finds one factor of an entity already looked up.
func (v *Verifier) factorOf(ctx context.Context, e *Entity, sid Sid) (*Factor, error) {
	if !sid.Valid(PrefixFactor) {
		return nil, notFound("/Services/" + string(e.ServiceSid) + "/Entities/" + e.Identity + "/Factors/" + string(sid))
	}
	return v.Store.FindFactor(ctx, e.Sid, sid)
}

// FetchFactor returns one factor of an entity.
func (v *Verifier) FetchFactor(ctx context.Context, account, service Sid, identity string, sid Sid) (*Factor, error) {
	return v.factor(ctx, account, service, identity, sid)
}

// DeleteFactor deletes a factor and its challenges.
func (v *Verifier) DeleteFactor(ctx context.Context, account, service Sid, identity string, sid Sid) error {
	f, err := v.factor(ctx, account, service, identity, sid)
	if err != nil {
		return err
	}
	return v.Store.Tx(ctx, func(st Store) error {
		if err := st.DeleteFactor(ctx, f.EntitySid, f.Sid); err != nil {
			return err
		}
		return v.emit(ctx, st, EventFactorDeleted, f, nil)
	})
}

// ListFactors lists an entity's factors.
func (v *Verifier) ListFactors(ctx context.Context, account, service Sid, identity string, p Page) ([]*Factor, bool, error) {
	e, err := v.entity(ctx, account, service, identity)
	if err != nil {
		return nil, false, err
	}
	return v.Store.ListFactors(ctx, e.Sid, p)
}

// ListFactorsLastUsed is ListFactors with the end of the last time step
// each TOTP factor accepted (Totp.LastUsedEnd), which a list leaves out:
// the console shows when a factor last proved its user.
func (v *Verifier) ListFactorsLastUsed(ctx context.Context, account, service Sid, identity string, p Page) ([]*Factor, bool, error) {
	e, err := v.entity(ctx, account, service, identity)
	if err != nil {
		return nil, false, err
	}
	fs, more, err := v.Store.ListFactors(ctx, e.Sid, p)
	if err != nil {
		return nil, false, err
	}
	used, err := v.Store.TotpLastUsed(ctx, e.Sid)
	if err != nil {
		return nil, false, err
	}
	for _, f := range fs {
		if f.Totp != nil {
			f.Totp.LastUsedEnd = used[f.Sid]
		}
	}
	return fs, more, nil
}

// UpdateFactor changes a factor's name and config and, when AuthPayload is
// given, verifies it: a TOTP code for a TOTP factor, a signature over the
// factor SID for a push factor. A wrong TOTP code leaves the factor
// unverified and is not an error, as Twilio answers since October 2021; after
// MaxFactorAttempts wrong codes every further try fails with EFactorTries.
func (v *Verifier) UpdateFactor(ctx context.Context, account, service Sid, identity string, sid Sid, p FactorUpdate) (*Factor, error) {
	f, err := v.factor(ctx, account, service, identity, sid)
	if err != nil {
		return nil, err
	}
	changed, err := applyFactorUpdate(f, p)
	if err != nil {
		return nil, err
	}
	verifying := p.AuthPayload != nil && f.Status != FactorVerified
	if verifying {
		// Refuse a verification that cannot succeed before anything is
		// written, so that a refused request changes nothing.
		if err := checkVerification(f, *p.AuthPayload); err != nil {
			return nil, err
		}
	}
	if changed {
		f.DateUpdated = v.now()
		if err := v.Store.UpdateFactor(ctx, f); err != nil {
			return nil, err
		}
	}
	if !verifying {
		return f, nil
	}
	if f.Type == FactorTotp {
		return v.verifyTotpFactor(ctx, f, *p.AuthPayload)
	}
	return v.markVerified(ctx, f) // the signature was checked above
}

// checkVerification refuses an AuthPayload that cannot verify f: a TOTP
// code of the wrong shape or after MaxFactorAttempts wrong ones (a wrong
// code itself is counted, not refused), or a push signature that does not
// match the factor's key.
func checkVerification(f *Factor, payload string) error {
	if f.Type == FactorPasskeys {
		return errPasskeysOnly("verified", "VerifyFactor")
	}
	if f.Type == FactorTotp {
		if err := checkTotpPayload(payload); err != nil {
			return err
		}
		if f.FailedAttempts >= MaxFactorAttempts {
			return Errorf(EFactorTries, "Max verification attempts reached for this factor")
		}
		return nil
	}
	if !verifyFactorSignature(f, payload) {
		return Errorf(EFactorVerify, "Factor verification failed: the signature does not match the factor's public key")
	}
	return nil
}

// applyFactorUpdate applies the name, metadata and config changes of p and
// reports whether anything was sent.
func applyFactorUpdate(f *Factor, p FactorUpdate) (bool, error) {
	changed := false
	if p.FriendlyName != nil {
		if *p.FriendlyName == "" {
			return false, Errorf(EPushParam, "Invalid parameter FriendlyName: must not be empty")
		}
		if err := checkLen(EPushParam, "FriendlyName", *p.FriendlyName, MaxFriendlyName); err != nil {
			return false, err
		}
		if err := checkText(EPushParam, "FriendlyName", *p.FriendlyName, false); err != nil {
			return false, err
		}
		f.FriendlyName = *p.FriendlyName
		changed = true
	}
	if p.Metadata != nil {
		m, err := stringMapParam(EPushParam, "Metadata", *p.Metadata, MaxMetadataLength)
		if err != nil {
			return false, err
		}
		f.Metadata = m
		changed = true
	}
	switch f.Type {
	case FactorTotp:
		if p.Config.totp() {
			if err := applyTotpConfig(f.Totp, p.Config); err != nil {
				return false, err
			}
			changed = true
		}
	case FactorPush:
		if p.Config.push() {
			if err := applyPushConfig(f.Push, p.Config); err != nil {
				return false, err
			}
			changed = true
		}
	}
	return changed, nil
}

// checkTotpPayload checks the shape of a TOTP AuthPayload: 3 to 8
// characters, as Twilio documents. Whether they are the right digits is the
// code check's business.
func checkTotpPayload(payload string) error {
	if len(payload) < 3 || len(payload) > 8 {
		return Errorf(EPushParam, "Invalid parameter AuthPayload: a TOTP code has 3 to 8 digits")
	}
	return nil
}

// verifyTotpFactor checks a TOTP code that checkVerification let through.
// The code is compared only once one of the factor's MaxFactorAttempts is
// reserved for it, in the transaction that then verifies the factor (which
// clears the count) or leaves the reservation standing as a wrong attempt:
// parallel requests can have no more than MaxFactorAttempts codes compared,
// and a right code after the last wrong one is refused like any other.
func (v *Verifier) verifyTotpFactor(ctx context.Context, f *Factor, code string) (*Factor, error) {
	check := v.totpCheck(f)
	verified, n := false, 0
	err := v.Store.Tx(ctx, func(st Store) error {
		var err error
		if n, err = st.TakeFactorAttempt(ctx, f.Sid, MaxFactorAttempts); err != nil {
			return err
		}
		step, match := check.match(code)
		if !match {
			return nil
		}
		ok, err := useTotpStep(ctx, st, f, step)
		if err != nil || !ok {
			return err
		}
		verified = true
		return v.in(st).markVerifiedTx(ctx, f)
	})
	switch {
	case IsCode(err, EFactorState):
		// Verified by a request that ran meanwhile: this code was not
		// compared, and the factor is verified either way. Not read again:
		// on SQLite that verification may still wait for its group commit,
		// and a read would find the factor unverified.
		f.Status, f.FailedAttempts = FactorVerified, 0
		return f, nil
	case err != nil:
		return nil, err
	case verified:
		f.FailedAttempts = 0
	default:
		f.FailedAttempts = n
		v.observeEvent(EventCodeRejected, f.Type)
	}
	return f, nil
}

// totpStep is a time step [Start, End) whose code was given.
type totpStep struct{ Start, End int64 }

// totpCheck is what a factor accepts at one moment: the codes of the steps
// within its skew that start at or after its last used step. It is
// computed (the HMACs) before an attempt is reserved, so that the writer's
// transaction only compares.
type totpCheck struct {
	window otp.Window
	period int64
}

func (v *Verifier) totpCheck(f *Factor) totpCheck {
	t := f.Totp
	period := int64(t.TimeStep)
	minCounter := uint64((t.LastUsedEnd + period - 1) / period) // first step starting at or after LastUsedEnd
	return totpCheck{otp.NewWindow(t.Secret, v.now(), t.params(), minCounter), period}
}

// match compares code with the accepted codes in constant time and returns
// the step it is the code of.
func (c *totpCheck) match(code string) (totpStep, bool) {
	counter, ok := c.window.Match(code)
	if !ok {
		return totpStep{}, false
	}
	start := int64(counter) * c.period
	return totpStep{start, start + c.period}, true
}

// useTotpStep records step as used by f. It reports false if a code of the
// same or a later step was accepted since f was read: the store's
// compare-and-swap refuses the replay that raced the check.
func useTotpStep(ctx context.Context, st Store, f *Factor, step totpStep) (bool, error) {
	ok, err := st.UseTotpStep(ctx, f.Sid, step.Start, step.End)
	if err != nil || !ok {
		return false, err
	}
	f.Totp.LastUsedEnd = step.End
	return true, nil
}

func (v *Verifier) markVerified(ctx context.Context, f *Factor) (*Factor, error) {
	if err := v.Store.Tx(ctx, func(st Store) error { return v.in(st).markVerifiedTx(ctx, f) }); err != nil {
		return nil, err
	}
	return f, nil
}

// markVerifiedTx moves f to verified, in the transaction of v.Store, and
// emits factor.verified if this call made the transition. Losing the race
// to another request that verified it first is not an error: the factor is
// verified either way, and the winner emitted the event.
func (v *Verifier) markVerifiedTx(ctx context.Context, f *Factor) error {
	now := v.now()
	err := v.Store.VerifyFactor(ctx, f.Sid, now)
	if err != nil && !IsCode(err, EFactorState) {
		return err
	}
	if err == nil {
		if err := v.emit(ctx, v.Store, EventFactorVerified, f, nil); err != nil {
			return err
		}
	}
	f.Status = FactorVerified
	f.DateUpdated = now
	return nil
}
