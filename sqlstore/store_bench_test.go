package sqlstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/sqlstore"
)

// Benchmarks of each store operation on the hot paths, on a real database
// with the server's settings (SQLite: WAL and group commit, every write
// answered only after the fsync of the WAL that holds it; PostgreSQL too when
// VERIFYD_TEST_POSTGRES is set). Writes include their commit and its fsync:
// that is what a request waits for.
//
//	go test -run '^$' -bench . -benchmem ./sqlstore

// storeFixture is an account, a service, an entity with 100 verified TOTP
// factors (verifyd's cap) and one push factor.
type storeFixture struct {
	ctx     context.Context
	db      *sqlstore.DB
	account verify.Sid
	service verify.Sid
	entity  *verify.Entity
	totp    []*verify.Factor
	push    *verify.Factor
	now     time.Time
}

func benchSid(b *testing.B, prefix string) verify.Sid {
	sid, err := verify.NewSid(rand.Reader, prefix)
	if err != nil {
		b.Fatal(err)
	}
	return sid
}

func newStoreFixture(b *testing.B, dsn string) *storeFixture {
	b.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	db, err := sqlstore.Open(ctx, dsn, key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	now := time.Now().UTC().Truncate(time.Second)
	f := &storeFixture{ctx: ctx, db: db, account: benchSid(b, verify.PrefixAccount), service: benchSid(b, verify.PrefixService), now: now}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(db.PutAccount(ctx, &verify.Account{Sid: f.account, TokenHash: []byte("hash"), DateCreated: now}))
	must(db.CreateService(ctx, &verify.Service{Sid: f.service, AccountSid: f.account, FriendlyName: "bench", CodeLength: 6,
		Totp: verify.TotpSettings{Issuer: "bench", TimeStep: 30, CodeLength: 6, Skew: 1}, DateCreated: now, DateUpdated: now}))
	f.entity = &verify.Entity{Sid: benchSid(b, verify.PrefixEntity), AccountSid: f.account, ServiceSid: f.service, Identity: "user-0001", DateCreated: now, DateUpdated: now}
	must(db.CreateEntity(ctx, f.entity))
	must(db.Tx(ctx, func(st verify.Store) error {
		for i := range 100 {
			t := &verify.Factor{Sid: benchSid(b, verify.PrefixFactor), AccountSid: f.account, ServiceSid: f.service, EntitySid: f.entity.Sid,
				Identity: f.entity.Identity, FriendlyName: fmt.Sprint("phone ", i), Type: verify.FactorTotp, Status: verify.FactorVerified,
				Totp:        &verify.TotpFactor{Secret: make([]byte, 20), Alg: "sha1", CodeLength: 6, TimeStep: 30, Skew: 1},
				DateCreated: now, DateUpdated: now}
			if err := st.CreateFactor(ctx, t); err != nil {
				return err
			}
			f.totp = append(f.totp, t)
		}
		return nil
	}))
	f.push = &verify.Factor{Sid: benchSid(b, verify.PrefixFactor), AccountSid: f.account, ServiceSid: f.service, EntitySid: f.entity.Sid,
		Identity: f.entity.Identity, FriendlyName: "device", Type: verify.FactorPush, Status: verify.FactorVerified,
		Push: &verify.PushFactor{PublicKey: []byte("not parsed by the store"), Alg: "ES256", CredentialSid: benchSid(b, verify.PrefixCredential),
			SdkVersion: "3.0.0", AppID: "com.example", NotificationPlatform: "none"},
		DateCreated: now, DateUpdated: now}
	must(db.CreateFactor(ctx, f.push))
	return f
}

// challenge returns a new pending challenge of factor (not stored).
func (f *storeFixture) challenge(b *testing.B, factor *verify.Factor) *verify.Challenge {
	return &verify.Challenge{Sid: benchSid(b, verify.PrefixChallenge), AccountSid: f.account, ServiceSid: f.service,
		EntitySid: f.entity.Sid, Identity: f.entity.Identity, FactorSid: factor.Sid, FactorType: factor.Type,
		Status: verify.ChallengePending, RespondedReason: verify.ReasonNone,
		Details:        verify.ChallengeDetails{Message: "Log in?", Fields: []verify.DetailField{{Label: "IP", Value: "203.0.113.7"}}},
		HiddenDetails:  map[string]string{"ip": "203.0.113.7"},
		ExpirationDate: f.now.Add(time.Hour), DateCreated: f.now, DateUpdated: f.now}
}

// forEachBackend runs bench once per backend of this run, on a fresh
// database each.
func forEachBackend(b *testing.B, bench func(b *testing.B, f *storeFixture)) {
	for _, be := range verifytest.Backends() {
		b.Run(string(be), func(b *testing.B) {
			f := newStoreFixture(b, verifytest.DSN(b, be))
			b.ReportAllocs()
			bench(b, f)
		})
	}
}

func check(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkFindService(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		for b.Loop() {
			_, err := f.db.FindService(f.ctx, f.account, f.service)
			check(b, err)
		}
	})
}

