// Package notify delivers the outbox: Worker claims due rows
// (verify.OutboxStore), hands each to the Sender of its kind outside any
// transaction, and records the outcome, retrying failures on a schedule
// with jitter until the row's deadline. Senders (notify/webhook, and push
// later) satisfy Sender without importing this package's Worker.
package notify

import (
	"context"
	"errors"
	"time"

	"github.com/verifyd/verify"
)

// Message is one attempt's view of an outbox row.
type Message struct {
	ID      string
	Kind    verify.OutboxKind
	Ref     string
	Payload []byte
	// Attempt counts this attempt, from 1.
	Attempt  int
	Deadline time.Time
}

// Sender delivers messages of one kind. Send must return within ctx's
// deadline; an error means the attempt failed and is retried, unless it is
// Permanent. Errors are logged and stored for the operator, so they must
// not carry secrets or message text.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc lets a function be a Sender.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// failure is an error with instructions for the retry.
type failure struct {
	err        error
	permanent  bool
	retryAfter time.Duration
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// Permanent marks err as not worth retrying (for example a 4xx answer, or
// a target that is refused): the row is dead at once.
func Permanent(err error) error { return &failure{err: err, permanent: true} }

// RetryAfter marks err as retryable no sooner than d from now (a
// Retry-After header); the schedule's delay still applies if longer.
func RetryAfter(err error, d time.Duration) error { return &failure{err: err, retryAfter: d} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var f *failure
	return errors.As(err, &f) && f.permanent
}

// retryAfter returns the delay RetryAfter asked for, or 0.
func retryAfter(err error) time.Duration {
	var f *failure
	if errors.As(err, &f) {
		return f.retryAfter
	}
	return 0
}

// DefaultSchedule is the delay before each retry: the first attempt is
// immediate, then 5 s, 5 min, 30 min, 2 h and 5 h after each failure
// (a shortened Standard Webhooks schedule, docs/delivery.md §2.5), six
// attempts over about 7.6 hours. Each delay gets up to 20% of random
// jitter, so receivers that come back together are not hit together.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
}

// Deadline returns the deadline to give a row created at now that should
// get every attempt of schedule: the sum of the delays with their maximum
// jitter, plus a minute for the attempts themselves.
func Deadline(now time.Time, schedule []time.Duration) time.Time {
	var sum time.Duration
	for _, d := range schedule {
		sum += d + d/5
	}
	return now.Add(sum + time.Minute)
}
