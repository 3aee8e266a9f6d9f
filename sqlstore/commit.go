package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
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
	// restart asks for a RESTART checkpoint between batches (checkpoint.go);
	// restarts counts those that completed, for tests and diagnostics.
	restart  atomic.Bool
	restarts atomic.Int64
	// restartTries counts the RESTART checkpoints tried; restartAfter and
	// restartDelay are the back-off after one that found readers. Only
	// the committer's goroutine touches the last two.
	restartTries atomic.Int64
	restartAfter time.Time
	restartDelay time.Duration
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
		c.commit(c.fill(first))
		c.prepareWanted()
		c.restartWAL()
	}
}

// batch is a transaction being filled with jobs.
type batch struct {
	tx   *sql.Tx
	st   store
	jobs []*job // the jobs whose work is in tx, waiting for its commit
}

// fill opens a transaction, runs first in it, then every job that arrives
// until the syncer can take another commit, and returns holding the
// syncer's token (see syncer.ready). So commits keep pace with fsyncs: a
// batch grows by whatever arrives while the commit before it waits for its
// fsync, and the pages that every write touches (the tail of the challenges
// table and of its indexes) go to the WAL once per batch instead of once per
// request. A nil batch means nothing is left to commit; then the token is
// not taken.
func (c *committer) fill(first *job) *batch {
	// The transaction is not bound to any one caller's context: one caller
	// giving up must not roll back the others.
	tx, err := c.db.BeginTx(context.Background(), nil)
	if err != nil {
		first.err <- fmt.Errorf("sqlstore: begin: %w", err)
		return nil
	}
	b := &batch{tx: tx, st: c.base}
	b.st.r, b.st.w, b.st.begin, b.st.batch, b.st.tx, b.st.cm = tx, tx, nil, nil, tx, c
	if !c.add(b, first) {
		return nil
	}
	for len(b.jobs) < maxBatch {
		// Jobs already waiting go in before the commit whatever the syncer
		// does: adding one costs less than a commit of its own.
		select {
		case j := <-c.jobs:
			if !c.add(b, j) {
				return nil
			}
			continue
		default:
		}
		select {
		case j := <-c.jobs:
			if !c.add(b, j) {
				return nil
			}
		case <-c.sync.ready:
			return b
		}
	}
	<-c.sync.ready
	return b
}

// add runs j inside b in its own savepoint. A job whose work fails is
// rolled back alone and answered at once: its answer claims nothing. add
// returns false if the transaction became unusable, after failing and
// answering every job in it and rolling it back.
func (c *committer) add(b *batch, j *job) bool {
	if err := j.ctx.Err(); err != nil {
		j.err <- err
		return true
	}
	ctx := context.Background()
	if err := c.exec(ctx, b.tx, savepoint); err != nil {
		j.err <- fmt.Errorf("sqlstore: savepoint: %w", err)
		return true
	}
	if err := runJob(j, &b.st); err != nil {
		if rerr := c.exec(ctx, b.tx, rollbackTo); rerr != nil {
			j.err <- err
			c.abort(b, fmt.Errorf("sqlstore: rollback to savepoint: %w", rerr))
			return false
		}
		if rerr := c.exec(ctx, b.tx, release); rerr != nil {
			j.err <- err
			c.abort(b, fmt.Errorf("sqlstore: release savepoint: %w", rerr))
			return false
		}
		j.err <- err
		return true
	}
	if err := c.exec(ctx, b.tx, release); err != nil {
		j.err <- fmt.Errorf("sqlstore: release savepoint: %w", err)
		c.abort(b, err)
		return false
	}
	b.jobs = append(b.jobs, j)
	return true
}

// abort rolls b back and fails every job whose work was in it.
func (c *committer) abort(b *batch, err error) {
	_ = b.tx.Rollback()
	for _, j := range b.jobs {
		j.err <- err
	}
}

// commit commits b and hands its jobs to the syncer, which answers them
// after the fsync. It spends the token fill took: the syncer gives one back
// when it takes the batch.
func (c *committer) commit(b *batch) {
	if b == nil {
		return
	}
	if len(b.jobs) == 0 {
		_ = b.tx.Rollback()
		c.sync.ready <- struct{}{}
		return
	}
	c.commits.Add(1)
	start := time.Now()
	if err := b.tx.Commit(); err != nil {
		c.abort(b, fmt.Errorf("sqlstore: commit: %w", err))
		c.sync.ready <- struct{}{}
		return
	}
	c.base.obs.report("commit", start)
	c.sync.batches <- b.jobs
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
