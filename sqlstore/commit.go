package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// committer is SQLite's group commit. SQLite has one writer, and a durable
// commit waits for an fsync of the WAL. Instead of one transaction (and one
// fsync) per request, a single goroutine owns the writer connection, takes
// every write that is waiting, runs each inside its own SAVEPOINT of one
// transaction, and commits them together; the fsync then happens on another
// goroutine (syncer, durable.go) while the next batch already runs. A
// request whose work fails is rolled back to its savepoint alone; nobody is
// told of success before the fsync that follows the commit holding their
// work, so an acknowledged write is never lost.
//
// The batch runs writes one after another, exactly as separate
// transactions on the single writer would, so each sees the writes before
// it and the compare-and-swap semantics of the store are unchanged.
type committer struct {
	db   *sql.DB
	base store // dialect, key and schema for the stores bound to a batch
	sync *syncer
	jobs chan *job
	quit chan struct{}
	once sync.Once
	done sync.WaitGroup
	// commits counts committed batches, for tests and diagnostics.
	commits atomic.Int64
	// stmts are statements prepared on the writer; wanted, texts to prepare
	// after the current batch. Only the committer's goroutine touches them.
	stmts  map[string]*sql.Stmt
	wanted map[string]struct{}
}

type job struct {
	ctx context.Context
	fn  func(*store) error
	err chan error // buffered: the committer never blocks on a caller
}

// maxBatch bounds one transaction, so a flood of writes still commits (and
// answers) in slices instead of holding everyone until the queue drains.
const maxBatch = 128

var errClosed = errors.New("sqlstore: database is closed")

func newCommitter(db *sql.DB, base store, sync *syncer) *committer {
	c := &committer{db: db, base: base, sync: sync, jobs: make(chan *job), quit: make(chan struct{}),
		stmts: make(map[string]*sql.Stmt), wanted: make(map[string]struct{})}
	for _, q := range []string{savepoint, rollbackTo, release} {
		c.wanted[q] = struct{}{}
	}
	c.prepareWanted() // the writer is free: run has not started
	c.done.Add(1)
	go c.run()
	return c
}

// do runs fn in a batch and returns its error, or the batch's commit error.
// Once the job is handed over it waits for the outcome even if ctx ends, so
// that the caller never reports as failed a write that was committed.
func (c *committer) do(ctx context.Context, fn func(*store) error) error {
	j := &job{ctx: ctx, fn: fn, err: make(chan error, 1)}
	select {
	case c.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.quit:
		return errClosed
	}
	return <-j.err
}

func (c *committer) run() {
	defer c.done.Done()
	defer func() {
		for _, st := range c.stmts {
			_ = st.Close()
		}
	}()
	for {
		var first *job
		select {
		case first = <-c.jobs:
		case <-c.quit:
			return
		}
		batch := []*job{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case j := <-c.jobs:
				batch = append(batch, j)
			default:
				break drain
			}
		}
		c.commit(batch)
		c.prepareWanted()
	}
}

// commit runs one batch in one transaction and answers every job.
func (c *committer) commit(batch []*job) {
	errs := make([]error, len(batch))
	answer := func() {
		for i, j := range batch {
			j.err <- errs[i]
		}
	}
	// The transaction is not bound to any one caller's context: one caller
	// giving up must not roll back the others.
	ctx := context.Background()
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("sqlstore: begin: %w", err)
		}
		answer()
		return
	}
	t := c.base
	t.r, t.w, t.begin, t.batch, t.tx, t.cm = tx, tx, nil, nil, tx, c
	single := len(batch) == 1
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if single {
			errs[i] = runJob(j, &t)
			continue
		}
		if err := c.exec(ctx, tx, savepoint); err != nil {
			errs[i] = fmt.Errorf("sqlstore: savepoint: %w", err)
			continue
		}
		if errs[i] = runJob(j, &t); errs[i] != nil {
			if err := c.exec(ctx, tx, rollbackTo); err != nil {
				// The transaction is unusable: fail everyone, commit nothing.
				_ = tx.Rollback()
				for k := range errs {
					if errs[k] == nil {
						errs[k] = fmt.Errorf("sqlstore: rollback to savepoint: %w", err)
					}
				}
				answer()
				return
			}
		}
		if err := c.exec(ctx, tx, release); err != nil {
			errs[i] = fmt.Errorf("sqlstore: release savepoint: %w", err)
		}
	}
	if single && errs[0] != nil {
		_ = tx.Rollback()
		answer()
		return
	}
	c.commits.Add(1)
	if err := tx.Commit(); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("sqlstore: commit: %w", err)
			}
		}
		answer()
		return
	}
	c.synced(batch, errs)
}

// The committer's own statements, prepared when it starts.
const (
	savepoint  = "SAVEPOINT job"
	rollbackTo = "ROLLBACK TO job"
	release    = "RELEASE job"
)

// exec runs one of the committer's own statements in tx, prepared if it
// could be.
func (c *committer) exec(ctx context.Context, tx *sql.Tx, query string) error {
	var err error
	if st := c.stmts[query]; st != nil {
		_, err = tx.StmtContext(ctx, st).ExecContext(ctx)
	} else {
		_, err = tx.ExecContext(ctx, query)
	}
	return err
}

// runJob runs one job's work, turning a panic into an error so that one bad
// request cannot take the writer (and everyone's writes) down.
func runJob(j *job, t *store) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlstore: panic in transaction: %v", r)
		}
	}()
	return j.fn(t)
}

// close stops the committer after the batch in progress; closing twice is
// harmless, as closing the DB twice is.
func (c *committer) close() {
	c.once.Do(func() {
		close(c.quit)
		c.done.Wait()
		c.sync.close()
	})
	c.done.Wait()
}
