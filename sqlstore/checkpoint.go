package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints on SQLite. SQLite by default checkpoints the WAL (copies its
// pages back into the database file and fsyncs that file) inside the
// commit that takes the WAL past 1,000 pages: on the writer, which the
// whole server's writes wait for. Measured on a create that names a rate
// limit, which writes one more random page per request, that stall was
// worth about 8 % of the rate. So the writer never checkpoints on its own
// (wal_autocheckpoint(0)); a connection of the checkpointer's copies the
// pages in the background with PASSIVE checkpoints, which run beside the
// writer and the readers and wait for nobody.
//
// A passive checkpoint cannot restart the WAL: the writer starts writing
// at the beginning of the file again only when the WAL was wholly copied
// as its transaction began, which under steady load is seldom. So once the
// WAL passes walRestartPages, the committer runs one RESTART checkpoint
// between two batches: the passive ones have copied nearly everything, so
// it waits only for the last pages and for readers to move on, and the
// next batch writes from the start of the file, which journal_size_limit
// then cuts back. It waits for readers at most restartWait; one that finds
// a reader still in the WAL (a long backup) is not tried again for a
// back-off that grows while the reader stays (restartWAL), so such a
// reader costs the writes little, and the WAL is restarted soon after it
// leaves.
//
// Durability is SQLite's: a checkpoint fsyncs the WAL before it copies a
// page, then the database file, so a page never reaches the database file
// before its transaction is on disk.

// checkpointEvery is how often the checkpointer looks for new commits.
const checkpointEvery = 100 * time.Millisecond

// walRestartPages is the WAL size, in pages, past which the committer
// restarts it: 16,384 pages of 4 KiB, 64 MiB. A variable for tests.
var walRestartPages = 16384

// walSizeLimit is journal_size_limit: what a restarted WAL is cut to.
const walSizeLimit = 64 << 20

type checkpointer struct {
	db      *sql.DB
	commits *atomic.Int64 // the committer's count of commits
	restart *atomic.Bool  // asks the committer for a RESTART checkpoint
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
	err     error // of closing db
}

// newCheckpointer opens its own connection to the database file at dsn.
func newCheckpointer(dsn string, c *committer) (*checkpointer, error) {
	db, err := openSQLitePool(withParams(dsn, "_pragma=busy_timeout(10000)", "_pragma=journal_mode(WAL)"))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open checkpointer: %w", err)
	}
	k := &checkpointer{db: db, commits: &c.commits, restart: &c.restart, quit: make(chan struct{}), done: make(chan struct{})}
	go k.run()
	return k, nil
}

func (k *checkpointer) run() {
	defer close(k.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	seen := k.commits.Load()
	for {
		select {
		case <-k.quit:
			return
		case <-t.C:
		}
		n := k.commits.Load()
		if n == seen {
			continue
		}
		seen = n
		frames, err := k.passive()
		if err == nil && frames > walRestartPages {
			k.restart.Store(true)
		}
	}
}

// passive runs one PASSIVE checkpoint and returns the WAL's size in
// frames. An error (say, the database closing) is left for the next
// round: nothing depends on a checkpoint's timing but the WAL's size.
func (k *checkpointer) passive() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var busy, frames, copied int
	err := k.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, err
}

// close stops the checkpointer; closing twice is harmless, as closing the
// DB twice is.
func (k *checkpointer) close() error {
	k.once.Do(func() {
		close(k.quit)
		<-k.done
		k.err = k.db.Close()
	})
	return k.err
}

// restartWAL is the committer's RESTART checkpoint, between batches, when
// the checkpointer asked for one. A RESTART waits, in the busy handler, for
// every reader to leave the WAL; on the writer that wait holds up every
// write, and a long reader (a backup's VACUUM INTO) would hold it for the
// whole busy_timeout. So it waits at most restartWait. A restart that finds
// readers is not tried again at once: the checkpointer asks again on every
// tick while the WAL stays large, and trying on each (every 100 ms) cost
// writers more than half their rate while a reader stayed. After a refusal
// the committer lets the asks pass for restartBackoff, doubling up to
// restartBackoffMax while refusals go on (restartDue, restartDone, which
// take the time so that a test can step through them), and back to none
// after a restart that completes. Only the committer's goroutine runs
// this, so its back-off needs no lock.
func (c *committer) restartWAL() {
	if !c.restart.Swap(false) {
		return
	}
	now := time.Now()
	if !c.restartDue(now) {
		return
	}
	c.restartTries.Add(1)
	c.restartDone(now, c.tryRestart())
}

// restartDue reports whether an ask for a RESTART at now is past the
// back-off.
func (c *committer) restartDue(now time.Time) bool { return !now.Before(c.restartAfter) }

// restartDone records the outcome of a RESTART tried at now: none of the
// back-off after one that completed, else a back-off twice the last, from
// restartBackoff up to restartBackoffMax.
func (c *committer) restartDone(now time.Time, restarted bool) {
	if restarted {
		c.restarts.Add(1)
		c.restartDelay = 0
		return
	}
	c.restartDelay = min(max(2*c.restartDelay, restartBackoff), restartBackoffMax)
	c.restartAfter = now.Add(c.restartDelay)
}

// tryRestart runs one RESTART checkpoint on the writer's connection,
// waiting at most restartWait for readers, and reports whether it
// restarted the WAL.
func (c *committer) tryRestart() bool {
	ctx := context.Background()
	conn, err := c.db.Conn(ctx) // the writer's one connection, free between batches
	if err != nil {
		return false
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", restartWait.Milliseconds())); err != nil {
		return false
	}
	// Back to the DSN's wait, for the writes that follow, whatever happens.
	defer func() {
		_, _ = conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", writerBusyTimeout.Milliseconds()))
	}()
	var busy, frames, copied int
	return conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &frames, &copied) == nil && busy == 0
}

// restartWait bounds how long a RESTART checkpoint holds up the writer.
const restartWait = 100 * time.Millisecond

// restartBackoff and restartBackoffMax bound the pause after a RESTART that
// found readers (restartWAL). Variables for tests.
var (
	restartBackoff    = time.Second
	restartBackoffMax = 5 * time.Second
)
