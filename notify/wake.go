package notify

import (
	"context"

	"github.com/verifyd/verify"
)

// Waking returns st with one change: once a write that enqueued an outbox
// row has committed (a transaction, a TryLock, or an EnqueueOutbox of its
// own), it calls wake, normally a Worker's Wake. Without it a new row waits
// for the worker's next poll, up to half a second on serve, which is most
// of the time between creating a push challenge and the phone hearing of
// it; with it the row is claimed as soon as it can be seen.
//
// Rows enqueued by another node (a shared PostgreSQL database) are still
// found by the poll, or by this node's next wake-up.
func Waking(st verify.Store, wake func()) verify.Store {
	return &waking{Store: st, wake: wake}
}

type waking struct {
	verify.Store
	wake func()
}

func (s *waking) Tx(ctx context.Context, fn func(verify.Store) error) error {
	var enqueued bool
	err := s.Store.Tx(ctx, func(st verify.Store) error {
		return fn(&wakingTx{Store: st, enqueued: &enqueued})
	})
	if err == nil && enqueued {
		s.wake()
	}
	return err
}

func (s *waking) TryLock(ctx context.Context, name string, fn func(verify.Store) error) (bool, error) {
	var enqueued bool
	ran, err := s.Store.TryLock(ctx, name, func(st verify.Store) error {
		return fn(&wakingTx{Store: st, enqueued: &enqueued})
	})
	if ran && err == nil && enqueued {
		s.wake()
	}
	return ran, err
}

func (s *waking) EnqueueOutbox(ctx context.Context, m *verify.OutboxMessage) error {
	err := s.Store.EnqueueOutbox(ctx, m)
	if err == nil {
		s.wake()
	}
	return err
}

// wakingTx is the store a transaction's function gets: it notes an
// enqueued row, and the wake waits for the outermost commit (a nested Tx
// runs inside the same transaction).
type wakingTx struct {
	verify.Store
	enqueued *bool
}

func (t *wakingTx) EnqueueOutbox(ctx context.Context, m *verify.OutboxMessage) error {
	err := t.Store.EnqueueOutbox(ctx, m)
	if err == nil {
		*t.enqueued = true
	}
	return err
}

func (t *wakingTx) Tx(ctx context.Context, fn func(verify.Store) error) error {
	return t.Store.Tx(ctx, func(st verify.Store) error {
		return fn(&wakingTx{Store: st, enqueued: t.enqueued})
	})
}

func (t *wakingTx) TryLock(ctx context.Context, name string, fn func(verify.Store) error) (bool, error) {
	return t.Store.TryLock(ctx, name, func(st verify.Store) error {
		return fn(&wakingTx{Store: st, enqueued: t.enqueued})
	})
}
