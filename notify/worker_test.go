package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/sqlstore"
)

var testKey = bytes.Repeat([]byte{0x5a}, 32)

func open(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn, testKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// enqueue writes n webhook rows due now, named prefix0000 on, in one Tx.
func enqueue(t *testing.T, db verify.Store, prefix string, n int) {
	t.Helper()
	now := time.Now()
	err := db.Tx(context.Background(), func(st verify.Store) error {
		for i := range n {
			if err := st.EnqueueOutbox(context.Background(), &verify.OutboxMessage{
				ID: fmt.Sprintf("%s%04d", prefix, i), Kind: verify.OutboxWebhook, Ref: prefix,
				Payload: []byte("payload"), NextAttempt: now, Deadline: now.Add(time.Hour), DateCreated: now,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// recorder is a Sender that counts deliveries by ID.
type recorder struct {
	mu    sync.Mutex
	seen  map[string][]notify.Message
	fn    func(m notify.Message, n int) error // decides each attempt; nil succeeds
	total int
}

func (r *recorder) Send(ctx context.Context, m notify.Message) error {
	r.mu.Lock()
	if r.seen == nil {
		r.seen = map[string][]notify.Message{}
	}
	r.seen[m.ID] = append(r.seen[m.ID], m)
	n := len(r.seen[m.ID])
	r.total++
	r.mu.Unlock()
	if r.fn != nil {
		return r.fn(m, n)
	}
	return nil
}

func (r *recorder) count() (ids, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen), r.total
}

// run starts w until the test ends.
func run(t *testing.T, w *notify.Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func newWorker(db verify.OutboxStore, s notify.Sender) *notify.Worker {
	return &notify.Worker{Store: db, Senders: map[verify.OutboxKind]notify.Sender{verify.OutboxWebhook: s},
		Now: time.Now, Poll: 20 * time.Millisecond}
}

// waitStatus waits until n rows have status st, or fails after d.
func waitStatus(t *testing.T, db verify.OutboxStore, st verify.OutboxStatus, n int, d time.Duration) []*verify.OutboxMessage {
	t.Helper()
	end := time.Now().Add(d)
	for {
		rows, err := db.ListOutbox(context.Background(), st, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == n {
			return rows
		}
		if time.Now().After(end) {
			t.Fatalf("%d rows %s after %v, want %d", len(rows), st, d, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWorkerDeliversOnce: every row reaches the sender once and ends
// delivered.
func TestWorkerDeliversOnce(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		enqueue(t, db, "m", 100)
		r := &recorder{}
		run(t, newWorker(db, r))
		waitStatus(t, db, verify.OutboxDelivered, 100, 10*time.Second)
		if ids, total := r.count(); ids != 100 || total != 100 {
			t.Fatalf("%d IDs in %d sends, want 100 in 100", ids, total)
		}
	})
}

// TestWorkerRetries: a failed attempt is retried after the schedule's
// delay with the same ID; a permanent failure and an exhausted schedule
// end dead with the error kept; a row of a kind without sender is not
// lost but retried.
func TestWorkerRetries(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		enqueue(t, db, "flaky", 1)
		enqueue(t, db, "perm", 1)
		enqueue(t, db, "down", 1)
		r := &recorder{fn: func(m notify.Message, n int) error {
			switch {
			case m.Ref == "flaky" && n == 1:
				return errors.New("HTTP 503")
			case m.Ref == "perm":
				return notify.Permanent(errors.New("HTTP 400"))
			case m.Ref == "down":
				return errors.New("connection refused")
			}
			return nil
		}}
		w := newWorker(db, r)
		var logs syncBuffer
		w.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		w.Schedule = []time.Duration{200 * time.Millisecond, 200 * time.Millisecond}
		w.Jitter = func(d time.Duration) time.Duration { return d - 1 }
		run(t, w)
		dead := waitStatus(t, db, verify.OutboxDead, 2, 10*time.Second)
		delivered := waitStatus(t, db, verify.OutboxDelivered, 1, 10*time.Second)
		if delivered[0].ID != "flaky0000" || delivered[0].Attempts != 2 {
			t.Fatalf("delivered: %+v", delivered[0])
		}
		r.mu.Lock()
		flaky := r.seen["flaky0000"]
		if len(flaky) != 2 || flaky[0].Attempt != 1 || flaky[1].Attempt != 2 {
			t.Fatalf("flaky attempts: %+v", flaky)
		}
		if n := len(r.seen["perm0000"]); n != 1 {
			t.Fatalf("permanent failure tried %d times", n)
		}
		if n := len(r.seen["down0000"]); n != 3 {
			t.Fatalf("failing row tried %d times, want 1 + len(Schedule)", n)
		}
		r.mu.Unlock()
		// One line per attempt: 2 for flaky, 1 for perm, 3 for down; the
		// dead ones carry Twilio's 60330. A line is written after its
		// outcome is stored, so the last one may still be on its way.
		text := logs.String()
		for end := time.Now().Add(5 * time.Second); strings.Count(text, "msg=\"outbox delivery dead\"") < 2 && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
			text = logs.String()
		}
		if n := strings.Count(text, "msg=\"outbox delivery dead\""); n != 2 || strings.Count(text, "code=60330") != 2 {
			t.Fatalf("dead lines: %d\n%s", n, text)
		}
		if n := strings.Count(text, "msg=\"outbox attempt failed\""); n != 3 || strings.Count(text, "msg=\"outbox delivered\"") != 1 {
			t.Fatalf("attempt lines:\n%s", text)
		}
		if strings.Contains(text, "payload") {
			t.Fatalf("payload logged:\n%s", text)
		}
		for _, m := range dead {
			if (m.ID == "perm0000" && m.LastError != "HTTP 400") || (m.ID == "down0000" && m.LastError != "connection refused") {
				t.Fatalf("dead row %s: last error %q", m.ID, m.LastError)
			}
		}
	})
}

// TestWorkerReceiverBack: rows that failed twice during an outage wait
// 30 minutes on the schedule, until the receiver answers again (here a new
// event, on its first attempt): then they are made due and delivered at
// once. Another webhook's waiting rows keep their schedule.
func TestWorkerReceiverBack(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		var down atomic.Bool
		down.Store(true)
		r := &recorder{fn: func(m notify.Message, n int) error {
			if down.Load() || m.Ref == "other" {
				return errors.New("HTTP 503")
			}
			return nil
		}}
		w := newWorker(db, r)
		w.Schedule = []time.Duration{100 * time.Millisecond, 30 * time.Minute} // within the rows' hour
		w.Jitter = func(time.Duration) time.Duration { return 0 }
		run(t, w)
		enqueue(t, db, "hook", 20)
		enqueue(t, db, "other", 1)
		for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, total := r.count(); total == 42 {
				break
			}
			if time.Now().After(end) {
				_, total := r.count()
				t.Fatalf("%d attempts during the outage, want 42 (21 rows, twice)", total)
			}
		}
		down.Store(false)
		enqueue(t, db, "hook-new", 1) // a Ref of its own: not hastened by itself
		waitStatus(t, db, verify.OutboxDelivered, 1, 5*time.Second)
		// The new row's success is with another Ref: the outage's rows wait.
		time.Sleep(200 * time.Millisecond)
		if rows, _ := db.ListOutbox(context.Background(), verify.OutboxDelivered, 100); len(rows) != 1 {
			t.Fatalf("%d delivered, want only the new row", len(rows))
		}
		// A success with "hook" itself: its waiting rows follow at once.
		err := db.Tx(context.Background(), func(st verify.Store) error {
			now := time.Now()
			return st.EnqueueOutbox(context.Background(), &verify.OutboxMessage{ID: "hook-back", Kind: verify.OutboxWebhook,
				Ref: "hook", Payload: []byte("p"), NextAttempt: now, Deadline: now.Add(time.Hour), DateCreated: now})
		})
		if err != nil {
			t.Fatal(err)
		}
		waitStatus(t, db, verify.OutboxDelivered, 22, 5*time.Second)
		pending := waitStatus(t, db, verify.OutboxPending, 1, time.Second)
		if pending[0].Ref != "other" || pending[0].Attempts != 2 {
			t.Fatalf("still pending: %+v", pending[0])
		}
	})
}

// TestWorkerSchedulePerKind: a push row failing with a retryable error is
// retried on the push schedule, to its end, while a webhook row failing
// the same way waits out the webhook schedule's first delay.
func TestWorkerSchedulePerKind(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		enqueue(t, db, "hook", 1)
		now := time.Now()
		if err := db.EnqueueOutbox(context.Background(), &verify.OutboxMessage{ID: "push0000", Kind: verify.OutboxPush,
			Ref: "push", Payload: []byte("{}"), NextAttempt: now, Deadline: now.Add(time.Minute), DateCreated: now}); err != nil {
			t.Fatal(err)
		}
		r := &recorder{fn: func(notify.Message, int) error { return errors.New("HTTP 503") }}
		w := newWorker(db, r)
		w.Senders[verify.OutboxPush] = r
		w.Schedule = []time.Duration{10 * time.Minute} // within enqueue's hour
		w.Schedules = map[verify.OutboxKind][]time.Duration{verify.OutboxPush: {20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond}}
		w.Jitter = func(time.Duration) time.Duration { return 0 }
		run(t, w)
		dead := waitStatus(t, db, verify.OutboxDead, 1, 10*time.Second)
		if dead[0].ID != "push0000" || dead[0].Attempts != 4 {
			t.Fatalf("dead: %+v, want push0000 after 1 + len(push schedule) attempts", dead[0])
		}
		pending := waitStatus(t, db, verify.OutboxPending, 1, 5*time.Second)
		if p := pending[0]; p.ID != "hook0000" || p.Attempts != 1 || p.NextAttempt.Before(now.Add(9*time.Minute)) {
			t.Fatalf("webhook row: %+v, want one attempt and the next 10 min on", p)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		push := r.seen["push0000"]
		for i := 1; i < len(push); i++ {
			if push[i].Attempt != i+1 {
				t.Fatalf("push attempt %d numbered %d", i+1, push[i].Attempt)
			}
		}
		if n := len(r.seen["hook0000"]); n != 1 {
			t.Fatalf("webhook row tried %d times, want 1", n)
		}
	})
}

// TestWorkerPushSchedule: PushSchedule, with its maximum jitter and the
// attempts' own time, fits in a push row's life of at most 300 s, and
// gives it more attempts than the webhook schedule would.
func TestWorkerPushSchedule(t *testing.T) {
	now := time.Unix(1764748800, 0)
	if d := notify.Deadline(now, notify.PushSchedule).Sub(now); d > 300*time.Second {
		t.Fatalf("push schedule needs %v, more than 300 s", d)
	}
	if n := len(notify.PushSchedule); n < 5 {
		t.Fatalf("%d push retries", n)
	}
	if notify.DefaultSchedule[0]+notify.DefaultSchedule[1] < 300*time.Second {
		t.Fatalf("the webhook schedule changed: %v", notify.DefaultSchedule)
	}
}

// TestWorkerDeadline: a retry that would fall after the row's deadline
// makes it dead instead.
func TestWorkerDeadline(t *testing.T) {
	db := open(t, verifytest.DSN(t, verifytest.SQLite))
	now := time.Now()
	if err := db.EnqueueOutbox(context.Background(), &verify.OutboxMessage{ID: "x", Kind: verify.OutboxWebhook,
		NextAttempt: now, Deadline: now.Add(time.Second), DateCreated: now}); err != nil {
		t.Fatal(err)
	}
	r := &recorder{fn: func(notify.Message, int) error { return errors.New("timeout") }}
	w := newWorker(db, r)
	w.Schedule = []time.Duration{time.Hour}
	run(t, w)
	waitStatus(t, db, verify.OutboxDead, 1, 5*time.Second)
	if _, total := r.count(); total != 1 {
		t.Fatalf("%d attempts, want 1", total)
	}
}

// TestWorkerSlowSender: rows whose sender hangs until the attempt timeout
// take a slot each and no more: the other rows are delivered meanwhile.
func TestWorkerSlowSender(t *testing.T) {
	db := open(t, verifytest.DSN(t, verifytest.SQLite))
	enqueue(t, db, "slow", 2)
	release := make(chan struct{})
	defer close(release)
	r := &recorder{fn: func(m notify.Message, n int) error { return nil }}
	slow := notify.SenderFunc(func(ctx context.Context, m notify.Message) error {
		if m.Ref == "slow" {
			<-ctx.Done()
			return ctx.Err()
		}
		return r.Send(ctx, m)
	})
	w := newWorker(db, slow)
	w.Concurrency = 4
	w.AttemptTimeout = 5 * time.Second
	run(t, w)
	time.Sleep(100 * time.Millisecond) // the slow rows are claimed first
	enqueue(t, db, "fast", 50)
	start := time.Now()
	waitStatus(t, db, verify.OutboxDelivered, 50, 3*time.Second)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("fast rows took %v behind hanging ones", d)
	}
}

// TestWorkerAfterRestart: rows enqueued by a node that stopped without
// delivering, and rows a dead node had claimed, are delivered by the next
// node: the unclaimed ones at once, the claimed ones when the lease ends.
func TestWorkerAfterRestart(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		first, err := sqlstore.Open(context.Background(), dsn, testKey)
		if err != nil {
			t.Fatal(err)
		}
		enqueue(t, first, "m", 20)
		// The first node claims 5 rows with a 1 s lease, then dies.
		if got, err := first.ClaimOutbox(context.Background(), time.Now(), time.Second, 5); err != nil || len(got) != 5 {
			t.Fatalf("claim: %d, %v", len(got), err)
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		db := open(t, dsn)
		r := &recorder{}
		run(t, newWorker(db, r))
		waitStatus(t, db, verify.OutboxDelivered, 20, 10*time.Second)
		if ids, total := r.count(); ids != 20 || total != 20 {
			t.Fatalf("%d IDs in %d sends", ids, total)
		}
	})
}

// TestWorkerTwoNodes: two nodes, each with its own pool and worker on one
// database, deliver every row exactly once between them.
func TestWorkerTwoNodes(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		a := open(t, dsn)
		b := a
		if sqlstore.IsPostgres(dsn) {
			b = open(t, dsn) // SQLite allows one server per file
		}
		const n = 600
		r := &recorder{}
		wa, wb := newWorker(a, r), newWorker(b, r)
		wa.Concurrency, wb.Concurrency = 8, 8
		run(t, wa)
		run(t, wb)
		for i := range 6 {
			enqueue(t, a, fmt.Sprintf("b%d-", i), n/6)
		}
		waitStatus(t, a, verify.OutboxDelivered, n, 20*time.Second)
		ids, total := r.count()
		if ids != n || total != n {
			t.Fatalf("%d IDs in %d sends, want %d in %d", ids, total, n, n)
		}
	})
}

// TestWorkerPrunes: settled rows past the retention are deleted, pending
// ones are kept.
func TestWorkerPrunes(t *testing.T) {
	db := open(t, verifytest.DSN(t, verifytest.SQLite))
	enqueue(t, db, "old", 3)
	r := &recorder{}
	w := newWorker(db, r)
	run(t, w)
	waitStatus(t, db, verify.OutboxDelivered, 3, 5*time.Second)
	now := time.Now()
	if err := db.EnqueueOutbox(context.Background(), &verify.OutboxMessage{ID: "future", Kind: verify.OutboxWebhook,
		NextAttempt: now.Add(time.Hour), Deadline: now.Add(2 * time.Hour), DateCreated: now}); err != nil {
		t.Fatal(err)
	}
	// A second worker, whose clock is a month ahead, prunes at its start.
	w2 := newWorker(db, r)
	w2.Now = func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_ = w2.Run(ctx)
	rows, err := db.ListOutbox(context.Background(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != "future" {
		t.Fatalf("after prune: %d rows", len(rows))
	}
}

// syncBuffer is a bytes.Buffer safe for the worker's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
