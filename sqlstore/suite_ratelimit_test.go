package sqlstore

import (
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// newRateLimit stores a rate limit of the fixture's service with one
// bucket.
func (f *fixture) newRateLimit(name string, max, interval int) (*verify.RateLimit, *verify.Bucket) {
	f.t.Helper()
	rl := &verify.RateLimit{Sid: newSid(f.t, verify.PrefixRateLimit), AccountSid: f.account.Sid, ServiceSid: f.service.Sid,
		UniqueName: name, DateCreated: t0, DateUpdated: t0}
	if err := f.db.CreateRateLimit(f.ctx, rl); err != nil {
		f.t.Fatal(err)
	}
	return rl, f.newBucket(rl, max, interval)
}

func (f *fixture) newBucket(rl *verify.RateLimit, max, interval int) *verify.Bucket {
	f.t.Helper()
	b := &verify.Bucket{Sid: newSid(f.t, verify.PrefixBucket), AccountSid: f.account.Sid, ServiceSid: f.service.Sid,
		RateLimitSid: rl.Sid, Max: max, Interval: interval, DateCreated: t0, DateUpdated: t0}
	if err := f.db.CreateBucket(f.ctx, b); err != nil {
		f.t.Fatal(err)
	}
	return b
}

// testRateLimits: names and intervals are unique; a bucket admits max at
// once and then one per interval/max, whatever runs in parallel; a
// refusal says when the bucket admits again; counters of other values and
// buckets are their own; idle counters are pruned.
func testRateLimits(t *testing.T, db *DB) {
	f := setup(t, db)
	rl, b := f.newRateLimit("phone", 4, 60)
	dup := *rl
	dup.Sid = newSid(t, verify.PrefixRateLimit)
	if err := db.CreateRateLimit(f.ctx, &dup); !verify.IsCode(err, verify.ERateLimitExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	same := *b
	same.Sid = newSid(t, verify.PrefixBucket)
	if err := db.CreateBucket(f.ctx, &same); !verify.IsCode(err, verify.EBucketExists) {
		t.Fatalf("duplicate interval: %v", err)
	}
	if got, err := db.FindRateLimit(f.ctx, f.service.Sid, "phone"); err != nil || got.Sid != rl.Sid {
		t.Fatalf("find by name: %v, %v", got, err)
	}
	if got, err := db.FindRateLimit(f.ctx, f.service.Sid, string(rl.Sid)); err != nil || got.UniqueName != "phone" {
		t.Fatalf("find by sid: %v, %v", got, err)
	}
	take := func(key string, at time.Time) ([]verify.RateRefusal, error) {
		return db.TakeBuckets(f.ctx, []verify.RateTake{{Bucket: b.Sid, Limit: "phone", Key: key, Max: b.Max, Interval: b.Interval}}, at)
	}
	// 20 parallel takes of one key at one instant: exactly 4 pass.
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 20 {
		wg.Go(func() {
			refused, err := take("a", t0)
			if err != nil {
				t.Error(err)
				return
			}
			if len(refused) == 0 {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if passed != 4 {
		t.Fatalf("%d of 20 parallel takes passed, want 4", passed)
	}
	// Full: the next unit comes 15 s (60 s / 4) after t0.
	refused, err := take("a", t0.Add(5*time.Second))
	if err != nil || len(refused) != 1 || refused[0].After != 10*time.Second || refused[0].Take.Limit != "phone" {
		t.Fatalf("refusal: %+v, %v", refused, err)
	}
	if refused, err := take("b", t0.Add(5*time.Second)); err != nil || refused != nil {
		t.Fatalf("another key: %v, %v", refused, err)
	}
	if refused, err := take("a", t0.Add(15*time.Second)); err != nil || refused != nil {
		t.Fatalf("after one emission interval: %v, %v", refused, err)
	}
	if refused, err := take("a", t0.Add(16*time.Second)); err != nil || len(refused) != 1 {
		t.Fatalf("right after: %v, %v", refused, err)
	}
	// Two buckets: one full refuses; in a transaction, the caller's
	// rollback gives back whatever was taken.
	hour := f.newBucket(rl, 100, 3600)
	both := []verify.RateTake{{Bucket: b.Sid, Limit: "phone", Key: "a", Max: 4, Interval: 60},
		{Bucket: hour.Sid, Limit: "phone", Key: "a", Max: 100, Interval: 3600}}
	var txRefused []verify.RateRefusal
	err = db.Tx(f.ctx, func(st verify.Store) error {
		var err error
		if txRefused, err = st.TakeBuckets(f.ctx, both, t0.Add(16*time.Second)); err != nil {
			return err
		}
		return verify.Errorf(verify.ETooManyRequests, "rolled back")
	})
	if !verify.IsCode(err, verify.ETooManyRequests) || len(txRefused) != 1 || txRefused[0].Take.Bucket != b.Sid {
		t.Fatalf("two buckets: %+v, %v", txRefused, err)
	}
	// Outside a transaction too, a refused take counts nowhere.
	if r, err := db.TakeBuckets(f.ctx, both, t0.Add(16*time.Second)); err != nil || len(r) != 1 || r[0].Take.Bucket != b.Sid || r[0].After != 14*time.Second {
		t.Fatalf("two buckets outside a transaction: %+v, %v", r, err)
	}
	// The rollback and the refusal left the hour bucket untouched: 100
	// takes of it pass.
	for i := range 100 {
		if r, err := db.TakeBuckets(f.ctx, both[1:], t0.Add(17*time.Second)); err != nil || r != nil {
			t.Fatalf("hour take %d: %v, %v", i, r, err)
		}
	}
	if r, _ := db.TakeBuckets(f.ctx, both[1:], t0.Add(17*time.Second)); len(r) != 1 {
		t.Fatalf("101st hour take passed")
	}
	// A changed bucket starts afresh: its counters are in the old units.
	b.Max = 5
	if err := db.UpdateBucket(f.ctx, b); err != nil {
		t.Fatal(err)
	}
	if refused, err := db.TakeBuckets(f.ctx, []verify.RateTake{{Bucket: b.Sid, Limit: "phone", Key: "a", Max: 5, Interval: 60}}, t0.Add(17*time.Second)); err != nil || refused != nil {
		t.Fatalf("after the update: %v, %v", refused, err)
	}
	if got, err := db.RateBuckets(f.ctx, f.service.Sid, []string{"phone", "nobody"}); err != nil || len(got) != 2 ||
		got[0].Bucket.Interval != 60 || got[1].Bucket.Interval != 3600 || got[0].Limit != "phone" {
		t.Fatalf("rate buckets: %+v, %v", got, err)
	}
	// Idle counters go: key b (one take at 5 s, 60 s / 4) is idle at 20 s,
	// key a of the changed bucket 12 s after its take at 17 s; the hour
	// bucket's is not idle for an hour.
	if n, err := db.PruneRateCounters(f.ctx, t0.Add(28*time.Second), 100); err != nil || n != 1 {
		t.Fatalf("pruned %d at 28 s, want key b, %v", n, err)
	}
	n, err := db.PruneRateCounters(f.ctx, t0.Add(10*time.Minute), 100)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	// The walk goes limit counters a round and starts over at the end:
	// five more idle counters and the hour bucket's take 4 rounds of 2.
	for i := range 5 {
		k := verify.RateTake{Bucket: hour.Sid, Limit: "phone", Key: string(rune('c' + i)), Max: 100, Interval: 3600}
		if r, err := db.TakeBuckets(f.ctx, []verify.RateTake{k}, t0); err != nil || r != nil {
			t.Fatal(r, err)
		}
	}
	total := 0
	for round := range 4 {
		n, err := db.PruneRateCounters(f.ctx, t0.Add(100*time.Hour), 2)
		if err != nil || n > 2 {
			t.Fatalf("round %d pruned %d, %v", round, n, err)
		}
		total += n
	}
	if total != 6 {
		t.Fatalf("4 rounds of 2 pruned %d of 6 idle counters", total)
	}
	if err := db.DeleteRateLimit(f.ctx, f.service.Sid, rl.Sid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindBucket(f.ctx, rl.Sid, hour.Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("bucket after its rate limit's delete: %v", err)
	}
	// A take that read the buckets before the delete still counts, as if
	// it came first; the counter of the deleted bucket goes once idle (one
	// unit of 100 an hour: 36 s after the take).
	if r, err := db.TakeBuckets(f.ctx, both[1:], t0.Add(18*time.Second)); err != nil || r != nil {
		t.Fatalf("take of a deleted bucket: %v, %v", r, err)
	}
	if n, err := db.PruneRateCounters(f.ctx, t0.Add(50*time.Second), 100); err != nil || n != 0 {
		t.Fatalf("pruned %d before the counter of the deleted bucket was idle, %v", n, err)
	}
	if n, err := db.PruneRateCounters(f.ctx, t0.Add(100*time.Hour), 100); err != nil || n != 1 {
		t.Fatalf("pruned %d counters of deleted buckets, want 1, %v", n, err)
	}
}

// testSafeList: one entry per account and number; another account does
// not see it; it goes with its account.
func testSafeList(t *testing.T, db *DB) {
	f, g := setup(t, db), setup(t, db)
	n := &verify.SafeNumber{Sid: newSid(t, verify.PrefixSafeNumber), AccountSid: f.account.Sid, PhoneNumber: "+2348031234567", DateCreated: t0}
	if err := db.AddSafeNumber(f.ctx, n); err != nil {
		t.Fatal(err)
	}
	dup := *n
	dup.Sid = newSid(t, verify.PrefixSafeNumber)
	if err := db.AddSafeNumber(f.ctx, &dup); !verify.IsCode(err, verify.ESafeListed) {
		t.Fatalf("twice: %v", err)
	}
	mine := dup
	mine.AccountSid = g.account.Sid
	if err := db.AddSafeNumber(f.ctx, &mine); err != nil {
		t.Fatalf("the same number for another account: %v", err)
	}
	if got, err := db.FindSafeNumber(f.ctx, f.account.Sid, n.PhoneNumber); err != nil || got.Sid != n.Sid || !got.DateCreated.Equal(t0) {
		t.Fatalf("find: %+v, %v", got, err)
	}
	if err := db.RemoveSafeNumber(f.ctx, g.account.Sid, n.PhoneNumber); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindSafeNumber(f.ctx, g.account.Sid, n.PhoneNumber); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("after removal: %v", err)
	}
	if _, err := db.FindSafeNumber(f.ctx, f.account.Sid, n.PhoneNumber); err != nil {
		t.Fatalf("the other account's removal took mine: %v", err)
	}
	if err := db.RemoveSafeNumber(f.ctx, g.account.Sid, n.PhoneNumber); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("second removal: %v", err)
	}
}

// testTakeRates: TakeRates finds the buckets of the named rate limits
// (on PostgreSQL in the statement that takes their units), ignores names
// that are no rate limit and limits without buckets, counts exactly under
// parallel takes, and says which bucket refused and for how long, with
// nothing taken from the buckets that had room.
func testTakeRates(t *testing.T, db *DB) {
	f := setup(t, db)
	rl, minute := f.newRateLimit("phone", 3, 60)
	hour := f.newBucket(rl, 5, 3600)
	empty := &verify.RateLimit{Sid: newSid(t, verify.PrefixRateLimit), AccountSid: f.account.Sid, ServiceSid: f.service.Sid,
		UniqueName: "ip", DateCreated: t0, DateUpdated: t0}
	if err := db.CreateRateLimit(f.ctx, empty); err != nil {
		t.Fatal(err)
	}
	values := []verify.RateValue{{Limit: "ip", Key: "k-ip"}, {Limit: "nobody", Key: "k-x"}, {Limit: "phone", Key: "k1"}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 12 {
		wg.Go(func() {
			err := db.Tx(f.ctx, func(st verify.Store) error {
				r, err := st.TakeRates(f.ctx, f.service.Sid, values, t0)
				if err == nil && len(r) > 0 {
					return verify.Errorf(verify.ETooManyRequests, "refused")
				}
				return err
			})
			switch {
			case err == nil:
				mu.Lock()
				admitted++
				mu.Unlock()
			case !verify.IsCode(err, verify.ETooManyRequests):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if admitted != 3 {
		t.Fatalf("%d of 12 parallel takes admitted by a bucket of 3 a minute", admitted)
	}
	// Three at t0: the minute bucket has its next unit at 20 s (60 s / 3),
	// the hour bucket (720 s a unit) two of five left.
	r, err := db.TakeRates(f.ctx, f.service.Sid, values, t0.Add(10*time.Second))
	if err != nil || len(r) != 1 || r[0].Take.Bucket != minute.Sid || r[0].Take.Limit != "phone" || r[0].After != 10*time.Second {
		t.Fatalf("at 10 s: %+v, %v", r, err)
	}
	// That refusal took nothing (no transaction here, and still it
	// counts nowhere): the hour bucket has two units left, at 20 s and at
	// 40 s; at 60 s it refuses until its next unit at 720 s.
	for _, at := range []time.Duration{20 * time.Second, 40 * time.Second} {
		if r, err = db.TakeRates(f.ctx, f.service.Sid, values, t0.Add(at)); err != nil || r != nil {
			t.Fatalf("at %v: %+v, %v", at, r, err)
		}
	}
	r, err = db.TakeRates(f.ctx, f.service.Sid, values, t0.Add(60*time.Second))
	if err != nil || len(r) != 1 || r[0].Take.Bucket != hour.Sid || r[0].After != 660*time.Second {
		t.Fatalf("at 60 s: %+v, %v", r, err)
	}
	// Another value, and another service's rate limit of the same name,
	// count on their own.
	if r, err := db.TakeRates(f.ctx, f.service.Sid, []verify.RateValue{{Limit: "phone", Key: "k2"}}, t0.Add(100*time.Second)); err != nil || r != nil {
		t.Fatalf("another value: %+v, %v", r, err)
	}
	g := setup(t, db)
	g.newRateLimit("phone", 1, 60)
	if r, err := db.TakeRates(g.ctx, g.service.Sid, values, t0.Add(100*time.Second)); err != nil || r != nil {
		t.Fatalf("another service: %+v, %v", r, err)
	}
	if r, err := db.TakeRates(f.ctx, f.service.Sid, []verify.RateValue{{Limit: "nobody", Key: "k1"}}, t0); err != nil || r != nil {
		t.Fatalf("no such rate limit: %+v, %v", r, err)
	}
}
