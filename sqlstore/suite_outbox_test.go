package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

func newOutbox(t *testing.T, db *DB, id string, due time.Time) *verify.OutboxMessage {
	t.Helper()
	m := &verify.OutboxMessage{ID: id, Kind: verify.OutboxWebhook, Ref: "YW" + id, Payload: []byte("p " + id),
		NextAttempt: due, Deadline: due.Add(time.Hour), DateCreated: due}
	if err := db.EnqueueOutbox(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// testOutbox: a claim returns only due pending rows, hides them for the
// lease, and returns them after it; a settle needs the current claim; a
// Tx that fails enqueues nothing; pruning keeps pending and recent rows.
func testOutbox(t *testing.T, db *DB) {
	ctx := context.Background()
	now := t0
	a := newOutbox(t, db, "a", now)
	newOutbox(t, db, "later", now.Add(time.Minute))
	// A row enqueued in a transaction that fails is not there.
	err := db.Tx(ctx, func(st verify.Store) error {
		if err := st.EnqueueOutbox(ctx, &verify.OutboxMessage{ID: "rolled", Kind: verify.OutboxWebhook,
			NextAttempt: now, Deadline: now, DateCreated: now}); err != nil {
			return err
		}
		return errors.New("fail")
	})
	if err == nil {
		t.Fatal("Tx error lost")
	}
	// A duplicate ID is refused.
	if err := db.EnqueueOutbox(ctx, &verify.OutboxMessage{ID: "a", Kind: verify.OutboxWebhook, NextAttempt: now, Deadline: now, DateCreated: now}); err == nil {
		t.Fatal("duplicate outbox ID stored")
	}

	got, err := db.ClaimOutbox(ctx, now, 30*time.Second, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "a" || got[0].Attempts != 1 || got[0].Claim == "" ||
		string(got[0].Payload) != "p a" || got[0].Ref != a.Ref || !got[0].Deadline.Equal(a.Deadline) {
		t.Fatalf("first claim: %+v", got)
	}
	first := got[0].Claim
	// Hidden during the lease.
	if got, err := db.ClaimOutbox(ctx, now.Add(29*time.Second), 30*time.Second, 10); err != nil || len(got) != 0 {
		t.Fatalf("claim during lease: %+v, %v", got, err)
	}
	// After the lease the row (and the later one, now due) come back, with
	// a new claim; the old claim can no longer settle.
	got, err = db.ClaimOutbox(ctx, now.Add(time.Minute), 10*time.Minute, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim after lease: %+v, %v", got, err)
	}
	var second string
	for _, m := range got {
		if m.ID == "a" {
			second = m.Claim
			if m.Attempts != 2 {
				t.Fatalf("attempts after two claims: %d", m.Attempts)
			}
		}
	}
	if second == "" || second == first {
		t.Fatalf("claim tokens %q, %q", first, second)
	}
	at := now.Add(time.Minute + time.Second)
	if ok, err := db.SettleOutbox(ctx, "a", first, verify.OutboxOutcome{Status: verify.OutboxDelivered, Now: at}); err != nil || ok {
		t.Fatalf("settle with a stale claim: %v, %v", ok, err)
	}
	// A retry makes it due at the given time.
	retry := verify.OutboxOutcome{Status: verify.OutboxPending, NextAttempt: now.Add(2 * time.Minute), LastError: "HTTP 503", Now: at}
	if ok, err := db.SettleOutbox(ctx, "a", second, retry); err != nil || !ok {
		t.Fatalf("settle retry: %v, %v", ok, err)
	}
	if got, _ := db.ClaimOutbox(ctx, now.Add(2*time.Minute-time.Millisecond), time.Second, 10); len(got) != 0 {
		t.Fatalf("claimed before its retry time: %+v", got)
	}
	got, err = db.ClaimOutbox(ctx, now.Add(2*time.Minute), 30*time.Second, 10)
	if err != nil || len(got) != 1 || got[0].ID != "a" || got[0].LastError != "HTTP 503" || got[0].Attempts != 3 {
		t.Fatalf("claim after retry: %+v, %v", got, err)
	}
	done := now.Add(2*time.Minute + time.Second)
	if ok, err := db.SettleOutbox(ctx, "a", got[0].Claim, verify.OutboxOutcome{Status: verify.OutboxDelivered, Now: done}); err != nil || !ok {
		t.Fatalf("settle delivered: %v, %v", ok, err)
	}
	// Settled twice: the second finds nothing pending.
	if ok, _ := db.SettleOutbox(ctx, "a", got[0].Claim, verify.OutboxOutcome{Status: verify.OutboxDead, Now: done}); ok {
		t.Fatal("a delivered row settled again")
	}
	if got, _ := db.ClaimOutbox(ctx, now.Add(time.Hour), time.Second, 10); len(got) != 1 || got[0].ID != "later" {
		t.Fatalf("a delivered row was claimed: %+v", got)
	}

	list, err := db.ListOutbox(ctx, verify.OutboxDelivered, 10)
	if err != nil || len(list) != 1 || list[0].ID != "a" || list[0].Status != verify.OutboxDelivered || !list[0].DateUpdated.Equal(done) {
		t.Fatalf("list delivered: %+v, %v", list, err)
	}
	if list, _ := db.ListOutbox(ctx, "", 10); len(list) != 2 {
		t.Fatalf("list all: %d rows", len(list))
	}
	// Pruning deletes settled rows older than the cut only.
	if n, err := db.PruneOutbox(ctx, done, 10); err != nil || n != 0 {
		t.Fatalf("prune at the update time: %d, %v", n, err)
	}
	if n, err := db.PruneOutbox(ctx, done.Add(time.Millisecond), 10); err != nil || n != 1 {
		t.Fatalf("prune after: %d, %v", n, err)
	}
	if list, _ := db.ListOutbox(ctx, "", 10); len(list) != 1 || list[0].ID != "later" {
		t.Fatalf("after prune: %+v", list)
	}
}

// testOutboxClaimRace: parallel claimers each get disjoint rows, and
// together all of them.
func testOutboxClaimRace(t *testing.T, db *DB) {
	ctx := context.Background()
	const n = 200
	err := db.Tx(ctx, func(st verify.Store) error {
		for i := range n {
			if err := st.EnqueueOutbox(ctx, &verify.OutboxMessage{ID: fmt.Sprintf("m%03d", i), Kind: verify.OutboxWebhook,
				NextAttempt: t0, Deadline: t0.Add(time.Hour), DateCreated: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				got, err := db.ClaimOutbox(ctx, t0, time.Minute, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("%d rows claimed, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("row %s claimed %d times", id, c)
		}
	}
}

// testOutboxHasten: HastenOutbox makes due at now exactly the pending rows
// of its ref that wait past now and are not under way; other refs, rows
// under a claim, settled rows and rows due already are left as they were.
func testOutboxHasten(t *testing.T, db *DB) {
	ctx := context.Background()
	now := t0
	mk := func(id, ref string, due time.Time) {
		if err := db.EnqueueOutbox(ctx, &verify.OutboxMessage{ID: id, Kind: verify.OutboxWebhook, Ref: ref,
			Payload: []byte("p"), NextAttempt: due, Deadline: due.Add(time.Hour), DateCreated: now}); err != nil {
			t.Fatal(err)
		}
	}
	mk("w1", "YWa", now.Add(5*time.Minute))
	mk("w2", "YWa", now.Add(30*time.Minute))
	mk("due", "YWa", now.Add(-time.Second))
	mk("other", "YWb", now.Add(5*time.Minute))
	mk("busy", "YWa", now.Add(-2*time.Second))
	mk("done", "YWa", now.Add(-3*time.Second))
	// "busy" and "done" are claimed (the earliest due rows); "done" settles.
	got, err := db.ClaimOutbox(ctx, now, time.Minute, 2)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim: %+v, %v", got, err)
	}
	for _, m := range got {
		if m.ID == "done" {
			if ok, err := db.SettleOutbox(ctx, m.ID, m.Claim, verify.OutboxOutcome{Status: verify.OutboxDelivered, Now: now}); !ok || err != nil {
				t.Fatalf("settle: %v %v", ok, err)
			}
		}
	}
	n, err := db.HastenOutbox(ctx, "YWa", now)
	if err != nil || n != 2 {
		t.Fatalf("hasten: %d rows, %v; want 2 (w1, w2)", n, err)
	}
	due, err := db.ClaimOutbox(ctx, now, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range due {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"due", "w1", "w2"}) {
		t.Fatalf("due after hastening: %v, want due, w1, w2", ids)
	}
}
