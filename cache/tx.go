package cache

import (
	"context"
	"time"

	"github.com/verifyd/verify"
)

// txStore is the store a transaction's function gets: every read goes to
// the transaction, and every write that changes a cached row is noted, to
// be dropped once the transaction has ended. Dropping only at the end is
// what makes it safe: until the commit, readers outside the transaction
// still read the old row from the database too.
type txStore struct {
	verify.Store
	n *notes
}

// notes is what a transaction changed; a Tx inside a Tx shares its outer
// transaction's notes, as it shares the transaction.
type notes struct {
	c        *tables
	all      bool
	services []serviceKey
	factors  []verify.Sid
	steps    []usedStep
	// challenges changed in the transaction.
	challenges []verify.Sid
}

type usedStep struct {
	factor verify.Sid
	end    int64
}

// apply drops what the transaction changed. Steps it used move the cached
// factors past them only if it committed; otherwise the step is free again
// and the factor is dropped instead, to be read afresh.
func (n *notes) apply(committed bool) {
	if n.all {
		n.c.dropAll()
		return
	}
	if len(n.services) == 0 && len(n.factors) == 0 && len(n.steps) == 0 && len(n.challenges) == 0 {
		return
	}
	n.c.mu.Lock()
	if len(n.services) > 0 || len(n.factors) > 0 || len(n.challenges) > 0 || !committed {
		n.c.gen++
	}
	for _, k := range n.services {
		delete(n.c.services, k)
	}
	for _, sid := range n.factors {
		n.c.deleteFactor(sid)
	}
	for _, sid := range n.challenges {
		delete(n.c.challenges, sid)
	}
	if !committed {
		for _, u := range n.steps {
			n.c.deleteFactor(u.factor)
		}
	}
	n.c.mu.Unlock()
	if committed {
		for _, u := range n.steps {
			n.c.usedStep(u.factor, u.end)
		}
	}
}

// Tx inside a transaction joins it, as the wrapped store's does.
func (t *txStore) Tx(ctx context.Context, fn func(verify.Store) error) error {
	return t.Store.Tx(ctx, func(st verify.Store) error {
		return fn(&txStore{Store: st, n: t.n})
	})
}

func (t *txStore) UpdateService(ctx context.Context, v *verify.Service) error {
	t.n.services = append(t.n.services, serviceKey{v.AccountSid, v.Sid})
	return t.Store.UpdateService(ctx, v)
}

func (t *txStore) DeleteService(ctx context.Context, account, sid verify.Sid) error {
	t.n.all = true
	return t.Store.DeleteService(ctx, account, sid)
}

func (t *txStore) DeleteEntity(ctx context.Context, service verify.Sid, identity string) error {
	t.n.all = true
	return t.Store.DeleteEntity(ctx, service, identity)
}

func (t *txStore) UpdateFactor(ctx context.Context, f *verify.Factor) error {
	t.n.factors = append(t.n.factors, f.Sid)
	return t.Store.UpdateFactor(ctx, f)
}

func (t *txStore) VerifyFactor(ctx context.Context, sid verify.Sid, now time.Time) error {
	t.n.factors = append(t.n.factors, sid)
	return t.Store.VerifyFactor(ctx, sid, now)
}

func (t *txStore) AddFactorFailure(ctx context.Context, factor verify.Sid, max int) (int, bool, error) {
	t.n.factors = append(t.n.factors, factor)
	return t.Store.AddFactorFailure(ctx, factor, max)
}

func (t *txStore) DeleteFactor(ctx context.Context, entity, sid verify.Sid) error {
	t.n.all = true
	return t.Store.DeleteFactor(ctx, entity, sid)
}

// UseTotpStep notes the step, to move the cached factor past it once the
// transaction has committed.
func (t *txStore) UseTotpStep(ctx context.Context, factor verify.Sid, start, end int64) (bool, error) {
	ok, err := t.Store.UseTotpStep(ctx, factor, start, end)
	if err == nil && ok {
		t.n.steps = append(t.n.steps, usedStep{factor, end})
	}
	return ok, err
}
