package sqlstore

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// testCreateTotpChallenge: on PostgreSQL one statement takes the quota,
// uses a step once and stores the challenge, approved or pending with one
// failed attempt, exactly once among parallel requests; it writes nothing
// and hands over to the general path when the quota is spent, the factor
// is another entity's or the service has a webhook. On SQLite it always
// hands over.
func testCreateTotpChallenge(t *testing.T, db *DB) {
	f := setup(t, db)
	fa := f.newTotp(f.entity, t0)
	q := verify.ChallengeQuota{Hour: 25, Day: 100}
	now := t0.Add(time.Minute)
	challenge := func(fa *verify.Factor) *verify.Challenge { return f.totpChallenge(fa, now) }
	if !db.d.roundTrips() {
		done, _, err := db.CreateTotpChallenge(f.ctx, challenge(fa), q, true, 60, 90, now)
		if done || err != nil {
			t.Fatalf("SQLite took the one-statement path: %v, %v", done, err)
		}
		return
	}
	// 20 parallel right codes of one step: one approval, 19 pending.
	var approved, pending atomic.Int32
	race(20, func(int) {
		c := challenge(fa)
		done, ok, err := db.CreateTotpChallenge(f.ctx, c, q, true, 60, 90, now)
		switch {
		case err != nil || !done:
			t.Errorf("done %v, %v", done, err)
		case ok:
			approved.Add(1)
		default:
			pending.Add(1)
		}
		got, err := db.FindChallenge(f.ctx, fa.EntitySid, c.Sid)
		if err != nil {
			t.Error(err)
			return
		}
		want, attempts := verify.ChallengePending, 1
		if ok {
			want, attempts = verify.ChallengeApproved, 0
		}
		if got.Status != want || got.FailedAttempts != attempts || (got.DateResponded != nil) != ok {
			t.Errorf("stored %s with %d failed attempts, responded %v; want %s", got.Status, got.FailedAttempts, got.DateResponded, want)
		}
	})
	if approved.Load() != 1 || pending.Load() != 19 {
		t.Fatalf("%d approved, %d pending of 20 codes of one step", approved.Load(), pending.Load())
	}
	// An earlier step is refused, a later one taken.
	if done, ok, err := db.CreateTotpChallenge(f.ctx, challenge(fa), q, true, 30, 60, now); !done || ok || err != nil {
		t.Fatalf("earlier step: %v %v %v", done, ok, err)
	}
	if done, ok, err := db.CreateTotpChallenge(f.ctx, challenge(fa), q, true, 90, 120, now); !done || !ok || err != nil {
		t.Fatalf("later step: %v %v %v", done, ok, err)
	}
	// The hour's quota is 25 and 22 are taken: 3 more, then a handover
	// that wrote nothing.
	for i := range 3 {
		if done, _, err := db.CreateTotpChallenge(f.ctx, challenge(fa), q, false, 0, 0, now); !done || err != nil {
			t.Fatalf("challenge %d of the quota: %v, %v", 23+i, done, err)
		}
	}
	over := challenge(fa)
	if done, _, err := db.CreateTotpChallenge(f.ctx, over, q, true, 120, 150, now); done || err != nil {
		t.Fatalf("over the quota: %v, %v", done, err)
	}
	if _, err := db.FindChallenge(f.ctx, fa.EntitySid, over.Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("a challenge over the quota was stored: %v", err)
	}
	if ok, err := db.UseTotpStep(f.ctx, fa.Sid, 120, 150); !ok || err != nil {
		t.Fatalf("the step of a refused challenge was used: %v, %v", ok, err)
	}
	// Another entity's factor: nothing.
	other := f.newTotp(f.newEntity(f.service, "user-0002", t0), t0)
	c := challenge(other)
	c.EntitySid = f.entity.Sid
	if done, _, err := db.CreateTotpChallenge(f.ctx, c, q, true, 60, 90, now); done || err != nil {
		t.Fatalf("another entity's factor: %v, %v", done, err)
	}
	// A service with a webhook: the general path writes the event.
	f.newWebhook(f.service, "*")
	if done, _, err := db.CreateTotpChallenge(f.ctx, challenge(other), q, true, 60, 90, now); done || err != nil {
		t.Fatalf("a service with a webhook: %v, %v", done, err)
	}
	if ok, err := db.UseTotpStep(f.ctx, other.Sid, 60, 90); !ok || err != nil {
		t.Fatalf("the handover used the step: %v, %v", ok, err)
	}
}

