package notify

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/verifyd/verify"
)

// Worker delivers outbox rows. Run it on every node: on PostgreSQL the
// claims of several nodes are disjoint (FOR UPDATE SKIP LOCKED), and on
// SQLite there is one server per database file, hence one Worker.
//
// Each claimed row holds one of Concurrency slots while its attempt runs,
// and no attempt runs longer than AttemptTimeout, so a receiver that hangs
// costs one slot for that long and never stops the rest of the queue. A
// claim hides its rows for Lease, longer than an attempt, after which a row
// whose node died comes due again; a node that comes back late cannot
// record its outcome over a newer claim's (SettleOutbox compares the claim
// token). So a row is sent more than once only if a node dies, or stalls
// past the lease, between sending and recording; receivers deduplicate by
// the row's ID (a webhook's uuid).
type Worker struct {
	Store   verify.OutboxStore
	Senders map[verify.OutboxKind]Sender
	Logger  *slog.Logger
	Now     func() time.Time
	// Jitter returns a random duration in [0, d); nil uses math/rand/v2.
	Jitter func(d time.Duration) time.Duration

	// Schedule is the delay before each retry; nil is DefaultSchedule.
	// A row is dead after len(Schedule)+1 attempts or at its deadline,
	// whichever comes first.
	Schedule []time.Duration
	// Schedules, if it has the row's kind, replaces Schedule for that
	// kind: a push row lives at most 300 s, so the webhook schedule would
	// give it two attempts (see PushSchedule).
	Schedules map[verify.OutboxKind][]time.Duration
	// Zero values take the defaults below.
	Concurrency    int           // attempts running at once; 16
	AttemptTimeout time.Duration // per attempt; 20 s (a webhook's own limit is 15 s)
	Lease          time.Duration // how long a claim hides its rows; 2 min
	Poll           time.Duration // how often to look for due rows when idle; 1 s
	Retention      time.Duration // how long delivered and dead rows are kept; 7 days
	// Gap is the least time between two claims unless the last one filled
	// every free slot (a backlog); 5 ms. A claim is a write: without the
	// gap, a server under load claims once per commit that enqueued (the
	// commit wakes the worker) and once per finished attempt, a row or two
	// at a time, and the claims cost more of the single SQLite writer than
	// the requests that caused them. With it, rows gather for up to 5 ms
	// and leave together.
	Gap time.Duration
	// Observe, if set, is told of every attempt whose outcome was
	// recorded: its kind, outcome (delivered, pending for a retry, dead)
	// and how long the attempt took. Metrics count them.
	Observe func(kind verify.OutboxKind, outcome verify.OutboxStatus, d time.Duration)

	wakeOnce sync.Once
	wake     chan struct{}

	// failing holds the webhooks (row Ref) with a row waiting for a retry
	// since this worker's last success with them: see hasten.
	mu      sync.Mutex
	failing map[string]bool
}

func (w *Worker) concurrency() int { return orInt(w.Concurrency, 16) }
func (w *Worker) attemptTimeout() time.Duration {
	return orDur(w.AttemptTimeout, 20*time.Second)
}
func (w *Worker) lease() time.Duration     { return orDur(w.Lease, 2*time.Minute) }
func (w *Worker) poll() time.Duration      { return orDur(w.Poll, time.Second) }
func (w *Worker) retention() time.Duration { return orDur(w.Retention, 7*24*time.Hour) }
func (w *Worker) gap() time.Duration       { return orDur(w.Gap, 5*time.Millisecond) }
func (w *Worker) schedule(kind verify.OutboxKind) []time.Duration {
	if s, ok := w.Schedules[kind]; ok {
		return s
	}
	if w.Schedule == nil {
		return DefaultSchedule
	}
	return w.Schedule
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

func (w *Worker) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	if w.Jitter != nil {
		return w.Jitter(d)
	}
	return rand.N(d)
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDur(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

func (w *Worker) wakeCh() chan struct{} {
	w.wakeOnce.Do(func() { w.wake = make(chan struct{}, 1) })
	return w.wake
}

// Wake makes a waiting Run look for due rows now rather than at its next
// poll; call it after committing a change that enqueued a row. It never
// blocks.
func (w *Worker) Wake() {
	select {
	case w.wakeCh() <- struct{}{}:
	default:
	}
}

// pruneEvery is how often Run deletes rows past their retention, and
// pruneBatch how many one statement deletes.
const (
	pruneEvery = time.Minute
	pruneBatch = 500
)

// Run delivers due rows until ctx ends, then waits for the attempts under
// way (each bounded by AttemptTimeout) and returns nil. Store errors are
// logged and retried at the next poll: the database may come back.
func (w *Worker) Run(ctx context.Context) error {
	slots := make(chan struct{}, w.concurrency())
	freed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	var lastPrune, lastClaim time.Time
	backlog := false
	for {
		if ctx.Err() != nil {
			return nil
		}
		if now := w.Now(); now.Sub(lastPrune) >= pruneEvery {
			lastPrune = now
			w.prune(ctx, now)
		}
		free := cap(slots) - len(slots)
		full := false
		if free > 0 && !backlog {
			// Real time, not Now: this paces the writer, whatever the clock.
			if wait := w.gap() - time.Since(lastClaim); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
				free = cap(slots) - len(slots)
			}
		}
		if free > 0 && ctx.Err() == nil {
			lastClaim = time.Now()
			msgs, err := w.Store.ClaimOutbox(ctx, w.Now(), w.lease(), free)
			if err != nil && ctx.Err() == nil {
				w.logger().Error("outbox claim failed", "err", err)
			}
			for _, m := range msgs {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() {
						<-slots
						select {
						case freed <- struct{}{}:
						default:
						}
					}()
					w.deliver(ctx, m)
				})
			}
			// A full claim may have left more due rows behind.
			full = err == nil && len(msgs) == free
			// A backlog is a full claim of at least half the slots: one
			// or two rows filling the slot or two that an attempt freed
			// say nothing about the rows behind them.
			backlog = full && free >= cap(slots)/2
		}
		if full && len(slots) < cap(slots) {
			continue
		}
		t := time.NewTimer(w.poll())
		select {
		case <-ctx.Done():
		case <-w.wakeCh():
		case <-freed:
		case <-t.C:
		}
		t.Stop()
	}
}

