package sqlstore

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
)

// PrivateMode is the mode of every file verifyd keeps beside a SQLite
// database: the database and its -wal and -shm (hashed credentials, sealed
// TOTP secrets, the challenges' details), the lock file, the key file and a
// self-signed certificate's private key. Nobody but the server's user has
// any business reading them.
const PrivateMode fs.FileMode = 0o600

// ModeChange is a file that Open or Claim found readable or writable by
// group or others and set to PrivateMode (or failed to: Err). The server
// logs them, since a file that was readable may have been read.
type ModeChange struct {
	Path string
	Was  fs.FileMode
	Err  error
}

// TightenMode sets the permission bits of path to PrivateMode if they grant
// anything to group or others, and reports the change. A missing file, or
// one already private, gives ok false.
//
// Closing the mode does not close a descriptor someone opened while it was
// open; that is why new files are created private rather than tightened
// afterwards (createPrivate), and why a change is worth a log line.
func TightenMode(path string) (c ModeChange, ok bool) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ModeChange{}, false
	}
	if err != nil {
		return ModeChange{Path: path, Err: err}, true
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return ModeChange{}, false
	}
	c = ModeChange{Path: path, Was: fi.Mode().Perm()}
	if err := os.Chmod(path, PrivateMode); err != nil {
		c.Err = fmt.Errorf("sqlstore: make %s private: %w", path, err)
	}
	return c, true
}

// tightenAll applies TightenMode to each path and returns the changes.
func tightenAll(paths ...string) []ModeChange {
	var cs []ModeChange
	for _, p := range paths {
		if c, ok := TightenMode(p); ok {
			cs = append(cs, c)
		}
	}
	return cs
}

// sqliteFiles returns a SQLite database file and the -wal and -shm files
// SQLite keeps beside it in WAL mode.
func sqliteFiles(db string) []string { return []string{db, db + "-wal", db + "-shm"} }

// sqlitePath returns the file a SQLite DSN names, or "" for an in-memory
// database or a URI form it does not decode (Open then tightens the file
// it finds open instead). The driver's own parameters follow a '?'.
func sqlitePath(dsn string) string {
	path, query, _ := strings.Cut(dsn, "?")
	if rest, ok := strings.CutPrefix(path, "file:"); ok {
		if strings.HasPrefix(rest, "//") {
			return ""
		}
		p, err := url.PathUnescape(rest)
		if err != nil {
			return ""
		}
		path = p
	}
	if path == "" || path == ":memory:" || strings.Contains(query, "mode=") {
		return ""
	}
	return path
}

// createPrivate creates path empty with PrivateMode unless it exists, so
// that SQLite opens a file nobody else can read. SQLite gives the -wal and
// -shm it creates the database file's mode, so they are private too; were
// the process umask used instead, a library would be changing every file
// the process creates.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, PrivateMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create %s: %w", path, err)
	}
	return f.Close()
}

// ModeChanges returns the files whose modes Open and Claim tightened.
func (db *DB) ModeChanges() []ModeChange { return db.modes }
