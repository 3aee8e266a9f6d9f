package sqlstore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// TestGroupCommit checks SQLite's group commit: writes that wait while a
// batch runs are committed together in the next one, a failing or
// panicking request is rolled back alone (its savepoint), and everything the
// others wrote is there.
func TestGroupCommit(t *testing.T) {
	db := mustOpen(t)
	f := setup(t, db)
	if db.batch == nil {
		t.Fatal("SQLite store has no committer")
	}
	release := make(chan struct{})
	started := make(chan struct{})

	// A first write holds the committer until the others are queued.
	var wg sync.WaitGroup
	wg.Go(func() {
		err := db.Tx(f.ctx, func(st verify.Store) error {
			close(started)
			<-release
			return st.CreateEntity(f.ctx, f.entityValue("slow-writer-1"))
		})
		if err != nil {
			t.Errorf("slow writer: %v", err)
		}
	})
	<-started
	const n = 30
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = db.Tx(f.ctx, func(st verify.Store) error {
				if err := st.CreateEntity(f.ctx, f.entityValue(fmt.Sprintf("batched-%04d", i))); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errors.New("refused after writing") // must roll back to its savepoint
				case 2:
					panic("bug after writing") // must be contained and rolled back too
				}
				return nil
			})
		})
	}
	// Let every writer queue behind the slow one, then let it commit.
	time.Sleep(300 * time.Millisecond)
	before := db.batch.commits.Load()
	close(release)
	wg.Wait()
	if c := db.batch.commits.Load() - before; c > 3 {
		t.Errorf("%d queued writes took %d commits; want them grouped", n+1, c)
	}

	for i, err := range errs {
		switch {
		case i%3 == 0 && err != nil:
			t.Errorf("writer %d: %v", i, err)
		case i%3 != 0 && err == nil:
			t.Errorf("writer %d: failing work reported success", i)
		}
	}
	got := countRows(t, db, "entities", "identity LIKE 'batched-%'")
	if got != n/3 {
		t.Errorf("%d batched entities committed, want %d (only the successful ones)", got, n/3)
	}
	if countRows(t, db, "entities", "identity = 'slow-writer-1'") != 1 {
		t.Error("the slow writer's entity is missing")
	}
}

// entityValue returns an unsaved entity of the fixture's service.
func (f *fixture) entityValue(identity string) *verify.Entity {
	return &verify.Entity{
		Sid: newSid(f.t, verify.PrefixEntity), AccountSid: f.account.Sid, ServiceSid: f.service.Sid,
		Identity: identity, DateCreated: t0, DateUpdated: t0,
	}
}

// TestAnswerAfterFsync: a write is acknowledged only after the WAL fsync
// that follows its commit, even though other connections can already read
// it; and a failed fsync is reported to the writers it covered.
func TestAnswerAfterFsync(t *testing.T) {
	db := mustOpen(t)
	f := setup(t, db)
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	fail := false
	real := db.batch.sync.flush
	db.batch.sync.flush = func() error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-gate
		if fail {
			return errors.New("disk on fire")
		}
		return real()
	}
	done := make(chan error, 1)
	go func() { done <- db.CreateEntity(f.ctx, f.entityValue("fsync-user-1")) }()
	<-entered
	select {
	case err := <-done:
		t.Fatalf("write acknowledged before the fsync finished: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if n := countRows(t, db, "entities", "identity = 'fsync-user-1'"); n != 1 {
		t.Fatalf("committed row not visible to readers during the fsync: %d", n)
	}
	gate <- struct{}{}
	if err := <-done; err != nil {
		t.Fatalf("write after fsync: %v", err)
	}

	fail = true
	go func() { done <- db.CreateEntity(f.ctx, f.entityValue("fsync-user-2")) }()
	gate <- struct{}{}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("failed fsync reported as %v", err)
	}
	fail = false
	close(gate) // let Close's last flushes through
}
