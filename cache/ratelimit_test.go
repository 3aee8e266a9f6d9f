package cache

import (
	"testing"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestRateBuckets: on SQLite a service's buckets are served from memory
// (a bucket written behind the cache's back stays unseen), and every
// bucket write through the cache, in a transaction or not, drops them; on
// PostgreSQL they are read each time. The names filter the cached list.
func TestRateBuckets(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		rl := &verify.RateLimit{Sid: w.sid(verify.PrefixRateLimit), AccountSid: w.service.AccountSid, ServiceSid: w.service.Sid,
			UniqueName: "ip", DateCreated: t0, DateUpdated: t0}
		w.must(w.c.CreateRateLimit(w.ctx, rl))
		bucket := func(interval int) *verify.Bucket {
			return &verify.Bucket{Sid: w.sid(verify.PrefixBucket), AccountSid: rl.AccountSid, ServiceSid: rl.ServiceSid,
				RateLimitSid: rl.Sid, Max: 5, Interval: interval, DateCreated: t0, DateUpdated: t0}
		}
		count := func(names ...string) int {
			t.Helper()
			got, err := w.c.RateBuckets(w.ctx, w.service.Sid, names)
			w.must(err)
			return len(got)
		}
		w.must(w.c.CreateBucket(w.ctx, bucket(60)))
		if n := count("ip"); n != 1 {
			t.Fatalf("%d buckets, want 1", n)
		}
		if n := count("other"); n != 0 {
			t.Fatalf("%d buckets of another name", n)
		}
		w.must(w.db.CreateBucket(w.ctx, bucket(120))) // another process
		want := 1
		if w.db.Shared() {
			want = 2
		}
		if n := count("ip"); n != want {
			t.Fatalf("after a write behind the cache: %d, want %d", n, want)
		}
		b := bucket(3600)
		w.must(w.c.Tx(w.ctx, func(st verify.Store) error { return st.CreateBucket(w.ctx, b) }))
		if n := count("ip"); n != 3 {
			t.Fatalf("after CreateBucket in a transaction: %d, want 3", n)
		}
		b.Max = 9
		w.must(w.c.UpdateBucket(w.ctx, b))
		got, err := w.c.RateBuckets(w.ctx, w.service.Sid, []string{"ip"})
		w.must(err)
		if got[2].Bucket.Max != 9 {
			t.Fatalf("after UpdateBucket: max %d", got[2].Bucket.Max)
		}
		w.must(w.c.DeleteBucket(w.ctx, rl.Sid, b.Sid))
		if n := count("ip"); n != 2 {
			t.Fatalf("after DeleteBucket: %d, want 2", n)
		}
		w.must(w.c.DeleteRateLimit(w.ctx, w.service.Sid, rl.Sid))
		if n := count("ip"); n != 0 {
			t.Fatalf("after DeleteRateLimit: %d, want 0", n)
		}
	})
}
