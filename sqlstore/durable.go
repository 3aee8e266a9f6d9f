package sqlstore

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Durability on SQLite. The writer runs with synchronous(NORMAL): a commit
// writes its WAL frames but does not wait for them to reach the disk. The
// syncer then fsyncs the WAL file (fdatasync on Linux, as SQLite itself
// does with synchronous FULL) and only after that answers the batch's
// requests. Because the WAL is appended in commit order and one fsync
// covers everything written before it, answering batches in commit order
// after a later fsync is exactly as durable as FULL, while the writer is
// free to run the next batch during the fsync, which is most of a commit's
// time on this kind of disk.
//
// One thing differs from FULL: between its commit and its fsync a batch's
// changes are visible to reads. A power loss in that window can lose them,
// but nobody was told they succeeded, and a decision taken on them (say a
// refused replay of a code) only ever refuses, never grants twice. Writes
// made on top of them come in later batches, whose fsync covers them.

// syncer fsyncs the WAL after commits and then answers the jobs. At most
// one commit waits for it: the committer commits only while holding the
// syncer's token, which the syncer gives back when it takes that commit to
// fsync it.
type syncer struct {
	wal     string // path of the -wal file
	batches chan []*job
	ready   chan struct{} // holds the token while the syncer is free
	done    chan struct{}
	// flush is s.fsync; a test may wrap it to see that nobody is answered
	// before it returns.
	flush func() error
	obs   *observer
}

func newSyncer(wal string, obs *observer) *syncer {
	s := &syncer{wal: wal, batches: make(chan []*job, 1), ready: make(chan struct{}, 1), done: make(chan struct{}), obs: obs}
	s.ready <- struct{}{}
	s.flush = s.fsync
	go s.run()
	return s
}

func (s *syncer) run() {
	defer close(s.done)
	for jobs := range s.batches {
		// The token goes back as the fsync starts, so the committer can
		// commit the next batch meanwhile; it waits in batches, and gets
		// the next fsync, which starts as soon as this one ends.
		s.ready <- struct{}{}
		err := s.flush()
		for _, j := range jobs {
			j.err <- err
		}
	}
}

// fsync flushes the WAL file to the disk. It opens the file by name each
// time, so that it always syncs the WAL SQLite writes now, even if SQLite
// ever replaced the file.
func (s *syncer) fsync() error {
	f, err := os.Open(s.wal)
	if err != nil {
		return fmt.Errorf("sqlstore: sync WAL: %w", err)
	}
	defer f.Close()
	start := time.Now()
	if err := datasync(f); err != nil {
		return fmt.Errorf("sqlstore: sync WAL: %w", err)
	}
	s.obs.report("fsync", start)
	return nil
}

// close answers what is queued and stops. The committer has stopped first,
// so nothing more arrives.
func (s *syncer) close() {
	close(s.batches)
	<-s.done
}

// walPath asks SQLite where the main database file is: its WAL is beside it.
func walPath(ctx context.Context, db querier) (string, error) {
	rows, err := db.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var name, file string
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", err
		}
		if name == "main" {
			if file == "" {
				return "", fmt.Errorf("sqlstore: in-memory databases are not supported")
			}
			return file + "-wal", rows.Err()
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("sqlstore: no main database")
}
