package sqlstore

import (
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// newVerification stores a pending verification of to, created at t0 and
// live for ten minutes, with one attempt.
func (f *fixture) newVerification(to string) *verify.Verification {
	f.t.Helper()
	sid := newSid(f.t, "VE")
	v := &verify.Verification{Sid: sid, AccountSid: f.account.Sid, ServiceSid: f.service.Sid, To: to, Key: to,
		Channel: "sms", Status: verify.VerificationPending, CodeHash: []byte("hash"), CodeLength: 6, Sends: 1,
		ExpiresAt: t0.Add(10 * time.Minute), DateCreated: t0, DateUpdated: t0,
		Attempts: []*verify.SendAttempt{f.attempt(sid, to)}}
	if err := f.db.CreateVerification(f.ctx, v); err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fixture) attempt(ver verify.Sid, to string) *verify.SendAttempt {
	return &verify.SendAttempt{Sid: newSid(f.t, "VL"), VerificationSid: ver, AccountSid: f.account.Sid,
		ServiceSid: f.service.Sid, Channel: "sms", To: to, Country: "US", Locale: "en",
		Tags: map[string]string{"k": "v"}, MessageStatus: verify.MessageQueued, DateCreated: t0, DateUpdated: t0}
}

// testVerifications: one live verification per key; sends and checks are
// capped by their conditional updates, also under a burst of parallel
// calls; the statuses release the key as documented; expiry is read at
// the caller's now.
func testVerifications(t *testing.T, db *DB) {
	f := setup(t, db)
	const to = "+14155552671"
	v := f.newVerification(to)
	dup := *v
	dup.Sid, dup.Attempts = newSid(t, "VE"), nil
	if err := db.CreateVerification(f.ctx, &dup); !verify.IsCode(err, verify.EConcurrent) {
		t.Fatalf("a second live verification of the key: %v", err)
	}
	got, err := db.FindLiveVerification(f.ctx, f.service.Sid, to)
	if err != nil || got.Sid != v.Sid || got.Attempts != nil {
		t.Fatalf("find live: %+v, %v", got, err)
	}
	if as, err := db.ListSendAttempts(f.ctx, v.Sid); err != nil || len(as) != 1 || as[0].Tags["k"] != "v" {
		t.Fatalf("attempts: %+v, %v", as, err)
	}
	now := t0.Add(time.Minute)
	// Sends: a burst of 10 parallel re-sends counts exactly 4 (5 in all).
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, maxed := 0, 0
	for range 10 {
		wg.Go(func() {
			_, err := db.ResendVerification(f.ctx, v.Sid, f.attempt(v.Sid, to), nil, 5, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case verify.IsCode(err, verify.EMaxSends):
				maxed++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _ = db.FindVerification(f.ctx, f.service.Sid, v.Sid)
	if as, _ := db.ListSendAttempts(f.ctx, v.Sid); ok != 4 || maxed != 6 || got.Sends != 5 || len(as) != 5 {
		t.Fatalf("re-sends: %d ok, %d refused, stored %d sends and %d attempts", ok, maxed, got.Sends, len(as))
	}
	// Checks: a burst of 10 reserves exactly 5.
	ok, maxed = 0, 0
	for range 10 {
		wg.Go(func() {
			_, err := db.TakeVerificationCheck(f.ctx, v.Sid, 5, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case verify.IsCode(err, verify.EMaxChecks):
				maxed++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 5 || maxed != 5 {
		t.Fatalf("checks: %d reserved, %d refused", ok, maxed)
	}
	if err := db.SetVerificationStatus(f.ctx, v.Sid, verify.VerificationMaxAttempts, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TakeVerificationCheck(f.ctx, v.Sid, 5, now); !verify.IsCode(err, verify.EMaxChecks) {
		t.Fatalf("check after max attempts: %v", err)
	}
	// max_attempts_reached keeps the key until expiry, then it is released.
	if _, err := db.FindLiveVerification(f.ctx, f.service.Sid, to); err != nil {
		t.Fatalf("live after max attempts: %v", err)
	}
	if ok, err := db.ReleaseVerification(f.ctx, v.Sid, now); ok || err != nil {
		t.Fatalf("released before expiry: %v %v", ok, err)
	}
	if ok, err := db.ReleaseVerification(f.ctx, v.Sid, v.ExpiresAt); !ok || err != nil {
		t.Fatalf("release at expiry: %v %v", ok, err)
	}
	if _, err := db.FindLiveVerification(f.ctx, f.service.Sid, to); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("live after release: %v", err)
	}
	// Approval releases the key and converts every attempt.
	w := f.newVerification(to)
	if err := db.SetVerificationStatus(f.ctx, w.Sid, verify.VerificationApproved, now); err != nil {
		t.Fatal(err)
	}
	if err := db.SetVerificationStatus(f.ctx, w.Sid, verify.VerificationCanceled, now); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("cancel after approval: %v", err)
	}
	got, err = db.FindVerification(f.ctx, f.service.Sid, w.Sid)
	as, _ := db.ListSendAttempts(f.ctx, w.Sid)
	if err != nil || got.Status != verify.VerificationApproved || got.Key != "" || len(as) != 1 || !as[0].Converted {
		t.Fatalf("approved: %+v, %v", got, err)
	}
	if err := db.SettleSendAttempt(f.ctx, as[0].Sid, verify.SendResult{MessageStatus: "delivered", Price: "0.0079", PriceUnit: "usd", Now: now}); err != nil {
		t.Fatal(err)
	}
	as, _ = db.ListSendAttempts(f.ctx, w.Sid)
	if a := as[0]; a.MessageStatus != "delivered" || a.Price != "0.0079" || !a.DateUpdated.Equal(now) {
		t.Fatalf("settled attempt: %+v", a)
	}
	// The sweep releases a pending verification past expiry, once.
	x := f.newVerification("+14155552672")
	if n, err := db.ExpireVerifications(f.ctx, x.ExpiresAt.Add(-time.Second), 10); n != 0 || err != nil {
		t.Fatalf("expired early: %d %v", n, err)
	}
	if n, err := db.ExpireVerifications(f.ctx, x.ExpiresAt, 10); n != 1 || err != nil {
		t.Fatalf("expire: %d %v", n, err)
	}
	if _, err := db.TakeVerificationCheck(f.ctx, x.Sid, 5, now); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("check of an expired verification: %v", err)
	}
}