// totpChallenge is a TOTP challenge on fa made at now, before its code is
// checked.
func (f *fixture) totpChallenge(fa *verify.Factor, now time.Time) *verify.Challenge {
	return &verify.Challenge{Sid: newSid(f.t, verify.PrefixChallenge), AccountSid: fa.AccountSid, ServiceSid: fa.ServiceSid,
		EntitySid: fa.EntitySid, Identity: fa.Identity, FactorSid: fa.Sid, FactorType: fa.Type,
		Status: verify.ChallengePending, RespondedReason: verify.ReasonNone,
		ExpirationDate: now.Add(5 * time.Minute), DateCreated: now, DateUpdated: now}
}

// newWebhook gives svc a webhook for events.
func (f *fixture) newWebhook(svc *verify.Service, events ...string) {
	f.t.Helper()
	wh := &verify.Webhook{Sid: newSid(f.t, verify.PrefixWebhook), AccountSid: svc.AccountSid, ServiceSid: svc.Sid,
		FriendlyName: "hook", EventTypes: events, URL: "https://example.com/h", Status: verify.WebhookEnabled, Version: "v2",
		DateCreated: t0, DateUpdated: t0}
	if err := f.db.CreateWebhook(f.ctx, wh); err != nil {
		f.t.Fatal(err)
	}
}

// testRespondChallengeAlone: on PostgreSQL a pending challenge is answered
// in one statement, exactly once among parallel answers; an expired or
// answered challenge, or one of a service with a webhook, is left to the
// general path untouched. On SQLite it always hands over.
func testRespondChallengeAlone(t *testing.T, db *DB) {
	f := setup(t, db)
	fa := f.newPush(f.entity, t0)
	now := t0.Add(time.Minute)
	c := f.newChallenge(fa, t0, t0.Add(5*time.Minute))
	if !db.d.roundTrips() {
		if ok, err := db.RespondChallengeAlone(f.ctx, c.Sid, verify.ChallengeApproved, verify.ReasonNone, nil, now); ok || err != nil {
			t.Fatalf("SQLite took the one-statement path: %v, %v", ok, err)
		}
		return
	}
	var answered atomic.Int32
	race(10, func(i int) {
		status := verify.ChallengeApproved
		if i%2 == 1 {
			status = verify.ChallengeDenied
		}
		ok, err := db.RespondChallengeAlone(f.ctx, c.Sid, status, verify.ReasonNone, map[string]string{"n": "1"}, now)
		if err != nil {
			t.Error(err)
		}
		if ok {
			answered.Add(1)
		}
	})
	if answered.Load() != 1 {
		t.Fatalf("%d of 10 parallel answers took", answered.Load())
	}
	got, err := db.FindChallenge(f.ctx, fa.EntitySid, c.Sid)
	if err != nil || got.Status == verify.ChallengePending || got.DateResponded == nil || got.Metadata["n"] != "1" {
		t.Fatalf("stored %+v, %v", got, err)
	}
	expired := f.newChallenge(fa, t0, t0.Add(30*time.Second))
	if ok, err := db.RespondChallengeAlone(f.ctx, expired.Sid, verify.ChallengeApproved, verify.ReasonNone, nil, now); ok || err != nil {
		t.Fatalf("expired: %v, %v", ok, err)
	}
	hooked := f.newChallenge(fa, t0, t0.Add(5*time.Minute))
	f.newWebhook(f.service, "factor.created")
	if ok, err := db.RespondChallengeAlone(f.ctx, hooked.Sid, verify.ChallengeApproved, verify.ReasonNone, nil, now); ok || err != nil {
		t.Fatalf("a service with a webhook: %v, %v", ok, err)
	}
	if got, err := db.FindChallenge(f.ctx, fa.EntitySid, hooked.Sid); err != nil || got.Status != verify.ChallengePending {
		t.Fatalf("the handover wrote: %+v, %v", got, err)
	}
}