// prune deletes settled rows older than the retention.
func (w *Worker) prune(ctx context.Context, now time.Time) {
	for ctx.Err() == nil {
		n, err := w.Store.PruneOutbox(ctx, now.Add(-w.retention()), pruneBatch)
		if err != nil {
			w.logger().Error("outbox prune failed", "err", err)
			return
		}
		if n < pruneBatch {
			return
		}
	}
}

// hasten follows a webhook's health. A failure that will be retried marks
// the webhook failing; the next success with a failing webhook means its
// receiver is back, and its other waiting rows are made due now rather
// than at the end of their backoff: after a one-minute outage most rows
// have failed twice and would wait 5 more minutes (4 to 6 with jitter).
// The mark is this worker's: on PostgreSQL another node's success does
// not clear it, and a restart forgets it (the rows then keep their
// schedule, as before).
func (w *Worker) hasten(ctx context.Context, ref string, o verify.OutboxOutcome) {
	w.mu.Lock()
	was := w.failing[ref]
	switch o.Status {
	case verify.OutboxPending:
		if w.failing == nil {
			w.failing = map[string]bool{}
		}
		w.failing[ref] = true
	case verify.OutboxDelivered:
		delete(w.failing, ref)
	}
	w.mu.Unlock()
	if !was || o.Status != verify.OutboxDelivered {
		return
	}
	n, err := w.Store.HastenOutbox(ctx, ref, o.Now)
	if err != nil {
		w.logger().Error("outbox: receiver back, but its waiting rows kept their schedule", "ref", ref, "err", err)
		return
	}
	if n > 0 {
		w.logger().Info("outbox: receiver back, its waiting rows are due now", "ref", ref, "rows", n)
		w.Wake()
	}
}

// maxErrorLen bounds the error text stored on a row.
const maxErrorLen = 300

// deliver makes one attempt at m and records its outcome. The attempt has
// its own timeout; the outcome is recorded even if ctx ended meanwhile,
// so that a stopping node does not leave a sent row to be sent again.
func (w *Worker) deliver(ctx context.Context, m *verify.OutboxMessage) {
	msg := Message{ID: m.ID, Kind: m.Kind, Ref: m.Ref, Payload: m.Payload, Attempt: m.Attempts, Deadline: m.Deadline}
	start := w.Now()
	var err error
	if s, ok := w.Senders[m.Kind]; ok {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.attemptTimeout())
		err = s.Send(actx, msg)
		cancel()
	} else {
		// Perhaps a newer node, sharing the database, knows the kind.
		err = fmt.Errorf("no sender for kind %q", m.Kind)
	}
	now := w.Now()
	o := verify.OutboxOutcome{Status: verify.OutboxDelivered, Now: now}
	if err != nil {
		o.LastError = err.Error()
		if len(o.LastError) > maxErrorLen {
			o.LastError = o.LastError[:maxErrorLen]
		}
		o.Status = verify.OutboxDead
		if sched := w.schedule(m.Kind); !IsPermanent(err) && m.Attempts <= len(sched) {
			d := sched[m.Attempts-1]
			d += w.jitter(d / 5)
			d = max(d, retryAfter(err))
			if next := now.Add(d); !next.After(m.Deadline) {
				o.Status, o.NextAttempt = verify.OutboxPending, next
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	ok, serr := w.Store.SettleOutbox(sctx, m.ID, m.Claim, o)
	if serr == nil && ok && m.Kind == verify.OutboxWebhook {
		w.hasten(sctx, m.Ref, o)
	}
	if d, isDeader := w.Senders[m.Kind].(Deader); serr == nil && ok && o.Status == verify.OutboxDead && isDeader {
		d.Dead(sctx, msg, err)
	}
	cancel()
	if serr == nil && ok && w.Observe != nil {
		w.Observe(m.Kind, o.Status, now.Sub(start))
	}
	attrs := []any{"kind", m.Kind, "id", m.ID, "ref", m.Ref, "attempt", m.Attempts,
		"outcome", o.Status, "duration_ms", now.Sub(start).Milliseconds()}
	if err != nil {
		attrs = append(attrs, "err", o.LastError)
	}
	if o.Status == verify.OutboxPending {
		attrs = append(attrs, "next_attempt", o.NextAttempt)
	}
	switch {
	case serr != nil:
		w.logger().Error("outbox attempt not recorded", append(attrs, "store_err", serr)...)
	case !ok:
		w.logger().Warn("outbox attempt not recorded: claimed again meanwhile", attrs...)
	case o.Status == verify.OutboxDead:
		if m.Kind == verify.OutboxWebhook {
			// Twilio's code for a failed webhook (delivery.md §2.5).
			attrs = append(attrs, "code", verify.EWebhookFailed)
		}
		w.logger().Error("outbox delivery dead", attrs...)
	case err != nil:
		w.logger().Warn("outbox attempt failed", attrs...)
	default:
		w.logger().Info("outbox delivered", attrs...)
	}
}
