package verify

import (
	"context"
	"time"
)

// The outbox: every asynchronous delivery (a webhook now, a push
// notification later) is a row written in the same transaction as the state
// change that causes it, so that a change is never committed without its
// delivery, nor a delivery sent for a change that rolled back. notify.Worker
// delivers the rows outside any transaction, with retries, so that the API
// response never waits for a receiver and a restart loses nothing.

// OutboxKind says which sender delivers a row.
type OutboxKind string

// The kinds of delivery.
const (
	OutboxWebhook OutboxKind = "webhook"
	OutboxPush    OutboxKind = "push"
	// OutboxCode sends a classic verification's code (CodeDelivery).
	OutboxCode OutboxKind = "code"
)

// OutboxStatus is where a row is in its life: pending until a sender
// succeeds (delivered) or the retries end (dead).
type OutboxStatus string

// The statuses of an outbox row.
const (
	OutboxPending   OutboxStatus = "pending"
	OutboxDelivered OutboxStatus = "delivered"
	OutboxDead      OutboxStatus = "dead"
)

// OutboxMessage is one delivery to make.
type OutboxMessage struct {
	// ID is chosen by the producer and unique; for a webhook it is the
	// event's uuid, which the receiver sees on every attempt.
	ID   string
	Kind OutboxKind
	// Account is the account the delivery is for, by which the console
	// lists an account's own (ListDeliveries): the payload is the
	// sender's, opaque to the store (and sealed for a code). Every
	// producer sets it; a row without it is shown to no account.
	Account Sid
	// Ref names what the row is about, for the operator and the log (for
	// a webhook, its YW SID); never a secret.
	Ref string
	// Payload is the kind's own snapshot of what to send, frozen at
	// commit time: a factor may be deleted right after its event.
	Payload []byte
	Status  OutboxStatus
	// Attempts counts the attempts started (claims), also those of a node
	// that died before it could record the outcome.
	Attempts int
	// NextAttempt is when the row is due. A claim moves it to the end of
	// the claim's lease, so a row whose claimer died becomes due again.
	NextAttempt time.Time
	// Deadline is when retrying stops.
	Deadline  time.Time
	LastError string
	// Claim is the token of the claim that returned the row; an outcome is
	// recorded only with it (SettleOutbox).
	Claim       string
	DateCreated time.Time
	DateUpdated time.Time
}

// OutboxOutcome is what an attempt at a claimed row came to.
type OutboxOutcome struct {
	// Status is OutboxPending to try again at NextAttempt, or one of the
	// final statuses.
	Status      OutboxStatus
	NextAttempt time.Time
	// LastError says why the attempt failed, without secrets or message
	// text; empty on success.
	LastError string
	Now       time.Time
}

// OutboxStore is what the outbox needs from persistence. Store includes
// it, so that a transaction's store can enqueue; notify.Worker needs
// nothing else.
type OutboxStore interface {
	// EnqueueOutbox adds a pending row, due at m.NextAttempt. Called
	// inside the Tx of the change that causes the delivery.
	EnqueueOutbox(ctx context.Context, m *OutboxMessage) error
	// ClaimOutbox takes up to limit pending rows due at now, counts an
	// attempt on each, and hides them from other claims until now+lease,
	// when they become due again unless settled first. Concurrent claims,
	// on however many nodes, return disjoint rows. The rows come back with
	// Claim set to this claim's token.
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*OutboxMessage, error)
	// SettleOutbox records the outcome of an attempt at the row id claimed
	// with claim. It reports false, changing nothing, if the row was
	// claimed again since (the lease ran out) or settled already.
	SettleOutbox(ctx context.Context, id, claim string, o OutboxOutcome) (bool, error)
	// HastenOutbox makes the pending rows of ref (a webhook's SID) that
	// wait for a retry after now due at now, and returns how many. The
	// worker calls it when a retry to that webhook succeeds: the receiver
	// is back, and its other rows need not sit out the rest of their
	// backoff (5 minutes and more). Rows under way are left alone.
	HastenOutbox(ctx context.Context, ref string, now time.Time) (int, error)
	// PruneOutbox deletes up to limit delivered or dead rows last updated
	// before before, and returns how many.
	PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error)
	// ListOutbox pages through the rows of one status (all if empty),
	// newest first, for the operator.
	ListOutbox(ctx context.Context, status OutboxStatus, limit int) ([]*OutboxMessage, error)
	// ListDeliveries pages through the account's rows that match f, in
	// (DateCreated, ID) order (Page.Desc: newest first), for the console.
	// A Cursor's Sid is a row's ID, and its Time keeps the milliseconds.
	ListDeliveries(ctx context.Context, account Sid, f DeliveryFilter, p Page) ([]*OutboxMessage, bool, error)
}

// DeliveryFilter narrows ListDeliveries; empty fields do not filter.
type DeliveryFilter struct {
	Kinds  []OutboxKind
	Status OutboxStatus
}
