package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements. The SQLite driver prepares (parses and plans) every
// statement it is handed, which was a fifth of the CPU time of a TOTP
// check; so on SQLite every query text is prepared once per pool and
// reused. The texts are the constants in this package plus a few filter
// combinations of the lists, a small finite set; maxStatements bounds the
// cache anyway. PostgreSQL needs none of this: pgx caches prepared
// statements per connection itself.

// maxStatements bounds each cache; queries past it run unprepared.
const maxStatements = 256

// stmtCache holds statements prepared on the read pool, which many
// goroutines share.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt)}
}

// get returns query prepared on the pool, or nil if it cannot be (the
// caller then runs it unprepared, and meets the error there).
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.RLock()
	st := c.m[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st = c.m[query]; st != nil || len(c.m) >= maxStatements {
		return st
	}
	// Not the request's context: a request that gives up must not leave
	// the cache without a statement that others would use.
	st, err := c.db.PrepareContext(context.Background(), query)
	if err != nil {
		return nil
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		_ = st.Close()
	}
	c.m = nil
}

// prepared returns query as a prepared statement for s, or nil to run it
// unprepared. Inside one of the committer's batches it uses the
// committer's writer statements; a text seen for the first time there runs
// unprepared and is prepared after the batch, when the writer connection is
// free (preparing inside would wait for the connection the batch holds).
// Outside a transaction, reads use the read pool's cache.
func (s *store) prepared(ctx context.Context, query string, write bool) *sql.Stmt {
	switch {
	case s.tx != nil && s.cm != nil:
		st := s.cm.stmts[query]
		if st == nil {
			if len(s.cm.stmts) < maxStatements {
				s.cm.wanted[query] = struct{}{}
			}
			return nil
		}
		return s.tx.StmtContext(ctx, st)
	case s.tx == nil && !write && s.rs != nil:
		return s.rs.get(query)
	}
	return nil
}

// prepareWanted prepares the writer statements first seen in the last
// batch. It runs on the committer's goroutine between batches, the only
// time the writer connection is free.
func (c *committer) prepareWanted() {
	for q := range c.wanted {
		if st, err := c.db.PrepareContext(context.Background(), q); err == nil {
			c.stmts[q] = st
		}
		delete(c.wanted, q)
	}
}
