package sqlstore

import (
	"testing"
	"time"

	"github.com/verifyd/verify"
)

func testFactors(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	totp := f.newTotp(f.entity, t0)
	totp2 := f.newTotp(f.entity, t0.Add(time.Second))
	push := f.newPush(f.entity, t0.Add(2*time.Second))

	for _, want := range []*verify.Factor{totp, push} {
		got, err := db.FindFactor(ctx, f.entity.Sid, want.Sid)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, want, got)
	}
	other := f.newEntity(f.service, "user-other", t0)
	_, err := db.FindFactor(ctx, other.Sid, totp.Sid)
	wantCode(t, err, verify.ENotFound)
	_, err = db.FindFactor(ctx, f.entity.Sid, newSid(t, "YF"))
	wantCode(t, err, verify.ENotFound)

	got, err := db.FindFactorByCredential(ctx, push.Push.CredentialSid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, push, got)
	_, err = db.FindFactorByCredential(ctx, newSid(t, verify.PrefixCredential))
	wantCode(t, err, verify.ENotFound)

	got, err = db.FindPushFactorByKey(ctx, f.entity.Sid, push.Push.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, push, got)
	_, err = db.FindPushFactorByKey(ctx, f.entity.Sid, []byte("another key"))
	wantCode(t, err, verify.ENotFound)
	_, err = db.FindPushFactorByKey(ctx, other.Sid, push.Push.PublicKey)
	wantCode(t, err, verify.ENotFound)

	for typ, want := range map[verify.FactorType]int{verify.FactorTotp: 2, verify.FactorPush: 1} {
		n, err := db.CountFactors(ctx, f.entity.Sid, typ)
		if err != nil || n != want {
			t.Fatalf("CountFactors(%s) = %d, %v; want %d", typ, n, err, want)
		}
	}
	if n, err := db.CountFactors(ctx, other.Sid, verify.FactorTotp); err != nil || n != 0 {
		t.Fatalf("CountFactors(other) = %d, %v; want 0", n, err)
	}

	list, more, err := db.ListFactors(ctx, f.entity.Sid, verify.Page{Size: 2})
	if err != nil || !more {
		t.Fatalf("ListFactors: more %v, %v", more, err)
	}
	// A list leaves TOTP secrets sealed: it never shows them.
	for _, got := range list {
		if got.Totp == nil || got.Totp.Secret != nil {
			t.Fatalf("listed factor %s carries its secret: %+v", got.Sid, got.Totp)
		}
	}
	wantEqual(t, []*verify.Factor{withoutSecret(totp), withoutSecret(totp2)}, list)
	list, more, err = db.ListFactors(ctx, f.entity.Sid, verify.Page{Size: 2, Desc: true})
	if err != nil || !more {
		t.Fatalf("ListFactors desc: more %v, %v", more, err)
	}
	wantEqual(t, []*verify.Factor{push, withoutSecret(totp2)}, list)

	// Deleting a factor deletes its challenges and their notifications,
	// and nothing of the entity's other factors.
	c := f.newChallenge(totp, t0, t0.Add(time.Minute))
	n := &verify.Notification{Sid: newSid(t, verify.PrefixNotification), AccountSid: f.account.Sid,
		ServiceSid: f.service.Sid, EntitySid: f.entity.Sid, Identity: f.entity.Identity,
		ChallengeSid: c.Sid, Priority: "high", TTL: 300, DateCreated: t0}
	if err := db.CreateNotification(ctx, n, 3); err != nil {
		t.Fatal(err)
	}
	kept := f.newChallenge(push, t0, t0.Add(time.Minute))
	wantCode(t, db.DeleteFactor(ctx, other.Sid, totp.Sid), verify.ENotFound)
	if _, err := db.FindChallenge(ctx, f.entity.Sid, c.Sid); err != nil {
		t.Fatalf("a refused delete took the challenge: %v", err)
	}
	if err := db.DeleteFactor(ctx, f.entity.Sid, totp.Sid); err != nil {
		t.Fatal(err)
	}
	if got := countRows(t, db, "notifications", "challenge_sid = ?", string(c.Sid)); got != 0 {
		t.Errorf("%d notifications of the deleted factor's challenge left", got)
	}
	if _, err := db.FindChallenge(ctx, f.entity.Sid, kept.Sid); err != nil {
		t.Errorf("challenge of another factor: %v", err)
	}
	_, err = db.FindFactor(ctx, f.entity.Sid, totp.Sid)
	wantCode(t, err, verify.ENotFound)
	_, err = db.FindChallenge(ctx, f.entity.Sid, c.Sid)
	wantCode(t, err, verify.ENotFound)
	wantCode(t, db.DeleteFactor(ctx, f.entity.Sid, totp.Sid), verify.ENotFound)
}

