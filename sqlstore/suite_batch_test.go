package sqlstore

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// testTotpBatch: on PostgreSQL the checks that arrive together share one
// statement, and each gets what it would have got alone: approved, pending
// with a failed attempt, or nothing written (quota spent, another entity's
// factor, a service with a webhook); a parallel burst approves each
// (factor, step) once; a job that breaks its batch's statement fails alone.
// SQLite has no batcher: its committer groups writes already.
func testTotpBatch(t *testing.T, db *DB) {
	if !batches(t, db) {
		return
	}
	f := setup(t, db)
	now := t0.Add(time.Minute)
	q := verify.ChallengeQuota{Hour: 25, Day: 100}
	job := func(fa *verify.Factor, matched bool, start, end int64) *totpJob {
		return &totpJob{c: f.totpChallenge(fa, now), q: q, matched: matched, start: start, end: end, now: now,
			details: "{}"}
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
		f.newWebhook(hooked, "*")
		onHooked := f.newTotp(f.newEntity(hooked, "user-0003", t0), t0)

		jobs := []*totpJob{job(fresh, true, 60, 90), job(wrong, false, 0, 0), job(used, true, 60, 90),
			job(spent, true, 60, 90), job(stranger, true, 60, 90), job(onHooked, true, 60, 90)}
		jobs[1].c.Metadata = map[string]string{"k": "v"}
		jobs[1].metadata = `{"k":"v"}`
		jobs[3].q = tight
		jobs[4].c.EntitySid = f.entity.Sid
		got, err := db.createTotpChallenges(f.ctx, jobs)
		if err != nil {
			t.Fatal(err)
		}
		want := []totpResult{{true, true, nil}, {true, false, nil}, {true, false, nil}, {}, {}, {}}
		for k := range jobs {
			if got[k] != want[k] {
				t.Errorf("job %d: %+v, want %+v", k, got[k], want[k])
			}
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

	t.Run("quota under a burst", func(t *testing.T) {
		// Two factors at a quota of 5 an hour, 20 parallel checks each,
		// mixed into the same batches: exactly 5 of each are written.
		tight := verify.ChallengeQuota{Hour: 5, Day: 100}
		fs := []*verify.Factor{f.newTotp(f.entity, t0), f.newTotp(f.entity, t0)}
		var done [2]atomic.Int32
		race(40, func(i int) {
			ok, _, err := db.CreateTotpChallenge(f.ctx, f.totpChallenge(fs[i%2], now), tight, false, 0, 0, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				done[i%2].Add(1)
			}
		})
		for k := range done {
			if n := done[k].Load(); n != 5 {
				t.Errorf("factor %d: %d checks written past a quota of 5", k, n)
			}
		}
	})

	t.Run("one bad job fails alone", func(t *testing.T) {
		good, bad := f.newTotp(f.entity, t0), f.newTotp(f.entity, t0)
		jobs := []*batchJob[*totpJob, totpResult]{{job(good, true, 60, 90), make(chan totpResult, 1)},
			{job(bad, true, 60, 90), make(chan totpResult, 1)}}
		jobs[1].in.details = "\x00" // PostgreSQL's text takes no NUL
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

// batches reports whether db batches its hot statements, which PostgreSQL
// does and SQLite, whose committer groups writes already, must not.
func batches(t *testing.T, db *DB) bool {
	t.Helper()
	on := []bool{db.totp != nil, db.answers != nil, db.factorReads != nil, db.challengeReads != nil,
		db.entityReads != nil, db.credentialReads != nil, db.bdb != nil}
	for k, b := range on {
		if b != db.d.roundTrips() {
			t.Fatalf("%s: batcher %d set: %v", db.d, k, b)
		}
	}
	return db.d.roundTrips()
}

// testRespondBatch: on PostgreSQL lone push answers that arrive together
// share one statement, and each gets what it would have got alone: a
// pending challenge is answered with the answer's status, reason, time and
// metadata (or keeps its own), an answered or expired one, or one of a
// service with a webhook, is left alone; in a parallel burst each challenge
// takes exactly one answer.
func testRespondBatch(t *testing.T, db *DB) {
	if !batches(t, db) {
		return
	}
	f := setup(t, db)
	fa := f.newPush(f.entity, t0)
	now := t0.Add(time.Minute)
	job := func(c *verify.Challenge, status verify.ChallengeStatus, metadata map[string]string) *respondJob {
		return &respondJob{c.Sid, status, verify.ReasonNone, metadata, now}
	}

	t.Run("mixed", func(t *testing.T) {
		approve, deny, answered, expired := f.newChallenge(fa, t0, t0.Add(5*time.Minute)), f.newChallenge(fa, t0, t0.Add(5*time.Minute)),
			f.newChallenge(fa, t0, t0.Add(5*time.Minute)), f.newChallenge(fa, t0, t0.Add(30*time.Second))
		if err := db.RespondChallenge(f.ctx, answered.Sid, verify.ChallengeDenied, verify.ReasonNone, nil, now); err != nil {
			t.Fatal(err)
		}
		hooked := f.newService(t0)
		f.newWebhook(hooked, "factor.created")
		onHooked := f.newChallenge(f.newPush(f.newEntity(hooked, "user-0003", t0), t0), t0, t0.Add(5*time.Minute))
		jobs := []*respondJob{job(approve, verify.ChallengeApproved, map[string]string{"n": "1"}), job(deny, verify.ChallengeDenied, nil),
			job(answered, verify.ChallengeApproved, nil), job(expired, verify.ChallengeApproved, nil), job(onHooked, verify.ChallengeApproved, nil)}
		got, err := db.respondMany(f.ctx, jobs)
		if err != nil {
			t.Fatal(err)
		}
		want := []respondResult{{true, nil}, {true, nil}, {}, {}, {}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("answers %+v, want %+v", got, want)
		}
		for _, w := range []struct {
			c        *verify.Challenge
			status   verify.ChallengeStatus
			metadata map[string]string
		}{{approve, verify.ChallengeApproved, map[string]string{"n": "1"}}, {deny, verify.ChallengeDenied, nil},
			{answered, verify.ChallengeDenied, nil}, {expired, verify.ChallengePending, nil}, {onHooked, verify.ChallengePending, nil}} {
			c, err := db.FindChallenge(f.ctx, w.c.EntitySid, w.c.Sid)
			if err != nil {
				t.Fatal(err)
			}
			responded := w.status != verify.ChallengePending
			if c.Status != w.status || (c.DateResponded != nil) != responded || (responded && !c.DateResponded.Equal(now)) ||
				!reflect.DeepEqual(c.Metadata, w.metadata) || c.HiddenDetails["ip"] != "10.0.0.1" {
				t.Errorf("%s stored %s, responded %v, metadata %v; want %s", w.c.Sid, c.Status, c.DateResponded, c.Metadata, w.status)
			}
		}
	})

	t.Run("burst", func(t *testing.T) {
		const challenges, each = 20, 5
		cs := make([]*verify.Challenge, challenges)
		for i := range cs {
			cs[i] = f.newChallenge(fa, t0, t0.Add(5*time.Minute))
		}
		before := db.answers.shared.Load()
		var took [challenges]atomic.Int32
		race(challenges*each, func(i int) {
			ok, err := db.RespondChallengeAlone(f.ctx, cs[i%challenges].Sid, verify.ChallengeApproved, verify.ReasonNone, nil, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				took[i%challenges].Add(1)
			}
		})
		for i := range took {
			if n := took[i].Load(); n != 1 {
				t.Errorf("challenge %d took %d answers", i, n)
			}
		}
		if db.answers.shared.Load() == before {
			t.Error("100 parallel answers never shared a statement")
		}
	})
}

// testReadBatch: on PostgreSQL point reads that arrive together (factors
// and challenges by SID and entity, entities by service and identity, push
// factors by device credential) share one statement, and each gets what
// the lone read gives: the same row, or the same not-found for a row that
// is missing or, for an owned row, another entity's; a burst of parallel
// reads shares statements.
func testReadBatch(t *testing.T, db *DB) {
	if !batches(t, db) {
		return
	}
	f := setup(t, db)
	totp, push := f.newTotp(f.entity, t0), f.newPush(f.entity, t0)
	other := f.newEntity(f.service, "user-0002", t0)
	stranger, device := f.newTotp(other, t0), f.newPush(other, t0)
	c := f.newChallenge(push, t0, t0.Add(5*time.Minute))
	gone := verify.Sid(newSid(t, verify.PrefixFactor))

	factors := samePoints(t, db, "factor", factorRows(&db.store),
		[]ownedRead{{f.entity.Sid, totp.Sid}, {f.entity.Sid, push.Sid}, {f.entity.Sid, stranger.Sid}, {f.entity.Sid, gone}, {other.Sid, push.Sid}})
	if got := factors; got[0].v == nil || got[0].v.Totp == nil || len(got[0].v.Totp.Secret) == 0 || got[2].err == nil || !verify.IsCode(got[3].err, verify.ENotFound) || got[4].err == nil {
		t.Errorf("factor reads: %+v", got)
	}
	// A key read twice in one statement: each read gets a row of its own.
	twice := samePoints(t, db, "factor", factorRows(&db.store), []ownedRead{{f.entity.Sid, totp.Sid}, {f.entity.Sid, totp.Sid}})
	if twice[0].v == nil || twice[1].v == nil || twice[0].v == twice[1].v || twice[0].v.Totp == twice[1].v.Totp {
		t.Errorf("a factor read twice in one statement: %+v", twice)
	}
	for _, r := range []ownedRead{{f.entity.Sid, c.Sid}, {other.Sid, c.Sid}} {
		samePoints(t, db, "challenge", challengeRows(&db.store), []ownedRead{r})
	}
	otherService := f.newService(t0)
	entities := samePoints(t, db, "entity", entityRows(&db.store),
		[]entityKey{{f.service.Sid, f.entity.Identity}, {f.service.Sid, other.Identity}, {otherService.Sid, f.entity.Identity}, {f.service.Sid, "user-none"}})
	if got := entities; got[0].v == nil || got[0].v.Sid != f.entity.Sid || got[1].v == nil || got[1].v.Sid != other.Sid || !verify.IsCode(got[2].err, verify.ENotFound) || !verify.IsCode(got[3].err, verify.ENotFound) {
		t.Errorf("entity reads: %+v", got)
	}
	devices := samePoints(t, db, "credential", credentialRows(&db.store),
		[]verify.Sid{push.Push.CredentialSid, device.Push.CredentialSid, verify.Sid(newSid(t, verify.PrefixCredential))})
	if got := devices; got[0].v == nil || got[0].v.Sid != push.Sid || got[1].v == nil || got[1].v.Sid != device.Sid || !verify.IsCode(got[2].err, verify.ENotFound) {
		t.Errorf("credential reads: %+v", got)
	}

	before := []int64{db.factorReads.shared.Load(), db.entityReads.shared.Load(), db.credentialReads.shared.Load()}
	race(60, func(i int) {
		fa, err := db.FindFactor(f.ctx, f.entity.Sid, []verify.Sid{totp.Sid, push.Sid}[i%2])
		if err != nil || fa.EntitySid != f.entity.Sid {
			t.Errorf("read %d: %v, %v", i, fa, err)
		}
		if _, err := db.FindChallenge(f.ctx, f.entity.Sid, c.Sid); err != nil {
			t.Errorf("challenge read %d: %v", i, err)
		}
		e, err := db.FindEntity(f.ctx, f.service.Sid, []string{f.entity.Identity, other.Identity}[i%2])
		if err != nil || e.Sid != []verify.Sid{f.entity.Sid, other.Sid}[i%2] {
			t.Errorf("entity read %d: %v, %v", i, e, err)
		}
		d, err := db.FindFactorByCredential(f.ctx, []verify.Sid{push.Push.CredentialSid, device.Push.CredentialSid}[i%2])
		if err != nil || d.Sid != []verify.Sid{push.Sid, device.Sid}[i%2] {
			t.Errorf("credential read %d: %v, %v", i, d, err)
		}
	})
	for k, b := range []*atomic.Int64{&db.factorReads.shared, &db.entityReads.shared, &db.credentialReads.shared} {
		if b.Load() == before[k] {
			t.Errorf("reads of kind %d: 60 in parallel never shared a statement", k)
		}
	}
}

// samePoints reads keys in one batch statement and checks that each gets
// what its lone read gives: the same row, or the same error.
func samePoints[K comparable, T any](t *testing.T, db *DB, what string, rows pointRows[K, T], keys []K) []readResult[T] {
	t.Helper()
	ctx := context.Background()
	got, err := readPoints(ctx, &db.store, rows, keys)
	if err != nil {
		t.Fatal(err)
	}
	for k, key := range keys {
		want, wantErr := rows.one(ctx, key)
		if !reflect.DeepEqual(got[k].v, want) || fmt.Sprint(got[k].err) != fmt.Sprint(wantErr) {
			t.Errorf("%s read %d: %+v, %v; alone %+v, %v", what, k, got[k].v, got[k].err, want, wantErr)
		}
	}
	return got
}

// TestRounds: a row's second write goes into the next round, behind its
// first, and the others keep their order.
func TestRounds(t *testing.T) {
	a1, b1, a2, c1, a3, b2 := "a1", "b1", "a2", "c1", "a3", "b2"
	got := rounds([]string{a1, b1, a2, c1, a3, b2}, func(j string) verify.Sid { return verify.Sid(j[:1]) })
	want := [][]string{{a1, b1, c1}, {a2, b2}, {a3}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rounds %v, want %v", got, want)
	}
}

// TestBatchAcrossNodes: three nodes on one PostgreSQL database, each with
// its own batchers, check the same TOTP steps and answer the same push
// challenges at once: each (factor, step) is approved once and each
// challenge takes one answer, whichever node's batch wins. It runs where
// VERIFYD_TEST_POSTGRES is set (CI); SQLite has one node.
func TestBatchAcrossNodes(t *testing.T) {
	for _, b := range verifytest.Backends() {
		if b != verifytest.Postgres {
			continue
		}
		dsn := verifytest.DSN(t, b)
		nodes := []*DB{mustOpenFile(t, dsn, testKey), mustOpenFile(t, dsn, testKey), mustOpenFile(t, dsn, testKey)}
		f := setup(t, nodes[0])
		now := t0.Add(time.Minute)
		q := verify.ChallengeQuota{Hour: 25, Day: 100}
		const factors, each = 20, 2
		totps, cs := make([]*verify.Factor, factors), make([]*verify.Challenge, factors)
		for i := range factors {
			totps[i] = f.newTotp(f.entity, t0)
			cs[i] = f.newChallenge(f.newPush(f.entity, t0), t0, t0.Add(5*time.Minute))
		}
		var approved, answered [factors]atomic.Int32
		race(len(nodes)*factors*each, func(i int) {
			node, k := nodes[i%len(nodes)], i%factors
			done, ok, err := node.CreateTotpChallenge(f.ctx, f.totpChallenge(totps[k], now), q, true, 60, 90, now)
			if err != nil || !done {
				t.Errorf("check %d: %v, %v", i, done, err)
			}
			if ok {
				approved[k].Add(1)
			}
			took, err := node.RespondChallengeAlone(f.ctx, cs[k].Sid, verify.ChallengeApproved, verify.ReasonNone, nil, now)
			if err != nil {
				t.Errorf("answer %d: %v", i, err)
			}
			if took {
				answered[k].Add(1)
			}
		})
		for k := range factors {
			if a, n := approved[k].Load(), answered[k].Load(); a != 1 || n != 1 {
				t.Errorf("factor %d: step approved %d times; challenge answered %d times", k, a, n)
			}
		}
	}
}

// TestBatchPoolPlanner: the batched statements run on sessions whose
// planner looks rows up by key even in a table too small to have earned
// an index scan yet (a new database), so that the plan PostgreSQL caches
// then is still right when the table is large; the main pool keeps the
// server's settings. It runs where VERIFYD_TEST_POSTGRES is set (CI).
func TestBatchPoolPlanner(t *testing.T) {
	for _, b := range verifytest.Backends() {
		if b != verifytest.Postgres {
			continue
		}
		db := mustOpenFile(t, verifytest.DSN(t, b), testKey)
		ctx := context.Background()
		var batch, main string
		if err := db.bdb.QueryRowContext(ctx, `SHOW enable_seqscan`).Scan(&batch); err != nil {
			t.Fatal(err)
		}
		if err := db.rdb.QueryRowContext(ctx, `SHOW enable_seqscan`).Scan(&main); err != nil {
			t.Fatal(err)
		}
		if batch != "off" || main != "on" {
			t.Errorf("enable_seqscan: %s on the batch pool, %s on the main pool", batch, main)
		}
		keys := []string{"a", "b", "c"}
		for _, r := range []struct {
			query, index string
			args         []any
		}{
			{factorRows(&db.store).query, "factors_pkey", []any{keys}},
			{challengeRows(&db.store).query, "challenges_pkey", []any{keys}},
			{entityRows(&db.store).query, "entities_service_sid_identity_key", []any{keys, keys}},
			{credentialRows(&db.store).query, "factors_push_credential_sid_key", []any{keys}},
		} {
			q := r.query
			rows, err := db.bdb.QueryContext(ctx, `EXPLAIN `+q, r.args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			rows.Close()
			if p := strings.Join(plan, "\n"); strings.Contains(p, "Seq Scan") || !strings.Contains(p, r.index) {
				t.Errorf("%s\nplans as\n%s", q, p)
			}
		}
	}
}
