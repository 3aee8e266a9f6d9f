package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/verifyd/verify/sqlstore"
)

// TestOneServerPerSQLiteFile: a second server on a SQLite file that one
// already serves refuses to start (its in-memory cache would miss the
// other's writes); once the first stops, a new one starts.
func TestOneServerPerSQLiteFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "verifyd.db")
	s1 := startServer(t, db, accountEnv(testAccount, testToken))
	env := accountEnv(testAccount, testToken)
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", db},
		func(k string) string { return env[k] }, io.Discard, io.Discard)
	if !errors.Is(err, sqlstore.ErrInUse) {
		t.Fatalf("second server: %v, want ErrInUse", err)
	}
	s1.stop()
	s2 := startServer(t, db, accountEnv(testAccount, testToken))
	if st, _ := call(t, s2, "GET", "/v2/Services", nil); st != 200 {
		t.Fatalf("server after the first stopped: list services %d", st)
	}
}
