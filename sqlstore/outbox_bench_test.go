package sqlstore_test

import (
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// BenchmarkOutboxClaim is one claim of 16 rows, as the delivery worker
// makes it under load: with a backlog of 2,000 due rows behind them, and
// 2,000 settled rows beside. Topping the backlog up is not timed.
func BenchmarkOutboxClaim(b *testing.B) {
	forEachBackend(b, func(b *testing.B, f *storeFixture) {
		enqueue := func(n int) {
			for range n {
				id := string(benchSid(b, "XX"))
				check(b, f.db.EnqueueOutbox(f.ctx, &verify.OutboxMessage{ID: id, Kind: verify.OutboxWebhook, Ref: "YW" + id,
					Payload: []byte(`{"p":1}`), NextAttempt: f.now, Deadline: f.now.Add(time.Hour), DateCreated: f.now}))
			}
		}
		enqueue(2000)
		msgs, err := f.db.ClaimOutbox(f.ctx, f.now, time.Minute, 2000)
		check(b, err)
		for _, m := range msgs {
			_, err := f.db.SettleOutbox(f.ctx, m.ID, m.Claim, verify.OutboxOutcome{Status: verify.OutboxDelivered, Now: f.now})
			check(b, err)
		}
		enqueue(2000)
		for b.Loop() {
			b.StopTimer()
			enqueue(16)
			b.StartTimer()
			msgs, err := f.db.ClaimOutbox(f.ctx, f.now.Add(time.Second), time.Minute, 16)
			check(b, err)
			if len(msgs) != 16 {
				b.Fatalf("claimed %d rows, want 16", len(msgs))
			}
		}
	})
}
