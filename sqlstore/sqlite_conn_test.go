package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"sync"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// rawMutex returns the SQLite connection mutex of one connection of pool.
func rawMutex(t *testing.T, pool *sql.DB) uintptr {
	t.Helper()
	conn, err := pool.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var mu uintptr
	var ok bool
	if err := conn.Raw(func(dc any) error { mu, ok = connMutex(dc); return nil }); err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("%T: not a modernc connection whose sqlite3 handle can be read", conn)
	}
	return mu
}

// TestSQLiteConnsMultiThread checks that every pool the store opens runs
// its connections without SQLite's connection mutex (openSQLitePool), and
// that a connection opened the driver's own way has one, so that the check
// can tell them apart. It fails if a new modernc.org/sqlite changes the
// connection the fast path reads.
func TestSQLiteConnsMultiThread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verify.db")
	db := mustOpenFile(t, path, testKey)
	if mu := rawMutex(t, db.wdb); mu != 0 {
		t.Errorf("writer connection mutex %#x, want none", mu)
	}
	if mu := rawMutex(t, db.rdb); mu != 0 {
		t.Errorf("reader connection mutex %#x, want none", mu)
	}
	if mu := rawMutex(t, db.ckpt.db); mu != 0 {
		t.Errorf("checkpointer connection mutex %#x, want none", mu)
	}
	plain, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if mu := rawMutex(t, plain); mu == 0 {
		t.Error("a connection opened by sql.Open has no mutex: the check cannot fail")
	}
}

// TestSQLiteReadersParallel reads through every reader connection at once,
// many times, so that the race detector and SQLite itself see connections
// without their mutex used from many goroutines, one goroutine at a time
// each, as database/sql hands them out.
func TestSQLiteReadersParallel(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4*readerConns)
	for g := 0; g < 4*readerConns; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				var n int
				if err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = ?`, "table").Scan(&n); err != nil {
					errs <- err
					return
				}
				if n == 0 {
					errs <- sql.ErrNoRows
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// connMutex reports the SQLite connection mutex of a driver connection
// reached through sql.Conn.Raw, for tests: 0 when it runs in multi-thread
// mode, and false when the connection is not one sqliteHandle can read.
func connMutex(conn any) (uintptr, bool) {
	dc, ok := conn.(driver.Conn)
	if !ok {
		return 0, false
	}
	db, ok := sqliteHandle(dc)
	if !ok {
		return 0, false
	}
	tls := libc.NewTLS()
	defer tls.Close()
	return sqlite3.Xsqlite3_db_mutex(tls, db), true
}
