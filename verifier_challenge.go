package verify

import (
	"context"
	"time"
)

// challenge finds the challenge addressed by a path and resolves its status
// at now.
func (v *Verifier) challenge(ctx context.Context, account, service Sid, identity string, sid Sid) (*Challenge, error) {
	e, err := v.entity(ctx, account, service, identity)
	if err != nil {
		return nil, err
	}
	if !sid.Valid(PrefixChallenge) {
		return nil, notFound("/Services/" + string(service) + "/Entities/" + identity + "/Challenges/" + string(sid))
	}
	c, err := v.Store.FindChallenge(ctx, e.Sid, sid)
	if err != nil {
		return nil, err
	}
	c.Status = c.StatusAt(v.now())
	return c, nil
}

// CreateChallenge creates a challenge for one of the entity's verified
// factors. A push challenge needs Details.Message; a TOTP challenge may carry
// the code in AuthPayload, in which case it comes back approved, or pending
// with one failed attempt counted if the code is wrong. Each challenge
// counts against the factor's ChallengeQuota, in the same transaction that
// stores it, once its parameters have been found valid.
func (v *Verifier) CreateChallenge(ctx context.Context, account, service Sid, identity string, p ChallengeParams) (*Challenge, error) {
	svc, err := v.service(ctx, account, service)
	if err != nil {
		return nil, err
	}
	if p.FactorSid == nil || *p.FactorSid == "" {
		return nil, missing(EFactorSid, "FactorSid")
	}
	if !Sid(*p.FactorSid).Valid(PrefixFactor) {
		return nil, Errorf(EFactorSid, "Invalid parameter FactorSid: must be YF followed by 32 hex characters")
	}
	e, err := v.entityIn(ctx, service, identity)
	if err != nil {
		return nil, err
	}
	f, err := v.factorOf(ctx, e, Sid(*p.FactorSid))
	if err != nil {
		return nil, err
	}
	if f.Type == FactorPasskeys {
		return nil, errPasskeysOnly("challenged", "Challenges")
	}
	if f.Status != FactorVerified {
		return nil, Errorf(EFactorUnverifed, "The factor %s is not verified", f.Sid)
	}
	sid, err := v.newSid(PrefixChallenge)
	if err != nil {
		return nil, err
	}
	now := v.now()
	c := &Challenge{
		Sid: sid, AccountSid: account, ServiceSid: service, EntitySid: f.EntitySid, Identity: identity,
		FactorSid: f.Sid, FactorType: f.Type, Status: ChallengePending, RespondedReason: ReasonNone,
		ExpirationDate: now.Add(DefaultChallengeTTL), DateCreated: now, DateUpdated: now,
	}
	if p.ExpirationDate != nil {
		exp := p.ExpirationDate.UTC().Truncate(time.Second)
		if !exp.After(now) || exp.After(now.Add(MaxChallengeTTL)) {
			return nil, Errorf(EPushParam, "Invalid parameter ExpirationDate: must be in the future and at most 60 minutes after creation")
		}
		c.ExpirationDate = exp
	}
	if err := challengeDetails(c, p, f.Type == FactorPush); err != nil {
		return nil, err
	}
	if f.Type == FactorPush && svc.Push.IncludeDate {
		d := now
		c.Details.Date = &d
	}
	if f.Type == FactorPush || p.AuthPayload == nil {
		if f.Type == FactorPush && p.AuthPayload != nil {
			return nil, Errorf(EPushParam, "Invalid parameter AuthPayload: only TOTP challenges take a code on creation")
		}
		var push *OutboxMessage
		if f.Type == FactorPush {
			// The challenge SID is unique, so it serves as the row's ID.
			if push, err = pushRow(svc, f, c, string(c.Sid), initialPushTTL(c, now), now); err != nil {
				return nil, err
			}
		}
		err := v.Store.Tx(ctx, func(st Store) error {
			if err := st.TakeChallengeQuota(ctx, f.Sid, ChallengeQuotaFor(f), now); err != nil {
				return err
			}
			if err := st.CreateChallenge(ctx, c); err != nil {
				return err
			}
			if push != nil {
				return st.EnqueueOutbox(ctx, push)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		v.observeCreated(c)
		return c, nil
	}
	if err := checkTotpPayload(*p.AuthPayload); err != nil {
		return nil, err
	}
	check := v.totpCheck(f)
	step, match := check.match(*p.AuthPayload)
	// One statement where that saves round trips (PostgreSQL): the same
	// quota, step and challenge, with no webhook to write an event for.
	done, approved, err := v.Store.CreateTotpChallenge(ctx, c, ChallengeQuotaFor(f), match, step.Start, step.End, now)
	if err != nil {
		return nil, err
	}
	if done {
		if approved {
			c.Status, c.DateResponded = ChallengeApproved, &now
			f.Totp.LastUsedEnd = step.End
			v.observe(EventChallengeApproved, f)
		} else {
			c.FailedAttempts = 1
		}
		return v.totpCreated(c, f), nil
	}
	err = v.Store.Tx(ctx, func(st Store) error {
		// The quota comes first: past it, a right code is refused too, so
		// that guessing cannot go on whatever the codes are. The code is
		// compared only once the quota is taken: this new challenge's one
		// attempt.
		if err := st.TakeChallengeQuota(ctx, f.Sid, ChallengeQuotaFor(f), now); err != nil {
			return err
		}
		ok := false
		if match {
			var err error
			if ok, err = useTotpStep(ctx, st, f, step); err != nil {
				return err
			}
		}
		if ok {
			c.Status = ChallengeApproved
			c.DateResponded = &now
		} else {
			c.FailedAttempts = 1
		}
		if err := st.CreateChallenge(ctx, c); err != nil || !ok {
			return err
		}
		// Approved on creation: the same event as an approval by update,
		// since for the backend it is the same approval.
		return v.emit(ctx, st, EventChallengeApproved, f, c)
	})
	if err != nil {
		return nil, err
	}
	return v.totpCreated(c, f), nil
}

// totpCreated counts a TOTP challenge created with its code.
func (v *Verifier) totpCreated(c *Challenge, f *Factor) *Challenge {
	v.observeCreated(c)
	if c.Status != ChallengeApproved {
		v.observeEvent(EventCodeRejected, f.Type)
	}
	return c
}

// challengeDetails checks and copies Details.* and HiddenDetails. A push
// challenge must have a message: it is what the phone shows.
func challengeDetails(c *Challenge, p ChallengeParams, push bool) error {
	if p.DetailsMessage != nil {
		if err := checkLen(EDetails, "Details.Message", *p.DetailsMessage, MaxDetailsMessage); err != nil {
			return err
		}
		if err := checkText(EDetails, "Details.Message", *p.DetailsMessage, true); err != nil {
			return err
		}
		c.Details.Message = *p.DetailsMessage
	}
	if push && c.Details.Message == "" {
		return missing(EDetails, "Details.Message")
	}
	if len(p.DetailsFields) > MaxDetailsFields {
		return Errorf(EDetails, "Invalid parameter Details.Fields: at most %d fields", MaxDetailsFields)
	}
	for _, raw := range p.DetailsFields {
		f, err := parseDetailField(raw)
		if err != nil {
			return err
		}
		c.Details.Fields = append(c.Details.Fields, f)
	}
	if p.HiddenDetails != nil {
		m, err := stringMapParam(EDetails, "HiddenDetails", *p.HiddenDetails, MaxMetadataLength)
		if err != nil {
			return err
		}
		c.HiddenDetails = m
	}
	return nil
}

// parseDetailField decodes one Details.Fields item, {"label":…,"value":…},
// accepting it JSON-encoded twice as twilio-go may send it. The label is one
// line of text, the value text (ValidText); a repeated key or invalid UTF-8
// is refused (decodeJSON).
func parseDetailField(raw string) (DetailField, error) {
	bad := Errorf(EDetails, "Invalid parameter Details.Fields: each item must be a JSON object with string label (at most %d characters) and value (at most %d characters) of valid UTF-8 text without control characters, each key once", MaxFieldLabel, MaxFieldValue)
	var s string
	if decodeJSON(raw, &s) == nil {
		raw = s
	}
	var f struct {
		Label *string `json:"label"`
		Value *string `json:"value"`
	}
	if err := decodeJSON(raw, &f); err != nil || f.Label == nil || f.Value == nil {
		return DetailField{}, bad
	}
	if *f.Label == "" || checkLen(EDetails, "", *f.Label, MaxFieldLabel) != nil || checkLen(EDetails, "", *f.Value, MaxFieldValue) != nil ||
		!ValidText(*f.Label, false) || !ValidText(*f.Value, true) {
		return DetailField{}, bad
	}
	return DetailField{Label: *f.Label, Value: *f.Value}, nil
}

// FetchChallenge returns one challenge of an entity.
func (v *Verifier) FetchChallenge(ctx context.Context, account, service Sid, identity string, sid Sid) (*Challenge, error) {
	return v.challenge(ctx, account, service, identity, sid)
}

// ListChallenges lists an entity's challenges, oldest first unless
// q.Order is desc.
func (v *Verifier) ListChallenges(ctx context.Context, account, service Sid, identity string, q ChallengeQuery, p Page) ([]*Challenge, bool, error) {
	e, err := v.entity(ctx, account, service, identity)
	if err != nil {
		return nil, false, err
	}
	now := v.now()
	f := ChallengeFilter{Now: now}
	if q.FactorSid != nil && *q.FactorSid != "" {
		if !Sid(*q.FactorSid).Valid(PrefixFactor) {
			return nil, false, Errorf(EFactorSid, "Invalid parameter FactorSid: must be YF followed by 32 hex characters")
		}
		f.FactorSid = Sid(*q.FactorSid)
	}
	if q.Status != nil && *q.Status != "" {
		s := ChallengeStatus(*q.Status)
		if !oneOf(string(s), string(ChallengePending), string(ChallengeExpired), string(ChallengeApproved), string(ChallengeDenied)) {
			return nil, false, Errorf(EPushParam, "Invalid parameter Status: must be pending, expired, approved or denied")
		}
		f.Status = s
	}
	if q.Order != nil && *q.Order != "" {
		if !oneOf(*q.Order, "asc", "desc") {
			return nil, false, Errorf(EPushParam, "Invalid parameter Order: must be asc or desc")
		}
		p.Desc = *q.Order == "desc"
	}
	cs, more, err := v.Store.ListChallenges(ctx, e.Sid, f, p)
	if err != nil {
		return nil, false, err
	}
	for _, c := range cs {
		c.Status = c.StatusAt(now)
	}
	return cs, more, nil
}

// UpdateChallenge answers a pending challenge. For TOTP, AuthPayload is the
// code: a right one approves the challenge, a wrong one counts a failed
// attempt and leaves it pending, and after MaxChallengeAttempts every try
// fails with EChallengeTries. For push, AuthPayload is the device's signed
// answer (approved or denied), checked against p.Render's view of the
// challenge.
func (v *Verifier) UpdateChallenge(ctx context.Context, account, service Sid, identity string, sid Sid, p ChallengeUpdate) (*Challenge, error) {
	c, err := v.challenge(ctx, account, service, identity, sid)
	if err != nil {
		return nil, err
	}
	if p.Device != nil && c.FactorSid != p.Device.Sid {
		// A device answers only its own factor's challenges.
		return nil, notFound("/Services/" + string(service) + "/Entities/" + identity + "/Challenges/" + string(sid))
	}
	var metadata map[string]string
	if p.Metadata != nil {
		if metadata, err = stringMapParam(EPushParam, "Metadata", *p.Metadata, MaxMetadataLength); err != nil {
			return nil, err
		}
	}
	if c.FactorType == FactorPasskeys {
		return nil, errPasskeysOnly("answered", "ApproveChallenge")
	}
	if p.AuthPayload == nil || *p.AuthPayload == "" {
		return nil, missing(EPushParam, "AuthPayload")
	}
	if err := answerable(c); err != nil {
		return nil, err
	}
	if c.FactorType == FactorPush {
		if p.Render == nil {
			return nil, Errorf(EInternal, "no challenge renderer for push answers")
		}
		status, err := v.checkPushAnswer(ctx, c, p.Device, *p.AuthPayload, p.Render)
		if err != nil {
			return nil, err
		}
		now := v.now()
		// One statement where that saves round trips (PostgreSQL) and no
		// webhook wants the event.
		alone, err := v.Store.RespondChallengeAlone(ctx, c.Sid, status, ReasonNone, metadata, now)
		if err != nil {
			return nil, err
		}
		typ := EventChallengeApproved
		if status == ChallengeDenied {
			typ = EventChallengeDenied
		}
		if alone {
			v.observeEvent(typ, c.FactorType)
			c.responded(status, metadata, now)
			return c, nil
		}
		err = v.Store.Tx(ctx, func(st Store) error {
			if err := st.RespondChallenge(ctx, c.Sid, status, ReasonNone, metadata, now); err != nil {
				return err
			}
			hooks, err := subscribers(ctx, st, c.ServiceSid, typ)
			if err != nil || len(hooks) == 0 {
				return err
			}
			// The factor only for an event someone will get: the device
			// that signed the answer is it, read for this request.
			f := p.Device
			if f == nil {
				if f, err = st.FindFactor(ctx, c.EntitySid, c.FactorSid); err != nil {
					return err
				}
			}
			done := *c
			done.responded(status, metadata, now)
			return v.emitTo(ctx, st, hooks, typ, f, &done)
		})
		if err != nil {
			return nil, err
		}
		v.observeEvent(typ, c.FactorType)
		c.responded(status, metadata, now)
		return c, nil
	}
	if err := checkTotpPayload(*p.AuthPayload); err != nil {
		return nil, err
	}
	if c.FailedAttempts >= MaxChallengeAttempts {
		// The snapshot may be stale: this only spares a write when the
		// attempts are known to be used up. TakeChallengeAttempt decides.
		return nil, Errorf(EChallengeTries, "Max attempts reached for this challenge")
	}
	f, err := v.Store.FindFactor(ctx, c.EntitySid, c.FactorSid)
	if err != nil {
		return nil, err
	}
	check := v.totpCheck(f)
	now := v.now()
	approved, n := false, 0
	err = v.Store.Tx(ctx, func(st Store) error {
		// An attempt is reserved before the code is compared, in the
		// transaction that approves the challenge (giving the attempt
		// back) or leaves the reservation standing as a wrong code: however
		// many requests race, on however many nodes, no more than
		// MaxChallengeAttempts codes are compared, and a right code that
		// comes after the last wrong one is refused like any other.
		var err error
		if n, err = st.TakeChallengeAttempt(ctx, c.Sid, MaxChallengeAttempts, now); err != nil {
			return err
		}
		step, match := check.match(*p.AuthPayload)
		if !match {
			return nil
		}
		ok, err := useTotpStep(ctx, st, f, step)
		if err != nil || !ok {
			return err // a replay: the reservation stands
		}
		approved = true
		if err := st.ApproveChallenge(ctx, c.Sid, metadata, now); err != nil {
			return err
		}
		done := *c
		done.responded(ChallengeApproved, metadata, now)
		return v.emit(ctx, st, EventChallengeApproved, f, &done)
	})
	if err != nil {
		return nil, err
	}
	if !approved {
		c.FailedAttempts = n
		v.observeEvent(EventCodeRejected, f.Type)
		return c, nil
	}
	c.FailedAttempts = n - 1
	c.responded(ChallengeApproved, metadata, now)
	return c, nil
}

// responded updates c as RespondChallenge just stored it, so the answer
// needs no second read.
func (c *Challenge) responded(status ChallengeStatus, metadata map[string]string, now time.Time) {
	c.Status = status
	c.RespondedReason = ReasonNone
	c.DateResponded = &now
	c.DateUpdated = now
	if metadata != nil {
		c.Metadata = metadata
	}
}

// answerable reports why a challenge can no longer be answered, if it can't.
func answerable(c *Challenge) error {
	switch c.Status {
	case ChallengePending:
		return nil
	case ChallengeExpired:
		return Errorf(EChallengeExpire, "Challenge %s has expired", c.Sid)
	default:
		return Errorf(EChallengeDone, "Challenge %s was already %s", c.Sid, c.Status)
	}
}

// EventChallengeCreated is what Observe is told of a new challenge; it is
// not a webhook event.
const EventChallengeCreated = "challenge.created"

// EventCodeRejected is what Observe is told of a wrong TOTP code (on a
// factor's verification or a challenge) once its attempt is stored, and
// of a push answer or factor proof whose signature does not verify.
const EventCodeRejected = "code.rejected"

// observeCreated tells Observe of a challenge once it is stored.
func (v *Verifier) observeCreated(c *Challenge) { v.observeEvent(EventChallengeCreated, c.FactorType) }

// observeEvent tells Observe of an event outside any transaction.
func (v *Verifier) observeEvent(event string, t FactorType) {
	if v.Observe != nil {
		v.Observe(event, string(t))
	}
}
