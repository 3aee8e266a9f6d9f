package verify

import (
	"context"
	"crypto/subtle"
	"unicode/utf8"
)

// CheckVerification compares a code with a pending verification's. A
// wrong code answers the verification still pending (the fifth one
// max_attempts_reached); the right one approves it, once. The attempt is
// reserved in the store before the code is compared, so that however many
// checks arrive in parallel, on however many nodes, no more than
// MaxVerificationChecks codes are ever compared, and of many right checks
// exactly one approves: the others find it approved and answer 404, as a
// check of an approved verification does.
func (v *Verifier) CheckVerification(ctx context.Context, account, service Sid, p VerificationCheckParams) (*Verification, error) {
	svc, err := v.service(ctx, account, service)
	if err != nil {
		return nil, err
	}
	gone := notFound("/Services/" + string(service) + "/VerificationCheck")
	hasSid := p.VerificationSid != nil && *p.VerificationSid != ""
	hasTo := p.To != nil && *p.To != ""
	if !hasSid && !hasTo {
		return nil, Errorf(ECheckTarget, "Either a To or a VerificationSid must be specified")
	}
	if p.Code == nil || *p.Code == "" {
		return nil, missing(EInvalidParam, "Code")
	}
	if n := utf8.RuneCountInString(*p.Code); n < MinCodeLength || n > MaxCodeLength || !ValidText(*p.Code, false) {
		return nil, invalid("Code")
	}
	var to string
	if hasTo {
		var ok bool
		if to, ok = NormalizeTo(*p.To); !ok {
			return nil, invalid("To")
		}
	}
	var amount, payee string
	if svc.Psd2Enabled {
		if p.Amount == nil || p.Payee == nil {
			return nil, Errorf(EPsd2Missing, "A PSD2 service requires Amount and Payee")
		}
		amount, payee = *p.Amount, *p.Payee
	}
	var ver *Verification
	if hasSid {
		if !Sid(*p.VerificationSid).Valid(PrefixVerification) {
			return nil, gone
		}
		ver, err = v.Store.FindVerification(ctx, service, Sid(*p.VerificationSid))
		if err == nil && hasTo && ver.To != to {
			return nil, gone
		}
	} else {
		key := to
		if svc.Psd2Enabled {
			key = to + "\n" + amount + "\n" + payee
		}
		ver, err = v.Store.FindLiveVerification(ctx, service, key)
	}
	if IsCode(err, ENotFound) {
		return nil, gone
	}
	if err != nil {
		return nil, err
	}
	now := v.now()
	switch ver.StatusAt(now) {
	case VerificationPending:
	case VerificationMaxAttempts:
		return nil, Errorf(EMaxChecks, "Max check attempts reached")
	default:
		return nil, gone
	}
	// One transaction: the reservation's row lock (PostgreSQL) or the
	// single writer (SQLite) holds while the code is compared and the
	// outcome written, so a check costs one commit and no other check of
	// this verification can run in between.
	err = v.Store.Tx(ctx, func(st Store) error {
		n, err := st.TakeVerificationCheck(ctx, ver.Sid, v.maxChecks(), now)
		if err != nil {
			return err
		}
		ok := v.matchCode(ver, *p.Code)
		if svc.Psd2Enabled {
			// The code is bound to the amount and payee: another pair is
			// a wrong code, whatever the digits.
			same := subtle.ConstantTimeCompare([]byte(amount), []byte(deref(ver.Amount))) &
				subtle.ConstantTimeCompare([]byte(payee), []byte(deref(ver.Payee)))
			ok = ok && same == 1
		}
		ver.Checks, ver.DateUpdated = n, now
		switch {
		case ok:
			ver.Status = VerificationApproved
			return st.SetVerificationStatus(ctx, ver.Sid, VerificationApproved, now)
		case n >= v.maxChecks():
			ver.Status = VerificationMaxAttempts
			return st.SetVerificationStatus(ctx, ver.Sid, VerificationMaxAttempts, now)
		}
		return nil
	})
	if IsCode(err, ENotFound) {
		return nil, gone
	}
	if err != nil {
		return nil, err
	}
	return ver, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
