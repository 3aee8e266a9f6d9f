// Package notify delivers the outbox: Worker claims due rows
// (verify.OutboxStore), hands each to the Sender of its kind outside any
// transaction, and records the outcome, retrying failures on its kind's
// schedule with jitter until the row's deadline. Senders (notify/webhook,
// notify/push) satisfy Sender without importing this package's Worker.
package notify

import (
	"context"
	"errors"
	"net"
	"net/url"
	"syscall"
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

// Deader is a Sender that wants to know when a row it failed to deliver
// runs out of retries (its deadline or its schedule ends): the classic
// Verify sender marks the send attempt failed then. Dead is called once,
// after the row is recorded dead, with the last attempt's error.
type Deader interface {
	Dead(ctx context.Context, m Message, err error)
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

// PushSchedule is the delay before each retry of a push row: 1 s, 3 s,
// 10 s, 30 s, 60 s and 90 s, each with up to 20% jitter, seven attempts
// within about 233 s. A push is worth sending only while its challenge is
// pending and its TTL runs, at most 300 s (delivery.md §5.4, §9), so the
// whole schedule fits in that life with room for the attempts themselves
// (about 10 s each, §9). The first delays are short because APNs and FCM
// errors worth retrying are mostly brief (a dropped connection, a 503
// answered at once, delivery.md §6.4 and §7.3) and a user is waiting at
// the login screen; they then grow roughly threefold, close to the
// exponential backoff both services ask for, so that an overloaded
// service is not hammered. A Retry-After (a 429's, FCM's 1-minute
// quota floor) is still honoured when longer, and the row's deadline
// still ends it.
var PushSchedule = []time.Duration{
	time.Second, 3 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second, 90 * time.Second,
}

// CodeSchedule is the delay before each retry of a classic Verify code:
// 2 s, 5 s, 15 s, 30 s, 60 s, 2 min and 3 min, each with up to 20%
// jitter, eight attempts within about 7 minutes of the code's 10-minute
// life; the row's deadline is the verification's expiry, so no code is
// sent once it could no longer be checked. The first retries are quick
// because a user is waiting for the SMS; the later ones ride out a
// gateway's restart or a short outage of its provider.
var CodeSchedule = []time.Duration{
	2 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 3 * time.Minute,
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

// NetReason names a transport failure without the URL that url.Error
// would quote (it may carry a secret in its query), for the errors that
// senders return and the worker stores and logs.
func NetReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "DNS lookup failed"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "network error: " + ue.Err.Error()
	}
	return "network error"
}
