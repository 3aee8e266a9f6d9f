package sqlstore

import (
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// The races below run the store's sequences exactly as the Verifier does
// inside Tx. On SQLite transactions are serialised anyway; on PostgreSQL
// (READ COMMITTED, one pool) they check the row locks that stand in for
// that serialisation, and that a lost race never aborts the transaction.

// race runs fn n times at once and waits for all of them.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// testEntityRace finds-or-creates one entity from many transactions, as
// create factor does: every one ends with the same entity, and one exists.
func testEntityRace(t *testing.T, db *DB) {
	f := setup(t, db)
	const n = 16
	sids := make([]verify.Sid, n)
	errs := make([]error, n)
	fresh := make([]verify.Sid, n) // newSid may t.Fatal: not in the goroutines
	for i := range n {
		fresh[i] = newSid(t, verify.PrefixEntity)
	}
	race(n, func(i int) {
		errs[i] = db.Tx(f.ctx, func(st verify.Store) error {
			e, err := st.FindEntity(f.ctx, f.service.Sid, "racing-user-1")
			if verify.IsCode(err, verify.ENotFound) {
				e = &verify.Entity{Sid: fresh[i], AccountSid: f.account.Sid,
					ServiceSid: f.service.Sid, Identity: "racing-user-1", DateCreated: t0, DateUpdated: t0}
				err = st.CreateEntity(f.ctx, e)
				if verify.IsCode(err, verify.EEntityExists) {
					e, err = st.FindEntity(f.ctx, f.service.Sid, "racing-user-1")
				}
			}
			if err != nil {
				return err
			}
			sids[i] = e.Sid
			return nil
		})
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("transaction %d: %v", i, errs[i])
		}
		if sids[i] != sids[0] {
			t.Fatalf("transaction %d got entity %s, transaction 0 got %s", i, sids[i], sids[0])
		}
	}
	if got := countRows(t, db, "entities", "identity = ?", "racing-user-1"); got != 1 {
		t.Fatalf("%d entities, want 1", got)
	}
}

// testFactorCapRace counts then creates push factors from many transactions
// against the cap of 20: exactly 20 are created.
func testFactorCapRace(t *testing.T, db *DB) {
	f := setup(t, db)
	const n = 32
	errs := make([]error, n)
	sids := make([][3]verify.Sid, n)
	for i := range n {
		sids[i] = [3]verify.Sid{newSid(t, verify.PrefixFactor), newSid(t, "PK"), newSid(t, verify.PrefixCredential)}
	}
	race(n, func(i int) {
		errs[i] = db.Tx(f.ctx, func(st verify.Store) error {
			e, err := st.FindEntity(f.ctx, f.service.Sid, f.entity.Identity)
			if err != nil {
				return err
			}
			c, err := st.CountFactors(f.ctx, e.Sid, verify.FactorPush)
			if err != nil {
				return err
			}
			if c >= verify.MaxPushFactors {
				return verify.Errorf(verify.EFactorMax, "cap")
			}
			return st.CreateFactor(f.ctx, &verify.Factor{
				Sid: sids[i][0], AccountSid: e.AccountSid, ServiceSid: e.ServiceSid,
				EntitySid: e.Sid, Identity: e.Identity, FriendlyName: "phone", Type: verify.FactorPush,
				Status: verify.FactorUnverified, DateCreated: t0, DateUpdated: t0,
				Push: &verify.PushFactor{PublicKey: []byte(sids[i][1]), Alg: "ES256",
					CredentialSid: sids[i][2], NotificationPlatform: verify.PlatformNone},
			})
		})
	})
	created := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			created++
		case !verify.IsCode(errs[i], verify.EFactorMax):
			t.Errorf("transaction %d: %v", i, errs[i])
		}
	}
	rows := countRows(t, db, "factors", "entity_sid = ?", string(f.entity.Sid))
	if created != verify.MaxPushFactors || rows != verify.MaxPushFactors {
		t.Fatalf("%d creates succeeded, %d factors stored; want %d", created, rows, verify.MaxPushFactors)
	}
}

// testNotificationRace sends many notifications for one challenge at once
// against the cap of 3: exactly 3 are stored, the rest are ENotifyMax.
func testNotificationRace(t *testing.T, db *DB) {
	f := setup(t, db)
	c := f.newChallenge(f.newPush(f.entity, t0), t0, t0.Add(time.Hour))
	const n = 20
	errs := make([]error, n)
	sids := make([]verify.Sid, n)
	for i := range n {
		sids[i] = newSid(t, verify.PrefixNotification)
	}
	race(n, func(i int) {
		errs[i] = db.CreateNotification(f.ctx, &verify.Notification{
			Sid: sids[i], AccountSid: c.AccountSid, ServiceSid: c.ServiceSid,
			EntitySid: c.EntitySid, Identity: c.Identity, ChallengeSid: c.Sid,
			Priority: "high", TTL: 300, DateCreated: t0,
		}, verify.MaxNotifications)
	})
	ok := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			ok++
		case !verify.IsCode(errs[i], verify.ENotifyMax):
			t.Errorf("notification %d: %v", i, errs[i])
		}
	}
	rows := countRows(t, db, "notifications", "challenge_sid = ?", string(c.Sid))
	if ok != verify.MaxNotifications || rows != verify.MaxNotifications {
		t.Fatalf("%d notifications accepted, %d stored; want %d", ok, rows, verify.MaxNotifications)
	}
}

// testUpdateServiceRace runs read-modify-write transactions on one service,
// as update service does: none of the increments is lost.
func testUpdateServiceRace(t *testing.T, db *DB) {
	f := setup(t, db)
	const n = 12
	errs := make([]error, n)
	race(n, func(i int) {
		errs[i] = db.Tx(f.ctx, func(st verify.Store) error {
			s, err := st.FindService(f.ctx, f.account.Sid, f.service.Sid)
			if err != nil {
				return err
			}
			s.CodeLength++
			return st.UpdateService(f.ctx, s)
		})
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("transaction %d: %v", i, errs[i])
		}
	}
	got, err := db.FindService(f.ctx, f.account.Sid, f.service.Sid)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.service.CodeLength + n; got.CodeLength != want {
		t.Fatalf("CodeLength = %d, want %d: an update was lost", got.CodeLength, want)
	}
}
