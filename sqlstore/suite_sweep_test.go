package sqlstore

import (
	"errors"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// testSweep checks each clean-up method: what it changes, what it leaves,
// and how a challenge it marked expired behaves afterwards.
func testSweep(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	now := t0.Add(time.Hour)
	push := f.newPush(f.entity, t0)
	if err := db.VerifyFactor(ctx, push.Sid, t0); err != nil {
		t.Fatal(err)
	}
	due := f.newChallenge(push, t0, now)                                    // expires exactly at now
	live := f.newChallenge(push, t0.Add(time.Second), now.Add(time.Second)) // listed after due    // still pending
	answered := f.newChallenge(push, t0, now.Add(-time.Minute))             // answered before it expired
	if err := db.RespondChallenge(ctx, answered.Sid, verify.ChallengeDenied, verify.ReasonNone, nil, t0); err != nil {
		t.Fatal(err)
	}

	expired, err := db.ExpireChallenges(ctx, now, 100)
	if err != nil || len(expired) != 1 || expired[0].Sid != due.Sid || expired[0].Status != verify.ChallengeExpired {
		t.Fatalf("ExpireChallenges = %+v, %v; want the due one", expired, err)
	}
	got, err := db.FindChallenge(ctx, f.entity.Sid, due.Sid)
	if err != nil {
		t.Fatal(err)
	}
	want := *due
	want.Status = verify.ChallengeExpired // and nothing else: DateUpdated stays
	wantEqual(t, &want, got)
	for _, c := range []*verify.Challenge{live, answered} {
		if got, err := db.FindChallenge(ctx, f.entity.Sid, c.Sid); err != nil || got.Status == verify.ChallengeExpired {
			t.Fatalf("challenge %s: %+v, %v", c.Sid, got, err)
		}
	}
	if expired, err := db.ExpireChallenges(ctx, now, 100); err != nil || len(expired) != 0 {
		t.Fatalf("second ExpireChallenges = %d, %v; want 0", len(expired), err)
	}

	// A stored expired is expired to answers and to the list filters, even
	// read at a time before the expiration date.
	wantCode(t, db.RespondChallenge(ctx, due.Sid, verify.ChallengeApproved, verify.ReasonNone, nil, t0), verify.EChallengeExpire)
	list := func(status verify.ChallengeStatus, at time.Time) []verify.Sid {
		cs, _, err := db.ListChallenges(ctx, f.entity.Sid, verify.ChallengeFilter{Status: status, Now: at}, verify.Page{Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		sids := []verify.Sid{}
		for _, c := range cs {
			sids = append(sids, c.Sid)
		}
		return sids
	}
	wantEqual(t, []verify.Sid{due.Sid}, list(verify.ChallengeExpired, t0))
	wantEqual(t, []verify.Sid{live.Sid}, list(verify.ChallengePending, t0))
	wantEqual(t, []verify.Sid{due.Sid, live.Sid}, list(verify.ChallengeExpired, now.Add(time.Second)))

	// Unverified factors created before the cut-off go; verified ones and
	// younger ones stay.
	old := f.newTotp(f.entity, t0)
	young := f.newTotp(f.entity, now)
	n, err := db.DeleteUnverifiedFactors(ctx, now, 100)
	if err != nil || n != 1 {
		t.Fatalf("DeleteUnverifiedFactors = %d, %v; want 1", n, err)
	}
	_, err = db.FindFactor(ctx, f.entity.Sid, old.Sid)
	wantCode(t, err, verify.ENotFound)
	for _, fa := range []*verify.Factor{push, young} {
		if _, err := db.FindFactor(ctx, f.entity.Sid, fa.Sid); err != nil {
			t.Fatalf("factor %s: %v", fa.Sid, err)
		}
	}

	// Access tokens created before the cut-off go, used or not.
	tok := func(created time.Time) *verify.AccessToken {
		a := &verify.AccessToken{Sid: newSid(t, verify.PrefixAccessToken), AccountSid: f.account.Sid,
			ServiceSid: f.service.Sid, Identity: f.entity.Identity, FactorType: verify.FactorPush, TTL: 60, DateCreated: created}
		if err := db.CreateAccessToken(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	unused, used, fresh := tok(t0), tok(t0), tok(now)
	if err := db.UseAccessToken(ctx, used.Sid, t0); err != nil {
		t.Fatal(err)
	}
	n, err = db.PurgeAccessTokens(ctx, now, 100)
	if err != nil || n != 2 {
		t.Fatalf("PurgeAccessTokens = %d, %v; want 2", n, err)
	}
	for _, a := range []*verify.AccessToken{unused, used} {
		_, err := db.FindAccessToken(ctx, f.service.Sid, a.Sid)
		wantCode(t, err, verify.ENotFound)
	}
	if _, err := db.FindAccessToken(ctx, f.service.Sid, fresh.Sid); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
}

// testSweepLimits checks that each method changes at most limit rows, and
// that repeated calls finish the work.
func testSweepLimits(t *testing.T, db *DB) {
	f := setup(t, db)
	now := t0.Add(time.Hour)
	push := f.newPush(f.entity, t0)
	for i := range 5 {
		f.newChallenge(push, t0, now)
		if i > 0 { // with the push factor: 5 unverified factors
			f.newTotp(f.entity, t0)
		}
	}
	for _, step := range []struct {
		name string
		fn   func(limit int) (int, error)
	}{
		{"ExpireChallenges", func(l int) (int, error) { cs, err := db.ExpireChallenges(f.ctx, now, l); return len(cs), err }},
		{"DeleteUnverifiedFactors", func(l int) (int, error) { return db.DeleteUnverifiedFactors(f.ctx, now, l) }},
	} {
		var got []int
		for range 4 {
			n, err := step.fn(2)
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			got = append(got, n)
		}
		wantEqual(t, []int{2, 2, 1, 0}, got)
	}
	// The push factor was unverified too, and went with the TOTP ones.
	if n := countRows(t, db, "factors", "entity_sid = ?", string(f.entity.Sid)); n != 0 {
		t.Fatalf("%d factors left", n)
	}
}

// testTryLock checks that TryLock runs fn in one transaction and, on
// PostgreSQL, that a second holder of the same name is turned away at once
// while another name is free.
func testTryLock(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	boom := errors.New("boom")
	ran, err := db.TryLock(ctx, "job", func(st verify.Store) error {
		if err := st.DeleteEntity(ctx, f.service.Sid, f.entity.Identity); err != nil {
			return err
		}
		return boom
	})
	if !ran || !errors.Is(err, boom) {
		t.Fatalf("TryLock = %v, %v; want true, fn's error", ran, err)
	}
	if _, err := db.FindEntity(ctx, f.service.Sid, f.entity.Identity); err != nil {
		t.Fatalf("a failed fn's delete was kept: %v", err)
	}

	if db.d != postgres {
		return // SQLite: one process, nothing to turn away
	}
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := db.TryLock(ctx, "job", func(verify.Store) error {
			close(held)
			<-release
			return nil
		})
		done <- err
	}()
	<-held
	ran, err = db.TryLock(ctx, "job", func(verify.Store) error { return nil })
	if ran || err != nil {
		t.Errorf("TryLock while held = %v, %v; want false, nil", ran, err)
	}
	ran, err = db.TryLock(ctx, "other job", func(verify.Store) error { return nil })
	if !ran || err != nil {
		t.Errorf("TryLock of another name = %v, %v; want true, nil", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ran, err = db.TryLock(ctx, "job", func(verify.Store) error { return nil })
	if !ran || err != nil {
		t.Fatalf("TryLock after release = %v, %v; want true, nil", ran, err)
	}
}
