package sqlstore

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// testTotpBatch: on PostgreSQL the checks that arrive together share one
// statement, and each gets what it would have got alone: approved, pending
// with a failed attempt, or nothing written (quota spent, another entity's
// factor, a service with a webhook); a parallel burst approves each
// (factor, step) once; a job that breaks its batch's statement fails alone.
// SQLite has no batcher: its committer groups writes already.
func testTotpBatch(t *testing.T, db *DB) {
	if !db.d.roundTrips() {
		if db.totp != nil {
			t.Fatal("SQLite has a TOTP batcher")
		}
		return
	}
	f := setup(t, db)
	now := t0.Add(time.Minute)
	q := verify.ChallengeQuota{Hour: 25, Day: 100}
	job := func(fa *verify.Factor, matched bool, start, end int64) *totpJob {
		return &totpJob{c: f.totpChallenge(fa, now), q: q, matched: matched, start: start, end: end, now: now,
			details: "{}", res: make(chan totpResult, 1)}
	}

	t.Run("mixed", func(t *testing.T) {
		fresh, wrong, used, spent := f.newTotp(f.entity, t0), f.newTotp(f.entity, t0), f.newTotp(f.entity, t0), f.newTotp(f.entity, t0)
		if ok, err := db.UseTotpStep(f.ctx, used.Sid, 90, 120); !ok || err != nil {
			t.Fatalf("use a step: %v, %v", ok, err)
		}
		tight := verify.ChallengeQuota{Hour: 1, Day: 100}
		if err := db.TakeChallengeQuota(f.ctx, spent.Sid, tight, now); err != nil {
			t.Fatal(err)
		}
		stranger := f.newTotp(f.newEntity(f.service, "user-0002", t0), t0)
		hooked := f.newService(t0)
		wh := &verify.Webhook{Sid: newSid(t, verify.PrefixWebhook), AccountSid: f.account.Sid, ServiceSid: hooked.Sid,
			FriendlyName: "hook", EventTypes: []string{"*"}, URL: "https://example.com/h", Status: verify.WebhookEnabled, Version: "v2",
			DateCreated: t0, DateUpdated: t0}
		if err := db.CreateWebhook(f.ctx, wh); err != nil {
			t.Fatal(err)
		}
		onHooked := f.newTotp(f.newEntity(hooked, "user-0003", t0), t0)

		jobs := []*totpJob{job(fresh, true, 60, 90), job(wrong, false, 0, 0), job(used, true, 60, 90),
			job(spent, true, 60, 90), job(stranger, true, 60, 90), job(onHooked, true, 60, 90)}
		jobs[1].c.Metadata = map[string]string{"k": "v"}
		jobs[1].metadata = `{"k":"v"}`
		jobs[3].q = tight
		jobs[4].c.EntitySid = f.entity.Sid
		statuses, err := db.createTotpChallenges(f.ctx, jobs)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"approved", "pending", "pending", "", "", ""}
		for k, j := range jobs {
			if got := statuses[j.c.Sid]; got != want[k] {
				t.Errorf("job %d: status %q, want %q", k, got, want[k])
			}
		}
		if len(statuses) != 3 {
			t.Errorf("%d challenges written, want 3", len(statuses))
		}
		for k, j := range jobs[:3] {
			c, err := db.FindChallenge(f.ctx, j.c.EntitySid, j.c.Sid)
			if err != nil {
				t.Fatalf("job %d: %v", k, err)
			}
			approved := k == 0
			if attempts := map[bool]int{true: 0, false: 1}[approved]; c.FailedAttempts != attempts || (c.DateResponded != nil) != approved {
				t.Errorf("job %d: %d failed attempts, responded %v", k, c.FailedAttempts, c.DateResponded)
			}
			if k == 1 && c.Metadata["k"] != "v" {
				t.Errorf("job 1: metadata %v", c.Metadata)
			}
		}
		for _, j := range jobs[3:] {
			if _, err := db.FindChallenge(f.ctx, j.c.EntitySid, j.c.Sid); !verify.IsCode(err, verify.ENotFound) {
				t.Errorf("a refused check's challenge was stored: %v", err)
			}
		}
		// The approval moved the step's end; nothing else moved one.
		for _, s := range []struct {
			fa         *verify.Factor
			start, end int64
			ok         bool
		}{{fresh, 60, 90, false}, {fresh, 90, 120, true}, {wrong, 60, 90, true}, {used, 90, 120, false},
			{stranger, 60, 90, true}, {onHooked, 60, 90, true}} {
			if ok, err := db.UseTotpStep(f.ctx, s.fa.Sid, s.start, s.end); ok != s.ok || err != nil {
				t.Errorf("%s: step %d-%d usable %v (%v), want %v", s.fa.Sid, s.start, s.end, ok, err, s.ok)
			}
		}
		// The spent quota was not taken again: the hour's one challenge is
		// still all there is.
		if err := db.TakeChallengeQuota(f.ctx, spent.Sid, tight, now); !verify.IsCode(err, verify.EChallengeQuota) {
			t.Errorf("quota after a refused batch row: %v", err)
		}
	})

	t.Run("burst", func(t *testing.T) {
		const factors, each = 30, 4
		fs := make([]*verify.Factor, factors)
		for i := range fs {
			fs[i] = f.newTotp(f.entity, t0)
		}
		before := db.totp.shared.Load()
		var approved [factors]atomic.Int32
		var pending atomic.Int32
		race(factors*each, func(i int) {
			fa := fs[i%factors]
			done, ok, err := db.CreateTotpChallenge(f.ctx, f.totpChallenge(fa, now), q, true, 60, 90, now)
			switch {
			case err != nil || !done:
				t.Errorf("done %v, %v", done, err)
			case ok:
				approved[i%factors].Add(1)
			default:
				pending.Add(1)
			}
		})
		for i := range approved {
			if n := approved[i].Load(); n != 1 {
				t.Errorf("factor %d: step approved %d times", i, n)
			}
		}
		if pending.Load() != factors*(each-1) {
			t.Errorf("%d pending, want %d", pending.Load(), factors*(each-1))
		}
		if db.totp.shared.Load() == before {
			t.Error("120 parallel checks never shared a statement")
		}
	})

	t.Run("one bad job fails alone", func(t *testing.T) {
		good, bad := f.newTotp(f.entity, t0), f.newTotp(f.entity, t0)
		jobs := []*totpJob{job(good, true, 60, 90), job(bad, true, 60, 90)}
		jobs[1].details = "\x00" // PostgreSQL's text takes no NUL
		db.totp.run(jobs)
		if r := <-jobs[0].res; !r.done || !r.approved || r.err != nil {
			t.Errorf("the good job: %+v", r)
		}
		if r := <-jobs[1].res; r.err == nil || r.done {
			t.Errorf("the bad job: %+v", r)
		}
		if ok, err := db.UseTotpStep(f.ctx, bad.Sid, 60, 90); !ok || err != nil {
			t.Errorf("the bad job used its step: %v, %v", ok, err)
		}
	})
}

// TestTotpRounds: a factor's second check goes into the next round, behind
// its first, and the others keep their order.
func TestTotpRounds(t *testing.T) {
	j := func(factor string) *totpJob { return &totpJob{c: &verify.Challenge{FactorSid: verify.Sid(factor)}} }
	a1, b1, a2, c1, a3, b2 := j("a"), j("b"), j("a"), j("c"), j("a"), j("b")
	got := totpRounds([]*totpJob{a1, b1, a2, c1, a3, b2})
	want := [][]*totpJob{{a1, b1, c1}, {a2, b2}, {a3}}
	if len(got) != len(want) {
		t.Fatalf("%d rounds, want %d", len(got), len(want))
	}
	for r := range want {
		if len(got[r]) != len(want[r]) {
			t.Fatalf("round %d has %d jobs, want %d", r, len(got[r]), len(want[r]))
		}
		for k := range want[r] {
			if got[r][k] != want[r][k] {
				t.Errorf("round %d, job %d: factor %s", r, k, got[r][k].c.FactorSid)
			}
		}
	}
}