func testFactorUpdate(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	totp := f.newTotp(f.entity, t0)
	push := f.newPush(f.entity, t0)

	// Config changes are stored; status, secret, counters, binding are not.
	up := *totp
	up.FriendlyName, up.Metadata, up.DateUpdated = "renamed", map[string]string{"k": "v"}, t0.Add(time.Hour)
	up.Status, up.FailedAttempts = verify.FactorVerified, 4
	up.Totp = &verify.TotpFactor{Secret: []byte("other"), Alg: "sha256", CodeLength: 8, TimeStep: 60, Skew: 2, LastUsedEnd: 99}
	if err := db.UpdateFactor(ctx, &up); err != nil {
		t.Fatal(err)
	}
	want := up
	want.Status, want.FailedAttempts = totp.Status, totp.FailedAttempts
	want.Totp = &verify.TotpFactor{Secret: totp.Totp.Secret, Alg: "sha256", CodeLength: 8, TimeStep: 60, Skew: 2}
	got, err := db.FindFactor(ctx, f.entity.Sid, totp.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, &want, got)

	upPush := *push
	upPush.Metadata = nil
	upPush.Push = &verify.PushFactor{
		PublicKey: []byte("changed"), Alg: "RS256", CredentialSid: "YXchanged",
		SdkVersion: "3.1.0", AppID: "com.example.other", NotificationPlatform: verify.PlatformNone,
	}
	if err := db.UpdateFactor(ctx, &upPush); err != nil {
		t.Fatal(err)
	}
	wantPush := upPush
	wantPush.Push = &verify.PushFactor{
		PublicKey: push.Push.PublicKey, Alg: push.Push.Alg, CredentialSid: push.Push.CredentialSid,
		SdkVersion: "3.1.0", AppID: "com.example.other", NotificationPlatform: verify.PlatformNone,
	}
	got, err = db.FindFactor(ctx, f.entity.Sid, push.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, &wantPush, got)

	missing := up
	missing.Sid = newSid(t, "YF")
	wantCode(t, db.UpdateFactor(ctx, &missing), verify.ENotFound)
}

func testFactorCAS(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	fa := f.newTotp(f.entity, t0)
	missing := newSid(t, "YF")

	t.Run("VerifyFactor", func(t *testing.T) {
		now := t0.Add(time.Minute)
		if err := db.VerifyFactor(ctx, fa.Sid, now); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindFactor(ctx, f.entity.Sid, fa.Sid)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != verify.FactorVerified || !got.DateUpdated.Equal(now) {
			t.Fatalf("status %s, updated %v", got.Status, got.DateUpdated)
		}
		wantCode(t, db.VerifyFactor(ctx, fa.Sid, now), verify.EFactorState)
		wantCode(t, db.VerifyFactor(ctx, missing, now), verify.ENotFound)
	})

	t.Run("UseTotpStep", func(t *testing.T) {
		steps := []struct {
			start, end int64
			want       bool
		}{
			{1000, 1030, true},
			{1000, 1030, false}, // replay
			{970, 1000, false},  // older step
			{1030, 1060, true},
			{1015, 1075, false}, // overlaps a used step after a TimeStep change
			{1060, 1120, true},  // a longer step starting at the last end
		}
		for _, s := range steps {
			ok, err := db.UseTotpStep(ctx, fa.Sid, s.start, s.end)
			if err != nil || ok != s.want {
				t.Fatalf("UseTotpStep(%d, %d) = %v, %v; want %v", s.start, s.end, ok, err, s.want)
			}
		}
		got, err := db.FindFactor(ctx, f.entity.Sid, fa.Sid)
		if err != nil {
			t.Fatal(err)
		}
		if got.Totp.LastUsedEnd != 1120 {
			t.Fatalf("LastUsedEnd = %d, want 1120", got.Totp.LastUsedEnd)
		}
		_, err = db.UseTotpStep(ctx, missing, 0, 30)
		wantCode(t, err, verify.ENotFound)
	})

	t.Run("TakeFactorAttempt", func(t *testing.T) {
		fa := f.newTotp(f.entity, t0) // unverified
		for i := 1; i <= 4; i++ {
			n, err := db.TakeFactorAttempt(ctx, fa.Sid, 3)
			if i <= 3 && (err != nil || n != i) {
				t.Fatalf("attempt %d: %d, %v", i, n, err)
			}
			if i == 4 {
				wantCode(t, err, verify.EFactorTries)
			}
		}
		got, err := db.FindFactor(ctx, f.entity.Sid, fa.Sid)
		if err != nil || got.FailedAttempts != 3 {
			t.Fatalf("FailedAttempts = %v, %v", got, err)
		}
		_, err = db.TakeFactorAttempt(ctx, missing, 3)
		wantCode(t, err, verify.ENotFound)
		// Verifying clears the count; a verified factor takes no attempts.
		if err := db.VerifyFactor(ctx, fa.Sid, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, err = db.FindFactor(ctx, f.entity.Sid, fa.Sid); err != nil || got.FailedAttempts != 0 {
			t.Fatalf("verified: %v, %v", got, err)
		}
		_, err = db.TakeFactorAttempt(ctx, fa.Sid, 3)
		wantCode(t, err, verify.EFactorState)
	})
}

// withoutSecret is f as a list returns it: the TOTP secret left sealed.
func withoutSecret(f *verify.Factor) *verify.Factor {
	c := *f
	if f.Totp != nil {
		t := *f.Totp
		t.Secret = nil
		c.Totp = &t
	}
	return &c
}
