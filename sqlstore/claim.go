package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrInUse is returned by Claim when another process serves the file.
var ErrInUse = errors.New("sqlstore: the SQLite file is served by another process; run one server per file, or use PostgreSQL for several")

// Claim makes this process the only server of a SQLite file until db is
// closed: a second Claim of the same file, from any process, fails with
// ErrInUse. It takes an exclusive lock on a "<file>.lock" file beside the
// database. Servers claim their file because they keep its rows in memory
// (package cache) on the promise that every write goes through them. Tools
// that only read, or that run while no server does, need not claim.
// On PostgreSQL, which several nodes share, Claim does nothing.
func (db *DB) Claim() error {
	if db.d == postgres || db.claim != nil {
		return nil
	}
	if db.batch == nil {
		return fmt.Errorf("sqlstore: claim: no database file")
	}
	path := strings.TrimSuffix(db.batch.sync.wal, "-wal") + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, PrivateMode)
	if err != nil {
		return fmt.Errorf("sqlstore: claim: %w", err)
	}
	// The lock file holds nothing, but one another user can open is one
	// they can hold the lock on, keeping the server from starting.
	db.modes = append(db.modes, tightenAll(path)...)
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return ErrInUse
		}
		return fmt.Errorf("sqlstore: claim %s: %w", path, err)
	}
	db.claim = f
	return nil
}
