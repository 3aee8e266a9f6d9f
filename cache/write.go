package cache

import (
	"context"
	"time"

	"github.com/verifyd/verify"
)

// The writes that change a cached row. Each drops the row after the store
// has written it (and, outside a transaction, committed it), and also when
// the write failed: a failure may have come after the commit.

func (s *Store) UpdateService(ctx context.Context, v *verify.Service) error {
	defer s.c.dropService(serviceKey{v.AccountSid, v.Sid})
	return s.Store.UpdateService(ctx, v)
}

func (s *Store) DeleteService(ctx context.Context, account, sid verify.Sid) error {
	defer s.c.dropAll()
	return s.Store.DeleteService(ctx, account, sid)
}

func (s *Store) DeleteEntity(ctx context.Context, service verify.Sid, identity string) error {
	defer s.c.dropAll()
	return s.Store.DeleteEntity(ctx, service, identity)
}

func (s *Store) UpdateFactor(ctx context.Context, f *verify.Factor) error {
	defer s.c.dropFactor(f.Sid)
	return s.Store.UpdateFactor(ctx, f)
}

func (s *Store) VerifyFactor(ctx context.Context, sid verify.Sid, now time.Time) error {
	defer s.c.dropFactor(sid)
	return s.Store.VerifyFactor(ctx, sid, now)
}

func (s *Store) AddFactorFailure(ctx context.Context, factor verify.Sid, max int) (int, bool, error) {
	defer s.c.dropFactor(factor)
	return s.Store.AddFactorFailure(ctx, factor, max)
}

// DeleteFactor drops everything: the deletion cascades to the factor's
// challenges, which the cache keeps under their own SIDs.
func (s *Store) DeleteFactor(ctx context.Context, entity, sid verify.Sid) error {
	defer s.c.dropAll()
	return s.Store.DeleteFactor(ctx, entity, sid)
}

// UseTotpStep moves the cached factor's last used step on success, instead
// of dropping it: this write happens on every accepted code, and dropping
// would empty the cache of exactly the factors in use.
func (s *Store) UseTotpStep(ctx context.Context, factor verify.Sid, start, end int64) (bool, error) {
	ok, err := s.Store.UseTotpStep(ctx, factor, start, end)
	if err == nil && ok {
		s.c.usedStep(factor, end)
	}
	return ok, err
}

// Tx runs fn on a store that reads through to the transaction (inside one,
// FindService and FindEntity lock rows, which a cached answer would not)
// and notes what fn changes; the notes are applied when the transaction
// has ended.
func (s *Store) Tx(ctx context.Context, fn func(verify.Store) error) error {
	n := &notes{c: s.c}
	err := s.Store.Tx(ctx, func(st verify.Store) error {
		return fn(&txStore{Store: st, n: n})
	})
	n.apply(err == nil)
	return err
}

// TryLock is Tx for background work, with the same notes.
func (s *Store) TryLock(ctx context.Context, name string, fn func(verify.Store) error) (bool, error) {
	n := &notes{c: s.c}
	ran, err := s.Store.TryLock(ctx, name, func(st verify.Store) error {
		return fn(&txStore{Store: st, n: n})
	})
	n.apply(ran && err == nil)
	return ran, err
}
