package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/verifyd/verify"
)

// TestOpenMakesFilesPrivate: Open creates the database 0600 under the
// tests' umask of 022, SQLite gives the -wal and -shm it makes after a write
// the same mode, and a database found 0644 is made 0600 and reported.
func TestOpenMakesFilesPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "verify.db")
	files := []string{path, path + "-wal", path + "-shm", path + ".lock"}
	check := func(db *DB) {
		t.Helper()
		if err := db.Claim(); err != nil {
			t.Fatal(err)
		}
		if err := db.PutAccount(context.Background(), &verify.Account{Sid: "AC0123456789abcdef0123456789abcdef", TokenHash: verify.HashToken("t"), DateCreated: t0}); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != PrivateMode {
				t.Errorf("%s: mode %#o, want %#o", filepath.Base(f), m, PrivateMode)
			}
		}
	}
	db := mustOpenFile(t, path, testKey)
	check(db)
	if cs := db.ModeChanges(); len(cs) != 0 {
		t.Errorf("new database: ModeChanges = %v, want none", cs)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for _, f := range []string{path, path + ".lock"} {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db = mustOpenFile(t, path, testKey)
	check(db)
	got := map[string]os.FileMode{}
	for _, c := range db.ModeChanges() {
		if c.Err != nil {
			t.Errorf("%s: %v", c.Path, c.Err)
		}
		got[c.Path] = c.Was
	}
	if len(got) != 2 || got[path] != 0o644 || got[path+".lock"] != 0o644 {
		t.Errorf("ModeChanges = %v, want the database and lock file, both were 0644", db.ModeChanges())
	}
}

func TestSQLitePath(t *testing.T) {
	for dsn, want := range map[string]string{
		"verifyd.db":                     "verifyd.db",
		"/var/lib/verifyd.db?_pragma=x":  "/var/lib/verifyd.db",
		"file:dir/my%20db.db?cache=slow": "dir/my db.db",
		"file:x.db?mode=ro":              "",
		"file::memory:":                  "",
		":memory:":                       "",
		"file://host/x.db":               "",
		"":                               "",
		"file:bad%zz":                    "",
	} {
		if got := sqlitePath(dsn); got != want {
			t.Errorf("sqlitePath(%q) = %q, want %q", dsn, got, want)
		}
	}
}
