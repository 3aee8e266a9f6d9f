package sqlstore

import (
	"sync/atomic"
	"time"
)

// observer is where the store reports how long its commits and WAL syncs
// take (ObserveLatency), shared by every copy of the store, the group
// committer and the syncer. It is read on every commit, so it is an
// atomic pointer rather than a field behind a lock.
type observer struct {
	fn atomic.Pointer[func(op string, d time.Duration)]
}

// report tells the observer, if any, that op took since start.
func (o *observer) report(op string, start time.Time) {
	if o == nil {
		return
	}
	if fn := o.fn.Load(); fn != nil {
		(*fn)(op, time.Since(start))
	}
}

// ObserveLatency makes fn hear of every commit ("commit": a transaction,
// or on SQLite a group of them) and, on SQLite, every fsync of the WAL
// ("fsync") with how long it took. Metrics histogram them.
func (db *DB) ObserveLatency(fn func(op string, d time.Duration)) {
	db.obs.fn.Store(&fn)
}