func BenchmarkFindEntity(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		for b.Loop() {
			_, err := f.db.FindEntity(f.ctx, f.service, f.entity.Identity)
			check(b, err)
		}
	})
}

// BenchmarkFindFactor reads a TOTP factor, whose secret is unsealed.
func BenchmarkFindFactor(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		for b.Loop() {
			_, err := f.db.FindFactor(f.ctx, f.entity.Sid, f.totp[42].Sid)
			check(b, err)
		}
	})
}

// BenchmarkFindFactorAfterWrite reads a factor right after a committed
// write, as most reads run in a server that writes: SQLite's reader then
// finds the WAL changed and drops its whole page cache, so the read starts
// cold (about 2.5 times BenchmarkFindFactor here). Only the read is timed.
func BenchmarkFindFactorAfterWrite(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		i := 0
		for b.Loop() {
			b.StopTimer()
			// Each factor's steps only grow, so every call writes.
			used, err := f.db.UseTotpStep(f.ctx, f.totp[i%50].Sid, int64(1000+i), int64(1001+i))
			check(b, err)
			if !used {
				b.Fatal("the write before the read wrote nothing")
			}
			b.StartTimer()
			_, err = f.db.FindFactor(f.ctx, f.entity.Sid, f.totp[50+i%50].Sid)
			check(b, err)
			i++
		}
	})
}

func BenchmarkFindFactorByCredential(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		for b.Loop() {
			_, err := f.db.FindFactorByCredential(f.ctx, f.push.Push.CredentialSid)
			check(b, err)
		}
	})
}

// BenchmarkListFactors reads the first page of 50 of the entity's factors.
func BenchmarkListFactors(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		for b.Loop() {
			items, more, err := f.db.ListFactors(f.ctx, f.entity.Sid, verify.Page{Size: 50})
			check(b, err)
			if len(items) != 50 || !more {
				b.Fatalf("%d items, more %v", len(items), more)
			}
		}
	})
}

func BenchmarkFindChallenge(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		c := f.challenge(b, f.push)
		check(b, f.db.CreateChallenge(f.ctx, c))
		for b.Loop() {
			_, err := f.db.FindChallenge(f.ctx, f.entity.Sid, c.Sid)
			check(b, err)
		}
	})
}

// BenchmarkCreateChallenge is one durable insert (its own commit).
func BenchmarkCreateChallenge(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		for b.Loop() {
			check(b, f.db.CreateChallenge(f.ctx, f.challenge(b, f.push)))
		}
	})
}

// BenchmarkRespondChallenge is the compare-and-swap of a push approval, on
// challenges created before the timer starts.
func BenchmarkRespondChallenge(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		sids := make([]verify.Sid, b.N)
		check(b, f.db.Tx(f.ctx, func(st verify.Store) error {
			for i := range sids {
				c := f.challenge(b, f.push)
				sids[i] = c.Sid
				if err := st.CreateChallenge(f.ctx, c); err != nil {
					return err
				}
			}
			return nil
		}))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			check(b, f.db.RespondChallenge(f.ctx, sids[i], verify.ChallengeApproved, verify.ReasonNone, nil, f.now))
		}
	})
}

// BenchmarkUseTotpStep records a new step each time, so every call succeeds.
func BenchmarkUseTotpStep(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		step := int64(0)
		for b.Loop() {
			step += 30
			ok, err := f.db.UseTotpStep(f.ctx, f.totp[0].Sid, step, step+30)
			check(b, err)
			if !ok {
				b.Fatal("step refused")
			}
		}
	})
}

// BenchmarkTakeChallengeAttempt reserves an attempt for a code (limit
// never reached): what a wrong code on a pending challenge writes.
func BenchmarkTakeChallengeAttempt(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		c := f.challenge(b, f.totp[0])
		check(b, f.db.CreateChallenge(f.ctx, c))
		for b.Loop() {
			_, err := f.db.TakeChallengeAttempt(f.ctx, c.Sid, 1<<30, f.now)
			check(b, err)
		}
	})
}

// BenchmarkTotpChallengeTx is the write transaction of an approved TOTP
// challenge: use the step and insert the challenge, one commit.
func BenchmarkTotpChallengeTx(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		step := int64(0)
		for b.Loop() {
			step += 30
			check(b, f.db.Tx(f.ctx, func(st verify.Store) error {
				if ok, err := st.UseTotpStep(f.ctx, f.totp[1].Sid, step, step+30); err != nil || !ok {
					return fmt.Errorf("use step: %v %v", ok, err)
				}
				c := f.challenge(b, f.totp[1])
				c.Status = verify.ChallengeApproved
				return st.CreateChallenge(f.ctx, c)
			}))
		}
	})
}
