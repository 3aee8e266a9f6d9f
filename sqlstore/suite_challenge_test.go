package sqlstore

import (
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

func testChallenges(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	fa := f.newPush(f.entity, t0)
	c := f.newChallenge(fa, t0, t0.Add(5*time.Minute))
	got, err := db.FindChallenge(ctx, f.entity.Sid, c.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, c, got)

	// Optional parts stay absent.
	bare := &verify.Challenge{
		Sid: newSid(t, verify.PrefixChallenge), AccountSid: fa.AccountSid, ServiceSid: fa.ServiceSid,
		EntitySid: fa.EntitySid, Identity: fa.Identity, FactorSid: fa.Sid, FactorType: fa.Type,
		Status: verify.ChallengePending, RespondedReason: verify.ReasonNone,
		Details:        verify.ChallengeDetails{Message: "Hi"},
		ExpirationDate: t0.Add(time.Minute), DateCreated: t0, DateUpdated: t0,
	}
	if err := db.CreateChallenge(ctx, bare); err != nil {
		t.Fatal(err)
	}
	got, err = db.FindChallenge(ctx, f.entity.Sid, bare.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, bare, got)

	other := f.newEntity(f.service, "user-other", t0)
	_, err = db.FindChallenge(ctx, other.Sid, c.Sid)
	wantCode(t, err, verify.ENotFound)
	_, err = db.FindChallenge(ctx, f.entity.Sid, newSid(t, "YC"))
	wantCode(t, err, verify.ENotFound)

	// Attempts: five are taken, the sixth is refused and counts nothing.
	at := t0.Add(time.Minute)
	for i := 1; i <= 6; i++ {
		n, err := db.TakeChallengeAttempt(ctx, c.Sid, 5, at)
		if i <= 5 && (err != nil || n != i) {
			t.Fatalf("attempt %d: %d, %v", i, n, err)
		}
		if i == 6 {
			wantCode(t, err, verify.EChallengeTries)
		}
	}
	if got, err := db.FindChallenge(ctx, f.entity.Sid, c.Sid); err != nil || got.FailedAttempts != 5 {
		t.Fatalf("after six attempts: %+v, %v", got, err)
	}
	_, err = db.TakeChallengeAttempt(ctx, newSid(t, "YC"), 5, at)
	wantCode(t, err, verify.ENotFound)
	// Expired at now, or marked so by the sweep: nothing to attempt.
	_, err = db.TakeChallengeAttempt(ctx, bare.Sid, 5, bare.ExpirationDate)
	wantCode(t, err, verify.EChallengeExpire)

	// An approval gives back the attempt its code took, in one statement;
	// an answered challenge takes no more attempts.
	c3 := f.newChallenge(fa, t0, t0.Add(5*time.Minute))
	for i := 1; i <= 3; i++ {
		if _, err := db.TakeChallengeAttempt(ctx, c3.Sid, 5, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.ApproveChallenge(ctx, c3.Sid, map[string]string{"k": "v"}, at); err != nil {
		t.Fatal(err)
	}
	got, err = db.FindChallenge(ctx, f.entity.Sid, c3.Sid)
	if err != nil || got.Status != verify.ChallengeApproved || got.FailedAttempts != 2 ||
		got.DateResponded == nil || !got.DateResponded.Equal(at) || got.Metadata["k"] != "v" {
		t.Fatalf("approved: %+v, %v", got, err)
	}
	_, err = db.TakeChallengeAttempt(ctx, c3.Sid, 5, at)
	wantCode(t, err, verify.EChallengeDone)
	wantCode(t, db.ApproveChallenge(ctx, c3.Sid, nil, at), verify.EChallengeDone)
}

func testChallengeFilters(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	now := t0.Add(time.Hour)
	fa1 := f.newPush(f.entity, t0)
	fa2 := f.newTotp(f.entity, t0)
	pending := f.newChallenge(fa1, t0.Add(1*time.Second), now.Add(time.Minute))
	expired := f.newChallenge(fa1, t0.Add(2*time.Second), now) // expires exactly at now
	approved := f.newChallenge(fa2, t0.Add(3*time.Second), now.Add(time.Minute))
	if err := db.RespondChallenge(ctx, approved.Sid, verify.ChallengeApproved, verify.ReasonNone, nil, t0.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	approved, err := db.FindChallenge(ctx, f.entity.Sid, approved.Sid)
	if err != nil {
		t.Fatal(err)
	}
	pending2 := f.newChallenge(fa2, t0.Add(5*time.Second), now.Add(time.Minute))
	f.newChallenge(f.newTotp(f.newEntity(f.service, "user-other", t0), t0), t0, now.Add(time.Minute))

	tests := []struct {
		name   string
		filter verify.ChallengeFilter
		want   []*verify.Challenge
	}{
		{"all", verify.ChallengeFilter{Now: now}, []*verify.Challenge{pending, expired, approved, pending2}},
		{"factor", verify.ChallengeFilter{FactorSid: fa1.Sid, Now: now}, []*verify.Challenge{pending, expired}},
		{"pending", verify.ChallengeFilter{Status: verify.ChallengePending, Now: now}, []*verify.Challenge{pending, pending2}},
		{"expired", verify.ChallengeFilter{Status: verify.ChallengeExpired, Now: now}, []*verify.Challenge{expired}},
		{"approved", verify.ChallengeFilter{Status: verify.ChallengeApproved, Now: now}, []*verify.Challenge{approved}},
		{"denied", verify.ChallengeFilter{Status: verify.ChallengeDenied, Now: now}, []*verify.Challenge{}},
		{"factor+pending", verify.ChallengeFilter{FactorSid: fa2.Sid, Status: verify.ChallengePending, Now: now},
			[]*verify.Challenge{pending2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := db.ListChallenges(ctx, f.entity.Sid, tt.filter, verify.Page{Size: 10})
			if err != nil || more {
				t.Fatalf("more %v, %v", more, err)
			}
			wantEqual(t, tt.want, got)
		})
	}

	// The stored status comes back: the expired one still reads pending.
	got, _, err := db.ListChallenges(ctx, f.entity.Sid, verify.ChallengeFilter{Status: verify.ChallengeExpired, Now: now}, verify.Page{Size: 10})
	if err != nil || len(got) != 1 || got[0].Status != verify.ChallengePending {
		t.Fatalf("expired list = %v, %v", got, err)
	}

	// Paging with a filter, newest first, two per page.
	pages := walkForward(t, func(p verify.Page) ([]*verify.Challenge, bool, error) {
		return db.ListChallenges(ctx, f.entity.Sid, verify.ChallengeFilter{Now: now}, p)
	}, func(c *verify.Challenge) *verify.Cursor {
		return &verify.Cursor{Time: c.DateCreated, Sid: c.Sid}
	}, verify.Page{Size: 2, Desc: true})
	wantEqual(t, [][]*verify.Challenge{{pending2, approved}, {expired, pending}}, pages)
}

func testRespondChallenge(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	fa := f.newPush(f.entity, t0)
	expires := t0.Add(5 * time.Minute)
	c := f.newChallenge(fa, t0, expires)
	other := f.newChallenge(fa, t0, expires)

	now := t0.Add(time.Minute)
	meta := map[string]string{"os": "Android"}
	if err := db.RespondChallenge(ctx, c.Sid, verify.ChallengeApproved, verify.ReasonNotNeeded, meta, now); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindChallenge(ctx, f.entity.Sid, c.Sid)
	if err != nil {
		t.Fatal(err)
	}
	want := *c
	want.Status, want.RespondedReason, want.Metadata = verify.ChallengeApproved, verify.ReasonNotNeeded, meta
	want.DateUpdated, want.DateResponded = now, &now
	wantEqual(t, &want, got)

	wantCode(t, db.RespondChallenge(ctx, c.Sid, verify.ChallengeDenied, verify.ReasonNone, nil, now), verify.EChallengeDone)
	// Done wins over expired once the challenge was responded to.
	wantCode(t, db.RespondChallenge(ctx, c.Sid, verify.ChallengeDenied, verify.ReasonNone, nil, expires), verify.EChallengeDone)
	wantCode(t, db.RespondChallenge(ctx, newSid(t, "YC"), verify.ChallengeDenied, verify.ReasonNone, nil, now), verify.ENotFound)

	// At the expiration date the challenge is expired, and stays pending.
	wantCode(t, db.RespondChallenge(ctx, other.Sid, verify.ChallengeApproved, verify.ReasonNone, nil, expires), verify.EChallengeExpire)
	got, err = db.FindChallenge(ctx, f.entity.Sid, other.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, other, got)

	// Nil metadata keeps what is stored.
	kept := *other
	kept.Sid, kept.Metadata = newSid(t, verify.PrefixChallenge), map[string]string{"before": "1"}
	if err := db.CreateChallenge(ctx, &kept); err != nil {
		t.Fatal(err)
	}
	if err := db.RespondChallenge(ctx, kept.Sid, verify.ChallengeDenied, verify.ReasonNone, nil, now); err != nil {
		t.Fatal(err)
	}
	got, err = db.FindChallenge(ctx, f.entity.Sid, kept.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, kept.Metadata, got.Metadata)
	if got.Status != verify.ChallengeDenied {
		t.Fatalf("status = %s, want denied", got.Status)
	}
}

func testAccessTokens(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	tok := &verify.AccessToken{
		Sid: newSid(t, verify.PrefixAccessToken), AccountSid: f.account.Sid, ServiceSid: f.service.Sid,
		Identity: f.entity.Identity, FactorType: verify.FactorPush, FactorFriendlyName: "my phone",
		TTL: 120, DateCreated: t0, Token: "derived-not-stored",
	}
	if err := db.CreateAccessToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindAccessToken(ctx, f.service.Sid, tok.Sid)
	if err != nil {
		t.Fatal(err)
	}
	want := *tok
	want.Token = ""
	wantEqual(t, &want, got)
	_, err = db.FindAccessToken(ctx, newSid(t, "VA"), tok.Sid)
	wantCode(t, err, verify.ENotFound)

	now := t0.Add(30 * time.Second)
	if err := db.UseAccessToken(ctx, tok.Sid, now); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.UseAccessToken(ctx, tok.Sid, now), verify.ENotAuthorized)
	wantCode(t, db.UseAccessToken(ctx, newSid(t, "YK"), now), verify.ENotFound)
	got, err = db.FindAccessToken(ctx, f.service.Sid, tok.Sid)
	if err != nil {
		t.Fatal(err)
	}
	want.DateUsed = &now
	wantEqual(t, &want, got)
}

func testNotifications(t *testing.T, db *DB) {
	f := setup(t, db)
	fa := f.newPush(f.entity, t0)
	c1 := f.newChallenge(fa, t0, t0.Add(time.Minute))
	c2 := f.newChallenge(fa, t0, t0.Add(time.Minute))
	notify := func(c *verify.Challenge) error {
		return db.CreateNotification(f.ctx, &verify.Notification{
			Sid: newSid(t, verify.PrefixNotification), AccountSid: c.AccountSid, ServiceSid: c.ServiceSid,
			EntitySid: c.EntitySid, Identity: c.Identity, ChallengeSid: c.Sid,
			Priority: "high", TTL: 300, DateCreated: t0,
		}, 3)
	}
	for i := range 3 {
		if err := notify(c1); err != nil {
			t.Fatalf("notification %d: %v", i+1, err)
		}
	}
	wantCode(t, notify(c1), verify.ENotifyMax)
	if err := notify(c2); err != nil {
		t.Fatalf("other challenge: %v", err)
	}
	if n := countRows(t, db, "notifications", "challenge_sid = ?", string(c1.Sid)); n != 3 {
		t.Fatalf("%d notifications stored, want 3", n)
	}
}

// testConcurrency races compare-and-swaps: of 20 responses to one challenge
// exactly one wins, and of 20 attempts against a limit of 5 exactly 5 are
// taken.
func testConcurrency(t *testing.T, db *DB) {
	f := setup(t, db)
	fa := f.newPush(f.entity, t0)
	c := f.newChallenge(fa, t0, t0.Add(time.Hour))
	c2 := f.newChallenge(fa, t0, t0.Add(time.Hour))
	const n = 20
	var wg sync.WaitGroup
	respondErrs := make([]error, n)
	failErrs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			respondErrs[i] = db.RespondChallenge(f.ctx, c.Sid, verify.ChallengeApproved, verify.ReasonNone, nil, t0.Add(time.Minute))
		})
		wg.Go(func() {
			_, failErrs[i] = db.TakeChallengeAttempt(f.ctx, c2.Sid, 5, t0.Add(time.Minute))
		})
	}
	wg.Wait()
	wins, adds := 0, 0
	for i := range n {
		switch {
		case respondErrs[i] == nil:
			wins++
		case verify.ErrorCode(respondErrs[i]) != verify.EChallengeDone:
			t.Errorf("respond %d: %v", i, respondErrs[i])
		}
		switch {
		case failErrs[i] == nil:
			adds++
		case verify.ErrorCode(failErrs[i]) != verify.EChallengeTries:
			t.Errorf("attempt %d: %v", i, failErrs[i])
		}
	}
	if wins != 1 || adds != 5 {
		t.Fatalf("%d responses won (want 1), %d attempts taken (want 5)", wins, adds)
	}
	got, err := db.FindChallenge(f.ctx, f.entity.Sid, c2.Sid)
	if err != nil || got.FailedAttempts != 5 {
		t.Fatalf("FailedAttempts = %+v, %v", got, err)
	}
}
