package sqlstore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointOffWriter: the writer never checkpoints, yet the database
// file receives the committed pages while the store is open (the
// checkpointer's passive checkpoints), and a WAL past walRestartPages is
// restarted between batches, so that it stays bounded under steady writes
// (by walRestartPages and what is written in one checkpointEvery).
func TestCheckpointOffWriter(t *testing.T) {
	defer func(n int) { walRestartPages = n }(walRestartPages)
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
