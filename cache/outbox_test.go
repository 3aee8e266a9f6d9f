package cache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestOutboxPassesThrough: the outbox methods reach the database through
// the cache, inside a Tx as outside, and a row enqueued in a Tx that fails
// is rolled back with it.
func TestOutboxPassesThrough(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		ctx := context.Background()
		msg := func(id string) *verify.OutboxMessage {
			return &verify.OutboxMessage{ID: id, Kind: verify.OutboxWebhook, NextAttempt: t0, Deadline: t0.Add(time.Hour), DateCreated: t0}
		}
		w.must(w.c.Tx(ctx, func(st verify.Store) error { return st.EnqueueOutbox(ctx, msg("kept")) }))
		if err := w.c.Tx(ctx, func(st verify.Store) error {
			if err := st.EnqueueOutbox(ctx, msg("rolled back")); err != nil {
				return err
			}
			return errors.New("fail")
		}); err == nil {
			t.Fatal("Tx error lost")
		}
		w.must(w.c.EnqueueOutbox(ctx, msg("outside")))
		got, err := w.c.ClaimOutbox(ctx, t0, time.Minute, 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("claim through the cache: %d rows, %v", len(got), err)
		}
		for _, m := range got {
			if m.ID == "rolled back" {
				t.Fatal("a rolled-back row was claimed")
			}
			ok, err := w.c.SettleOutbox(ctx, m.ID, m.Claim, verify.OutboxOutcome{Status: verify.OutboxDelivered, Now: t0})
			if err != nil || !ok {
				t.Fatalf("settle %s: %v, %v", m.ID, ok, err)
			}
		}
		if rows, err := w.db.ListOutbox(ctx, verify.OutboxDelivered, 10); err != nil || len(rows) != 2 {
			t.Fatalf("delivered in the database: %d, %v", len(rows), err)
		}
		if n, err := w.c.PruneOutbox(ctx, t0.Add(time.Second), 10); err != nil || n != 2 {
			t.Fatalf("prune through the cache: %d, %v", n, err)
		}
	})
}
