package cache

import (
	"context"
	"time"

	"github.com/verifyd/verify"
)

// writer wraps the store's writes that change a cached row: each notes
// what it changes, and the notes drop those rows from the cache once the
// change has ended. It is the one list of what invalidates what, used both
// outside transactions (Store), where each write's notes are applied as
// soon as it returns, and inside one (the store a Tx function gets), where
// they are kept until the transaction has committed or rolled back: until
// then, readers outside it still read the old row from the database too.
//
// The outbox methods (verify.OutboxStore) are not wrapped: no cached row
// is an outbox row, so they pass through the embedded store, inside a
// transaction to the transaction's store.
//
// Notes are applied also when the write failed: a failure may have come
// after the commit, and dropping a row costs only a read.
type writer struct {
	verify.Store
	c *tables
	// tx collects the notes of the transaction this writer is bound to;
	// nil outside a transaction.
	tx *notes
}

// notes is what a write or a transaction changed.
type notes struct {
	c          *tables
	all        bool // a deletion cascaded to rows the cache cannot name
	services   []serviceKey
	factors    []verify.Sid
	steps      []usedStep
	challenges []verify.Sid
	webhooks   []verify.Sid // services whose webhook list changed
	rates      []verify.Sid // services whose rate limit buckets changed
	allRates   bool         // a bucket of an unnamed service changed
}

type usedStep struct {
	factor verify.Sid
	end    int64
}

// notes returns where a write notes its changes: the transaction's, or
// fresh ones for a write of its own (the Store is shared by all requests).
func (w *writer) notes() *notes {
	if w.tx != nil {
		return w.tx
	}
	return &notes{c: w.c}
}

// done applies a write's own notes, outside a transaction.
func (w *writer) done(n *notes, err error) error {
	if w.tx == nil {
		n.apply(err == nil)
	}
	return err
}

