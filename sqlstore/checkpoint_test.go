package sqlstore

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestCheckpointOffWriter: the writer never checkpoints, yet the database
// file receives the committed pages while the store is open (the
// checkpointer's passive checkpoints), and a WAL past walRestartPages is
// restarted between batches, so that it stays bounded under steady writes
// (by walRestartPages and what is written in one checkpointEvery).
func TestCheckpointOffWriter(t *testing.T) {
	// Restored after the store's Close (cleanups run last first), not
	// while its checkpointer may still read it.
	old := walRestartPages
	t.Cleanup(func() { walRestartPages = old })
	walRestartPages = 64
	path := filepath.Join(t.TempDir(), "verify.db")
	db := mustOpenFile(t, path, testKey)
	var auto int
	if err := db.wdb.QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d, %v; want 0", auto, err)
	}
	f := setup(t, db)
	start := fileSize(t, path)
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; db.batch.restarts.Load() < 2; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d commits, %d WAL restarts in 20 s", i, db.batch.restarts.Load())
		}
		if err := db.CreateEntity(f.ctx, f.entityValue(fmt.Sprintf("ckpt-%05d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := fileSize(t, path); got <= start {
		t.Errorf("database file %d bytes after the writes, %d before: nothing checkpointed", got, start)
	}
	// After a restart the writer starts again at the beginning of the
	// WAL: once writes stop, one write leaves a WAL of a few frames.
	for i := 0; ; i++ {
		db.batch.restart.Store(true)
		if err := db.CreateEntity(f.ctx, f.entityValue(fmt.Sprintf("last-%d", i))); err != nil {
			t.Fatal(err)
		}
		frames, err := db.ckpt.passive()
		if err != nil {
			t.Fatal(err)
		}
		if frames < 16 {
			break
		}
		if i == 10 {
			t.Fatalf("WAL of %d frames after 10 restarts", frames)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestRestartWaitsLittle: a RESTART checkpoint that finds a reader still
// in the WAL gives up after restartWait instead of holding up every write
// for the writer's busy_timeout, and the writer waits as long as before for
// other locks afterwards. While the reader stays, the asks that come on
// every tick are let pass for a back-off that doubles, so the writer is
// held up at most once per back-off; once the reader has gone, the next
// ask after the back-off restarts the WAL.
func TestRestartWaitsLittle(t *testing.T) {
	oldMin, oldMax := restartBackoff, restartBackoffMax
	restartBackoff, restartBackoffMax = time.Second, 2*time.Second
	t.Cleanup(func() { restartBackoff, restartBackoffMax = oldMin, oldMax })
	path := filepath.Join(t.TempDir(), "verify.db")
	db := mustOpenFile(t, path, testKey)
	f := setup(t, db)
	if err := db.CreateEntity(f.ctx, f.entityValue("before-the-reader")); err != nil {
		t.Fatal(err)
	}
	// A reader holding a snapshot of the WAL, as a long backup would.
	tx, err := db.rdb.BeginTx(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow("SELECT COUNT(*) FROM entities").Scan(&n); err != nil {
		t.Fatal(err)
	}
	before, tries := db.batch.restarts.Load(), db.batch.restartTries.Load()
	write := func(name string) {
		t.Helper()
		if err := db.CreateEntity(f.ctx, f.entityValue(name)); err != nil {
			t.Fatal(err)
		}
	}
	// Asked for before every write, as a large WAL makes the checkpointer
	// do on every tick: 20 writes within the first back-off try once.
	start := time.Now()
	for i := range 20 {
		db.batch.restart.Store(true)
		write(fmt.Sprintf("during-%d", i))
	}
	if took := time.Since(start); took >= restartBackoff {
		t.Fatalf("20 writes took %s behind RESTARTs waiting for a reader", took)
	}
	if got := db.batch.restartTries.Load() - tries; got != 1 {
		t.Fatalf("%d RESTARTs tried within the first back-off, want 1", got)
	}
	if db.batch.restarts.Load() != before {
		t.Error("a RESTART completed while a reader held the WAL")
	}
	var ms int
	if err := db.wdb.QueryRow("PRAGMA busy_timeout").Scan(&ms); err != nil || ms != int(writerBusyTimeout.Milliseconds()) {
		t.Errorf("writer busy_timeout after the restart: %d, %v", ms, err)
	}
	// After the back-off, one more try, refused again: the back-off doubles.
	time.Sleep(restartBackoff)
	db.batch.restart.Store(true)
	write("after-one-back-off")
	if got := db.batch.restartTries.Load() - tries; got != 2 {
		t.Errorf("%d RESTARTs tried after one back-off, want 2", got)
	}
	time.Sleep(restartBackoff) // half of the doubled back-off: no try
	db.batch.restart.Store(true)
	write("within-the-doubled-back-off")
	if got := db.batch.restartTries.Load() - tries; got != 2 {
		t.Errorf("%d RESTARTs tried within the doubled back-off, want 2", got)
	}
	// Without the reader, the next ask after the back-off goes through.
	tx.Rollback()
	time.Sleep(restartBackoffMax)
	db.batch.restart.Store(true)
	write("after-the-reader")
	write("after-the-reader-2")
	if db.batch.restarts.Load() == before {
		t.Error("no RESTART once the reader had gone")
	}
}

// TestRestartBackoffSchedule: the back-off's steps, the times passed in.
// Asked on every tick while each RESTART is refused, the committer tries
// at once, then after restartBackoff, then after twice as long and so on
// up to restartBackoffMax; a restart that completes ends the back-off, and
// the next refusal backs off from restartBackoff again.
func TestRestartBackoffSchedule(t *testing.T) {
	oldMin, oldMax := restartBackoff, restartBackoffMax
	t.Cleanup(func() { restartBackoff, restartBackoffMax = oldMin, oldMax })
	restartBackoff, restartBackoffMax = time.Second, 5*time.Second
	var c committer
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// asks asks on every tick of [from, to), the RESTARTs refused while
	// refuse, and returns when, after t0, they were tried.
	asks := func(from, to time.Duration, refuse bool) []time.Duration {
		var at []time.Duration
		for d := from; d < to; d += checkpointEvery {
			if now := t0.Add(d); c.restartDue(now) {
				at = append(at, d)
				c.restartDone(now, !refuse)
			}
		}
		return at
	}
	secs := func(ms ...int) []time.Duration {
		out := make([]time.Duration, len(ms))
		for i, m := range ms {
			out[i] = time.Duration(m) * time.Millisecond
		}
		return out
	}
	// A minute of asks behind a reader: 14 tries, not 600.
	want := secs(0, 1000, 3000, 7000, 12000, 17000, 22000, 27000, 32000, 37000, 42000, 47000, 52000, 57000)
	if got := asks(0, time.Minute, true); !slices.Equal(got, want) {
		t.Fatalf("tries behind a reader at %v, want %v", got, want)
	}
	// The reader gone, the first ask after the back-off (62 s) restarts the
	// WAL, and so does every ask after it.
	if got, want := asks(62*time.Second, 62300*time.Millisecond, false), secs(62000, 62100, 62200); !slices.Equal(got, want) {
		t.Errorf("tries without a reader at %v, want %v", got, want)
	}
	// A new reader's refusals back off from restartBackoff again.
	if got, want := asks(62300*time.Millisecond, 65*time.Second, true), secs(62300, 63300); !slices.Equal(got, want) {
		t.Errorf("tries behind a new reader at %v, want %v", got, want)
	}
	if c.restarts.Load() != 3 {
		t.Errorf("%d restarts counted, want 3", c.restarts.Load())
	}
}
