package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/verifyd/verify"
)

// TestSQLitePragmas checks the settings each pool's connections get from
// the DSN.
func TestSQLitePragmas(t *testing.T) {
	db := mustOpen(t)
	tests := []struct {
		pool   *sql.DB
		pragma string
		want   string
	}{
		{db.wdb, "journal_mode", "wal"},
		{db.wdb, "foreign_keys", "1"},
		{db.wdb, "synchronous", "1"}, // NORMAL: the syncer fsyncs the WAL before answering
		{db.wdb, "busy_timeout", "10000"},
		{db.rdb, "busy_timeout", "10000"},
		{db.rdb, "query_only", "1"},
		{db.rdb, "cache_size", strconv.Itoa(-readerCacheKiB)},
		{db.wdb, "cache_size", "-2000"}, // SQLite's default: the writer's cache lasts
	}
	for _, tt := range tests {
		var got string
		if err := tt.pool.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
}

// TestSQLiteTxImmediate checks that Tx takes the write lock when it begins,
// even before its first write: another connection cannot write meanwhile.
func TestSQLiteTxImmediate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verify.db")
	db := mustOpenFile(t, path, testKey)
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	insert := `INSERT INTO accounts (sid, token_hash, date_created) VALUES ('ACx', x'00', 0)`

	ctx := context.Background()
	err = db.Tx(ctx, func(s verify.Store) error {
		if _, err := s.CountAccounts(ctx); err != nil {
			return err
		}
		_, err := other.Exec(insert)
		var e *sqlitedrv.Error
		if !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY {
			t.Errorf("write beside a reading Tx: %v, want SQLITE_BUSY", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(insert); err != nil {
		t.Fatalf("write after the Tx: %v", err)
	}
}

// TestSQLiteFileURI checks that a "file:" URI DSN works, with the driver
// parameters appended to its own query.
func TestSQLiteFileURI(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verify.db")
	db := mustOpenFile(t, "file:"+path+"?cache=private", testKey)
	ctx := context.Background()
	if err := db.PutAccount(ctx, &verify.Account{Sid: "ACuri", TokenHash: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := db.wdb.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenFile(t, path, testKey)
	if n, err := db.CountAccounts(ctx); err != nil || n != 1 {
		t.Fatalf("CountAccounts on the plain path = %d, %v", n, err)
	}
}
