package sqlstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/verifyd/verify"
)

// BenchmarkTotpChallengeTxParallel runs the approved-TOTP-challenge write
// transaction from many goroutines at once, as the server does under load,
// so that SQLite's group commit can share fsyncs between them.
func BenchmarkTotpChallengeTxParallel(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		var step atomic.Int64
		b.SetParallelism(8) // 16 goroutines on 2 CPUs, as the load tool's 16 connections
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s := step.Add(30)
				fa := f.totp[int(s/30)%len(f.totp)]
				check(b, f.db.Tx(f.ctx, func(st verify.Store) error {
					if ok, err := st.UseTotpStep(f.ctx, fa.Sid, s, s+30); err != nil || !ok {
						return fmt.Errorf("use step: %v %v", ok, err)
					}
					c := f.challenge(b, fa)
					c.Status = verify.ChallengeApproved
					return st.CreateChallenge(f.ctx, c)
				}))
			}
		})
	})
}

// BenchmarkFindFactorOneKeyParallel reads one factor from many goroutines
// at once, as the requests for one busy device or user do when its cache
// entry has just expired. On PostgreSQL the reads share statements
// (read_batch.go); reads of one key share one statement rather than queue
// one statement each behind one another.
func BenchmarkFindFactorOneKeyParallel(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		fa := f.totp[0]
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				got, err := f.db.FindFactor(f.ctx, f.entity.Sid, fa.Sid)
				check(b, err)
				if got.Sid != fa.Sid {
					b.Fatalf("read %s, want %s", got.Sid, fa.Sid)
				}
			}
		})
	})
}
