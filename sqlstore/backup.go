package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the SQLite database at dsn to the new
// file dest, while a server may be writing it: VACUUM INTO reads one
// snapshot of the database (WAL readers never block the writer, nor it
// them) and writes it compacted, checkpointed and ready to open. dest is
// created with PrivateMode and must not exist. The copy holds the sealed
// secrets, so it is only useful with the master key that sealed them.
// PostgreSQL has its own tools (pg_dump, base backups) and is refused.
func Backup(ctx context.Context, dsn, dest string) error {
	if IsPostgres(dsn) {
		return errors.New("backup copies a SQLite database; back PostgreSQL up with pg_dump or your base backups")
	}
	path := sqlitePath(dsn)
	if path == "" {
		return fmt.Errorf("backup: %q names no SQLite file", dsn)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("backup: %s exists", dest)
	}
	// The copy is written in a private directory beside dest, made
	// private, then renamed: no one else can open it while it is being
	// written with the process's default mode.
	dir, err := os.MkdirTemp(filepath.Dir(dest), ".verifyd-backup-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "copy.db")
	db, err := openSQLitePool(withParams(dsn, "_pragma=busy_timeout(10000)"))
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", dsn, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Chmod(tmp, PrivateMode); err != nil {
		return err
	}
	if err := os.Link(tmp, dest); err != nil { // fails if dest appeared meanwhile
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
