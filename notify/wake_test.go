package notify_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify"
)

// TestWaking: the wake comes once per committed write that enqueued a row,
// after the commit (the row is visible to the worker it wakes), and never
// for a rolled-back transaction or one that enqueued nothing.
func TestWaking(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "wake.db"))
	ctx := context.Background()
	var wakes, visible []int
	st := notify.Waking(db, func() {
		wakes = append(wakes, 1)
		rows, err := db.ListOutbox(ctx, verify.OutboxPending, 100)
		if err != nil {
			t.Error(err)
		}
		visible = append(visible, len(rows))
	})
	row := func(id string) *verify.OutboxMessage {
		now := time.Now()
		return &verify.OutboxMessage{ID: id, Kind: verify.OutboxWebhook, Ref: "h", Payload: []byte("p"),
			NextAttempt: now, Deadline: now.Add(time.Hour), DateCreated: now}
	}

	enqueue(t, st, "a", 3) // one transaction, three rows
	if len(wakes) != 1 || visible[0] != 3 {
		t.Fatalf("after a committed Tx of 3 rows: %d wakes, rows visible %v; want 1 wake seeing 3", len(wakes), visible)
	}
	boom := errors.New("boom")
	if err := st.Tx(ctx, func(s verify.Store) error {
		if err := s.EnqueueOutbox(ctx, row("rolled-back")); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := st.Tx(ctx, func(s verify.Store) error {
		_, err := s.CountWebhooks(ctx, "VA00000000000000000000000000000000")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(wakes) != 1 {
		t.Fatalf("a rolled-back Tx or one without rows woke the worker: %d wakes", len(wakes))
	}
	// Nested: the wake waits for the outer commit.
	if err := st.Tx(ctx, func(s verify.Store) error {
		return s.Tx(ctx, func(s verify.Store) error { return s.EnqueueOutbox(ctx, row("nested")) })
	}); err != nil {
		t.Fatal(err)
	}
	if ran, err := st.TryLock(ctx, "wake-test", func(s verify.Store) error { return s.EnqueueOutbox(ctx, row("locked")) }); !ran || err != nil {
		t.Fatal(ran, err)
	}
	if err := st.EnqueueOutbox(ctx, row("alone")); err != nil {
		t.Fatal(err)
	}
	if len(wakes) != 4 || visible[1] != 4 || visible[2] != 5 || visible[3] != 6 {
		t.Fatalf("nested Tx, TryLock, lone enqueue: %d wakes seeing %v rows; want 4 seeing 3, 4, 5, 6", len(wakes), visible)
	}
}

// TestWakingWorker: with the worker's poll an hour away, a row enqueued
// through Waking is delivered at once.
func TestWakingWorker(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "wake.db"))
	r := &recorder{}
	w := newWorker(db, r)
	w.Poll = time.Hour
	run(t, w)
	time.Sleep(50 * time.Millisecond) // the worker's first claim has found nothing and waits
	enqueue(t, notify.Waking(db, w.Wake), "w", 2)
	waitStatus(t, db, verify.OutboxDelivered, 2, 5*time.Second)
}
