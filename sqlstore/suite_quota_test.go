package sqlstore

import (
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// testChallengeQuota walks one factor through its windows: the hour's
// limit, a new hour, the day's limit across hours, a new day. A refused
// take counts nothing, and another factor's quota is its own.
func testChallengeQuota(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	fa := f.newPush(f.entity, t0)
	other := f.newPush(f.entity, t0)
	q := verify.ChallengeQuota{Hour: 3, Day: 5}
	take := func(sid verify.Sid, at time.Time) error { return db.TakeChallengeQuota(ctx, sid, q, at) }

	start := t0.Add(10 * time.Minute)
	for i := range 3 {
		if err := take(fa.Sid, start.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatalf("take %d: %v", i+1, err)
		}
	}
	wantCode(t, take(fa.Sid, start.Add(59*time.Minute)), verify.EChallengeQuota)
	if err := take(other.Sid, start.Add(59*time.Minute)); err != nil {
		t.Fatalf("another factor's quota: %v", err)
	}
	// The hour opened by the first take ends at start+1h exactly.
	wantCode(t, take(fa.Sid, start.Add(time.Hour-time.Second)), verify.EChallengeQuota)
	if err := take(fa.Sid, start.Add(time.Hour)); err != nil {
		t.Fatalf("first take of the second hour: %v", err)
	}
	if err := take(fa.Sid, start.Add(time.Hour+time.Minute)); err != nil {
		t.Fatalf("second take of the second hour: %v", err)
	}
	// Five taken in the day: the day refuses, though the hour would allow.
	wantCode(t, take(fa.Sid, start.Add(2*time.Hour+time.Minute)), verify.EChallengeQuota)
	wantCode(t, take(fa.Sid, start.Add(24*time.Hour-time.Second)), verify.EChallengeQuota)
	if err := take(fa.Sid, start.Add(24*time.Hour)); err != nil {
		t.Fatalf("first take of the second day: %v", err)
	}
	var hourStart, hourCount, dayStart, dayCount int64
	if err := db.wdb.QueryRowContext(ctx, db.d.rebind(`SELECT quota_hour_start, quota_hour_count, quota_day_start, quota_day_count
FROM factors WHERE sid = ?`), string(fa.Sid)).Scan(&hourStart, &hourCount, &dayStart, &dayCount); err != nil {
		t.Fatal(err)
	}
	at := start.Add(24 * time.Hour).Unix()
	if hourStart != at || hourCount != 1 || dayStart != at || dayCount != 1 {
		t.Fatalf("windows after a new day: hour %d×%d, day %d×%d; want both %d×1", hourStart, hourCount, dayStart, dayCount, at)
	}

	// No hourly limit: only the day counts.
	daily := f.newTotp(f.entity, t0)
	for i := range 10 {
		if err := db.TakeChallengeQuota(ctx, daily.Sid, verify.ChallengeQuota{Day: 10}, start.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("daily take %d: %v", i+1, err)
		}
	}
	wantCode(t, db.TakeChallengeQuota(ctx, daily.Sid, verify.ChallengeQuota{Day: 10}, start.Add(time.Hour)), verify.EChallengeQuota)

	wantCode(t, take(newSid(t, verify.PrefixFactor), start), verify.ENotFound)

	// A refused take inside a transaction rolls back what the transaction
	// wrote before it: the challenge is not stored.
	c := *f.newChallenge(fa, start, start.Add(time.Minute))
	c.Sid = newSid(t, verify.PrefixChallenge)
	err := db.Tx(ctx, func(st verify.Store) error {
		if err := st.CreateChallenge(ctx, &c); err != nil {
			return err
		}
		return st.TakeChallengeQuota(ctx, fa.Sid, verify.ChallengeQuota{Hour: 1, Day: 100}, start.Add(24*time.Hour+time.Minute))
	})
	wantCode(t, err, verify.EChallengeQuota)
	if n := countRows(t, db, "challenges", "sid = ?", string(c.Sid)); n != 0 {
		t.Fatalf("challenge of a refused take: %d rows stored", n)
	}
}

// testFactorQuota: an entity's day of factor creations, refused at its
// limit until the day that opened with the first one has ended.
func testFactorQuota(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	start := t0.Add(time.Minute)
	for i := range 3 {
		if err := db.TakeFactorQuota(ctx, f.entity.Sid, 3, start.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatalf("take %d: %v", i+1, err)
		}
	}
	wantCode(t, db.TakeFactorQuota(ctx, f.entity.Sid, 3, start.Add(24*time.Hour-time.Second)), verify.EFactorQuota)
	other := f.newEntity(f.service, "user-0002", t0)
	if err := db.TakeFactorQuota(ctx, other.Sid, 3, start); err != nil {
		t.Fatalf("another entity's quota: %v", err)
	}
	if err := db.TakeFactorQuota(ctx, f.entity.Sid, 3, start.Add(24*time.Hour)); err != nil {
		t.Fatalf("first take of the second day: %v", err)
	}
	wantCode(t, db.TakeFactorQuota(ctx, newSid(t, verify.PrefixEntity), 3, start), verify.ENotFound)
}

// testChallengeQuotaRace takes one factor's quota from many goroutines at
// once: exactly the quota succeeds, as it must across nodes.
func testChallengeQuotaRace(t *testing.T, db *DB) {
	f := setup(t, db)
	fa := f.newPush(f.entity, t0)
	const n = 20
	q := verify.ChallengeQuota{Hour: 7, Day: 100}
	errs := make([]error, n)
	race(n, func(i int) { errs[i] = db.TakeChallengeQuota(f.ctx, fa.Sid, q, t0.Add(time.Minute)) })
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !verify.IsCode(err, verify.EChallengeQuota):
			t.Errorf("take %d: %v", i, err)
		}
	}
	if ok != q.Hour {
		t.Fatalf("%d takes succeeded, want %d", ok, q.Hour)
	}
}
