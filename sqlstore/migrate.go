package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrations holds the schema of each dialect as numbered .sql files,
// migrations/<dialect>/NNNN_name.sql, with the same numbers in every
// dialect. They are forward-only: a released file is never edited, a change
// is a new file.
//
//go:embed migrations
var migrations embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the dialect's migrations in version order.
func loadMigrations(d dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", name)
		}
		b, err := fs.ReadFile(migrations, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// Migrate applies the migrations the database has not seen yet, each in its
// own transaction together with its row in schema_migrations, so a failed
// migration leaves the schema at the previous version. It refuses a database
// whose schema is newer than this binary knows, rather than run against
// tables it does not understand. Open calls it; `verifyd migrate` may too.
//
// Several processes may migrate the same database at once (nodes starting
// together): every step holds the migration lock (on PostgreSQL an advisory
// lock, on SQLite the write lock every transaction takes) and re-reads the
// version under it, so each migration runs exactly once and the others wait
// for it instead of failing half way.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(db.d)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return db.migrate(ctx, ms)
}

// migrate applies those of ms not recorded in schema_migrations. It goes by
// the set of versions applied, not by the highest: branches merge in any
// order, so a database may have run 0008 before the binary that brings
// 0007 exists, and 0007 must still run when it comes.
func (db *DB) migrate(ctx context.Context, ms []migration) error {
	applied := map[int]bool{}
	latest := 0
	err := db.migrationStep(ctx, func(s *store) error {
		// Inside the lock: PostgreSQL's CREATE TABLE IF NOT EXISTS is not
		// safe against a concurrent create of the same table.
		if _, err := s.w.ExecContext(ctx, s.d.schemaMigrationsDDL()); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		rows, err := s.query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("read versions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return fmt.Errorf("read versions: %w", err)
			}
			applied[v], latest = true, max(latest, v)
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if n := len(ms); n > 0 && latest > ms[n-1].version {
		return fmt.Errorf("sqlstore: migrate: database schema version %d is newer than this binary's %d", latest, ms[n-1].version)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if err := db.apply(ctx, m); err != nil {
			return fmt.Errorf("sqlstore: migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// migrationStep runs fn in a transaction that holds the migration lock.
//
// While several processes open a new SQLite file at once, and one of them
// switches it to WAL, BEGIN can fail with SQLITE_BUSY at once instead of
// waiting out busy_timeout; the step is then tried again a few times.
func (db *DB) migrationStep(ctx context.Context, fn func(*store) error) error {
	for attempt := 1; ; attempt++ {
		err := db.atomic(ctx, func(s *store) error {
			if err := s.d.lock(ctx, s.w, lockKey(s.schema, "migrate")); err != nil {
				return fmt.Errorf("take the migration lock: %w", err)
			}
			return fn(s)
		})
		if attempt == 20 || !db.d.isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		}
	}
}

// apply runs one migration in its own transaction. It checks again, under
// the migration lock, whether the migration was applied, because another
// process may have done so since Migrate looked.
func (db *DB) apply(ctx context.Context, m migration) error {
	return db.migrationStep(ctx, func(s *store) error {
		var n int
		if err := s.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`,
			m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		// Not rebound: a migration takes no arguments, and its comments may
		// hold a ? or a quote. Without arguments pgx sends it with the
		// simple protocol, which runs several statements.
		if _, err := s.w.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		_, err := s.exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			m.version, time.Now().Unix())
		return err
	})
}

// Ready checks that the database answers and has every migration this
// binary knows: what a readiness probe asks of a node. It reads through
// the read pool, so that a busy writer does not make a node look down.
func (db *DB) Ready(ctx context.Context) error {
	ms, err := loadMigrations(db.d)
	if err != nil {
		return err
	}
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	if n < len(ms) {
		return fmt.Errorf("database at migration %d of %d", n, len(ms))
	}
	return nil
}

// CheckWritable makes a write that changes nothing, so that a database
// the server cannot write (a read-only file, a mode=ro DSN, a PostgreSQL
// standby) stops the start with a clear message instead of failing
// requests and the sweep later.
func (db *DB) CheckWritable(ctx context.Context) error {
	_, err := db.exec(ctx, `UPDATE schema_migrations SET applied_at = applied_at
WHERE version = (SELECT MAX(version) FROM schema_migrations)`)
	if err != nil {
		return fmt.Errorf("the database cannot be written (read-only file, directory or server?): %w", err)
	}
	return nil
}