// apply drops what was changed. Steps used move the cached factors past
// them only if committed; otherwise the step is free again and the factor
// is dropped instead, to be read afresh.
func (n *notes) apply(committed bool) {
	if n.all {
		n.c.dropAll()
		return
	}
	if len(n.services) == 0 && len(n.factors) == 0 && len(n.steps) == 0 && len(n.challenges) == 0 && len(n.webhooks) == 0 &&
		len(n.rates) == 0 && !n.allRates {
		return
	}
	n.c.mu.Lock()
	// Each table's generation moves with its own rows' writes only.
	bump := func(b *budget, changed bool) {
		if changed {
			b.gen++
		}
	}
	bump(&n.c.bServices, len(n.services) > 0)
	bump(&n.c.bFactors, len(n.factors) > 0 || (len(n.steps) > 0 && !committed))
	bump(&n.c.bChallenges, len(n.challenges) > 0)
	bump(&n.c.bWebhooks, len(n.webhooks) > 0)
	bump(&n.c.bRates, len(n.rates) > 0 || n.allRates)
	for _, sid := range n.rates {
		drop(n.c.rates, &n.c.bRates, sid)
	}
	if n.allRates {
		dropAllOf(n.c.rates, &n.c.bRates)
	}
	for _, k := range n.services {
		drop(n.c.services, &n.c.bServices, k)
	}
	for _, sid := range n.factors {
		n.c.deleteFactor(sid)
	}
	for _, sid := range n.challenges {
		drop(n.c.challenges, &n.c.bChallenges, sid) // a nil map (shared database) deletes nothing
	}
	for _, sid := range n.webhooks {
		drop(n.c.webhooks, &n.c.bWebhooks, sid)
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

// Tx on a writer bound to a transaction joins it, as the wrapped store's
// does, with the same notes. (Store.Tx starts transactions.)
func (w *writer) Tx(ctx context.Context, fn func(verify.Store) error) error {
	return w.Store.Tx(ctx, func(st verify.Store) error {
		return fn(&writer{Store: st, c: w.c, tx: w.tx})
	})
}

func (w *writer) UpdateService(ctx context.Context, v *verify.Service) error {
	n := w.notes()
	n.services = append(n.services, serviceKey{v.AccountSid, v.Sid})
	return w.done(n, w.Store.UpdateService(ctx, v))
}

func (w *writer) DeleteService(ctx context.Context, account, sid verify.Sid) error {
	n := w.notes()
	n.all = true
	return w.done(n, w.Store.DeleteService(ctx, account, sid))
}

// DeleteAccount drops every cached row: the account's services, entities
// and factors are gone with it.
func (w *writer) DeleteAccount(ctx context.Context, sid verify.Sid) error {
	n := w.notes()
	n.all = true
	return w.done(n, w.Store.DeleteAccount(ctx, sid))
}

func (w *writer) DeleteEntity(ctx context.Context, service verify.Sid, identity string) error {
	n := w.notes()
	n.all = true
	return w.done(n, w.Store.DeleteEntity(ctx, service, identity))
}

func (w *writer) UpdateFactor(ctx context.Context, f *verify.Factor) error {
	n := w.notes()
	n.factors = append(n.factors, f.Sid)
	return w.done(n, w.Store.UpdateFactor(ctx, f))
}

func (w *writer) KillPushToken(ctx context.Context, factor verify.Sid, token string) (bool, error) {
	n := w.notes()
	n.factors = append(n.factors, factor)
	ok, err := w.Store.KillPushToken(ctx, factor, token)
	return ok, w.done(n, err)
}

func (w *writer) VerifyFactor(ctx context.Context, sid verify.Sid, now time.Time) error {
	n := w.notes()
	n.factors = append(n.factors, sid)
	return w.done(n, w.Store.VerifyFactor(ctx, sid, now))
}

func (w *writer) RegisterPasskey(ctx context.Context, f *verify.Factor, now time.Time) error {
	n := w.notes()
	n.factors = append(n.factors, f.Sid)
	return w.done(n, w.Store.RegisterPasskey(ctx, f, now))
}

func (w *writer) SwapPasskey(ctx context.Context, factor verify.Sid, old, next *verify.PasskeyFactor) (bool, error) {
	n := w.notes()
	n.factors = append(n.factors, factor)
	ok, err := w.Store.SwapPasskey(ctx, factor, old, next)
	return ok, w.done(n, err)
}

func (w *writer) TakeFactorAttempt(ctx context.Context, factor verify.Sid, max int) (int, error) {
	n := w.notes()
	n.factors = append(n.factors, factor)
	count, err := w.Store.TakeFactorAttempt(ctx, factor, max)
	return count, w.done(n, err)
}

// DeleteFactor drops everything: the deletion takes the factor's
// challenges, which the cache keeps under their own SIDs.
func (w *writer) DeleteFactor(ctx context.Context, entity, sid verify.Sid) error {
	n := w.notes()
	n.all = true
	return w.done(n, w.Store.DeleteFactor(ctx, entity, sid))
}

// UseTotpStep moves the cached factor past the step it used, instead of
// dropping it: this write happens on every accepted code, and dropping
// would empty the cache of exactly the factors in use.
func (w *writer) UseTotpStep(ctx context.Context, factor verify.Sid, start, end int64) (bool, error) {
	ok, err := w.Store.UseTotpStep(ctx, factor, start, end)
	n := w.notes()
	if err == nil && ok {
		n.steps = append(n.steps, usedStep{factor, end})
	}
	return ok, w.done(n, err)
}

// CreateTotpChallenge moves the cached factor past the step an approval
// used, as UseTotpStep does.
func (w *writer) CreateTotpChallenge(ctx context.Context, c *verify.Challenge, q verify.ChallengeQuota, matched bool, start, end int64, now time.Time) (bool, bool, error) {
	done, approved, err := w.Store.CreateTotpChallenge(ctx, c, q, matched, start, end, now)
	n := w.notes()
	if err == nil && approved {
		n.steps = append(n.steps, usedStep{c.FactorSid, end})
	}
	return done, approved, w.done(n, err)
}

func (w *writer) RespondChallenge(ctx context.Context, sid verify.Sid, status verify.ChallengeStatus, reason string, metadata map[string]string, now time.Time) error {
	n := w.notes()
	n.challenges = append(n.challenges, sid)
	return w.done(n, w.Store.RespondChallenge(ctx, sid, status, reason, metadata, now))
}

func (w *writer) RespondChallengeAlone(ctx context.Context, sid verify.Sid, status verify.ChallengeStatus, reason string, metadata map[string]string, now time.Time) (bool, error) {
	n := w.notes()
	n.challenges = append(n.challenges, sid)
	ok, err := w.Store.RespondChallengeAlone(ctx, sid, status, reason, metadata, now)
	return ok, w.done(n, err)
}

func (w *writer) ApproveChallenge(ctx context.Context, sid verify.Sid, metadata map[string]string, now time.Time) error {
	n := w.notes()
	n.challenges = append(n.challenges, sid)
	return w.done(n, w.Store.ApproveChallenge(ctx, sid, metadata, now))
}

func (w *writer) TakeChallengeAttempt(ctx context.Context, challenge verify.Sid, max int, now time.Time) (int, error) {
	n := w.notes()
	n.challenges = append(n.challenges, challenge)
	count, err := w.Store.TakeChallengeAttempt(ctx, challenge, max, now)
	return count, w.done(n, err)
}

// Tx runs fn on a store that reads through to the transaction (inside one,
// FindService and FindEntity lock rows, which a cached answer would not)
// and notes what fn changes, applied when the transaction has ended.
func (s *Store) Tx(ctx context.Context, fn func(verify.Store) error) error {
	n := &notes{c: s.c}
	err := s.Store.Tx(ctx, func(st verify.Store) error {
		return fn(&writer{Store: st, c: s.c, tx: n})
	})
	n.apply(err == nil)
	return err
}

// TryLock is Tx for background work, with the same notes.
func (s *Store) TryLock(ctx context.Context, name string, fn func(verify.Store) error) (bool, error) {
	n := &notes{c: s.c}
	ran, err := s.Store.TryLock(ctx, name, func(st verify.Store) error {
		return fn(&writer{Store: st, c: s.c, tx: n})
	})
	n.apply(ran && err == nil)
	return ran, err
}
