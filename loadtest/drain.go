package loadtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Drain is one phase of the outbox-drain workload: events piled up during
// an outage, and how they left once it ended.
type Drain struct {
	Phase         string  `json:"phase"`
	OutageSeconds float64 `json:"outage_seconds"`
	Events        int     `json:"events"` // enqueued during the outage
	// Within10s is how many were delivered in the first 10 s after the
	// outage ended; AllSeconds is when the last one was (0: not all were
	// within the wait).
	Within10s  int     `json:"within_10s"`
	AllSeconds float64 `json:"all_delivered_seconds"`
	Delivered  int     `json:"delivered"`
	// PeakPerSecond is the most deliveries in one second after the outage;
	// Refused counts the receiver's 503 answers during it.
	PeakPerSecond int `json:"peak_per_second"`
	// MeanPerSecond is Delivered over AllSeconds.
	MeanPerSecond float64 `json:"mean_per_second,omitempty"`
	Refused       int64   `json:"refused_attempts,omitempty"`
	Note          string  `json:"note,omitempty"`
}

// drainWait bounds the wait for a phase's backlog. The webhook schedule
// retries a row 5 s and then 5 min (±20 %) after its failures, so a row
// that failed twice during a receiver outage waits up to 6 minutes.
const drainWait = 8 * time.Minute

// drain measures the outbox after two outages of cfg.Outage each, with
// webhook events (TOTP approvals in the hooked service) made at
// cfg.DrainRate per second throughout:
//
//   - receiver down: the receiver answers 503, so each row fails and waits
//     for its next retry on the schedule (5 s, then 5 min); what leaves
//     after the outage, and when, is the schedule's doing;
//   - worker down: no attempt is made (a node stopped, or the only one
//     restarting), so every row is due when the worker comes back, and
//     the drain rate is the worker's capacity.
//
// Each phase ends when every event has reached the receiver once.
func (b *bench) drain(ctx context.Context, _ *window, _ time.Duration) error {
	f := b.local.fakes
	phases := []struct {
		name       string
		down, back func()
	}{
		{"receiver down (503)", func() { f.down.Store(true) }, func() { f.down.Store(false) }},
		{"worker down", func() { b.local.stopWorker() }, func() { b.local.startWorker() }},
	}
	for _, p := range phases {
		if _, err := b.awaitOutbox(ctx); err != nil {
			return err
		}
		mark, refused0 := f.delivered(), f.refused.Load()
		p.down()
		made, errs := openLoop(ctx, b.cfg.DrainRate, b.cfg.Outage, b.approveTotp)
		up := time.Now()
		p.back()
		if len(errs) > 0 {
			return fmt.Errorf("%s: %d of the outage's %d requests failed, first: %w", p.name, len(errs), made, errs[0])
		}
		d := Drain{Phase: p.name, OutageSeconds: b.cfg.Outage.Seconds(), Events: made, Refused: f.refused.Load() - refused0}
		for time.Since(up) < drainWait && f.delivered()-mark < made && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		arrived := f.arrivedSince(mark)
		d.Delivered = len(arrived)
		perSecond := map[int64]int{}
		for _, at := range arrived {
			s := int64(at.Sub(up) / time.Second)
			perSecond[s]++
			if at.Sub(up) < 10*time.Second {
				d.Within10s++
			}
		}
		for _, n := range perSecond {
			d.PeakPerSecond = max(d.PeakPerSecond, n)
		}
		if d.Delivered >= made && made > 0 {
			last := slices.MaxFunc(arrived, func(a, b time.Time) int { return a.Compare(b) })
			d.AllSeconds = round(last.Sub(up).Seconds(), 2)
			if d.AllSeconds > 0 {
				d.MeanPerSecond = round(float64(d.Delivered)/d.AllSeconds, 0)
			}
		} else {
			d.Note = fmt.Sprintf("only %d of %d delivered within %s", d.Delivered, made, drainWait)
		}
		b.report.Drains = append(b.report.Drains, d)
		logf(b.cfg.log(), "outbox-drain %s: %d events, all delivered %.2fs after, peak %d/s", p.name, made, d.AllSeconds, d.PeakPerSecond)
	}
	return ctx.Err()
}

// approveTotp makes one challenge.approved event: a TOTP challenge with a
// fresh right code.
func (b *bench) approveTotp(ctx context.Context) error {
	err := b.pool.withCode(func(f *totpFactor, code string) error { return b.totpChallenge(ctx, f, code) })
	if errors.Is(err, errDry) {
		return errors.New("no fresh TOTP code left: raise --factors")
	}
	return err
}
