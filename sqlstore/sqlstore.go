// Package sqlstore implements verify.Store on database/sql with hand-written
// SQL, one file per table, for two dialects: SQLite (through the pure-Go
// modernc.org/sqlite driver, so that CGO_ENABLED=0 builds work) for one
// machine, and PostgreSQL (through pgx) for several nodes sharing one
// database. The queries are written once, portably; what differs lives in
// dialect.go and in the per-dialect migration folders.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/verifyd/verify"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DB is a verify.Store backed by a SQLite file or a PostgreSQL database.
//
// On SQLite it holds two pools on the same file: one writer connection, so
// that writers queue in Go (where they honour their context) instead of
// failing with SQLITE_BUSY, and a few read-only connections that WAL lets
// run beside the writer. Every write and everything inside Tx goes to the
// writer. A function passed to Tx must use the Store it is given, never the
// DB itself, for writes: the single writer connection is busy with the
// transaction.
//
// On PostgreSQL rdb and wdb are one pool (see dialect.go for its size), and
// every state change stays a compare-and-swap, so that several verifyd nodes
// can share the database.
type DB struct {
	store
	rdb, wdb *sql.DB
	bdb      *sql.DB                // PostgreSQL: the batched statements' pool
	batchers []interface{ close() } // PostgreSQL: the store's batchers, closed before bdb
	claim    *os.File               // held lock file, see Claim
	modes    []ModeChange           // files made private at Open and Claim
	ckpt     *checkpointer          // SQLite: checkpoints off the writer
}

var _ verify.Store = (*DB)(nil)

// writerBusyTimeout is how long the writer waits for a lock another
// process holds (busy_timeout).
const writerBusyTimeout = 10 * time.Second

// readerConns is the size of the read pool. Readers never block each other
// or the writer in WAL mode, so this only bounds file handles and memory.
const readerConns = 4

// readerCacheKiB is each reader's page cache, in KiB (PRAGMA cache_size
// takes a negative size in KiB). SQLite's default, 2,000 KiB, costs about
// 3.7 MB a reader here: modernc's allocator gives a 4 KiB page and its
// header (about 4.4 KB) an 8 KiB slot. A reader's cache is also short-lived:
// SQLite drops all of it when a read transaction finds that the WAL has
// changed, which every TOTP check or push answer does, so it only holds
// pages between writes, and the kernel's page cache serves the rest. At
// 512 KiB the 1,000,000-factor server of BENCHMARKS.md peaked at 85–91 MB
// against 97–102 MB (issue 15's target is 100 MB), and its factor list at
// 16 connections ran as fast as with the default. (A memory map instead
// is no help: SQLite unmaps it whenever the WAL changed.)
const readerCacheKiB = 512

// Open opens the database at dsn and brings its schema up to date. A
// postgres:// or postgresql:// URL selects PostgreSQL; anything else is a
// SQLite file path or "file:" URI, created if needed. secretKey is the
// 32-byte AES-256 key that seals TOTP secrets at rest; previous are keys
// that no longer seal but still open what they sealed, during a rotation
// (keyring.go, reseal.go). Every open of the same database (on PostgreSQL:
// every node) needs the keys its secrets were sealed with, or reading a TOTP
// factor fails; CheckKeys finds out at once.
func Open(ctx context.Context, dsn string, secretKey []byte, previous ...[]byte) (*DB, error) {
	ring, err := newKeyring(secretKey, previous...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open: %w", err)
	}
	keys := &keyBox{}
	keys.p.Store(ring)
	if IsPostgres(dsn) {
		p, schema, err := openPostgres(ctx, dsn)
		if err != nil {
			// The DSN may hold a password: name only the dialect.
			return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
		}
		db := &DB{rdb: p, wdb: p}
		db.store = store{d: postgres, schema: schema, keys: keys, prune: &pruneCursor{}, obs: &observer{}, r: p, w: p, begin: p}
		if err := db.Migrate(ctx); err != nil {
			p.Close()
			return nil, err
		}
		// The batchers run their statements on a copy of the store as it
		// is now, without the batchers, so that they never queue behind
		// them, on a pool of their own (openPostgresBatch).
		bp, err := openPostgresBatch(dsn)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
		}
		db.bdb = bp
		alone := db.store
		alone.r, alone.w, alone.begin = bp, bp, bp
		db.store.totp, db.store.answers = newTotpBatcher(&alone), newRespondBatcher(&alone)
		db.store.factorReads, db.store.challengeReads = newPointReads(&alone, factorRows(&alone)), newPointReads(&alone, challengeRows(&alone))
		db.store.entityReads, db.store.credentialReads = newPointReads(&alone, entityRows(&alone)), newPointReads(&alone, credentialRows(&alone))
		db.batchers = []interface{ close() }{db.totp, db.answers, db.factorReads, db.challengeReads, db.entityReads, db.credentialReads}
		return db, nil
	}
	return openSQLite(ctx, dsn, keys)
}

// openSQLite opens the writer, migrates, then opens the read pool.
func openSQLite(ctx context.Context, dsn string, keys *keyBox) (*DB, error) {
	// Before SQLite opens anything: an existing file made private now gets
	// private -wal and -shm, and a new one is created private.
	var modes []ModeChange
	if path := sqlitePath(dsn); path != "" {
		modes = tightenAll(sqliteFiles(path)...)
		if err := createPrivate(path); err != nil {
			return nil, err
		}
	}
	// busy_timeout comes first so that the pragmas after it wait for a lock
	// held by another process instead of failing. synchronous(NORMAL): a
	// commit is made durable by the syncer's fsync of the WAL before anyone
	// is told it succeeded (durable.go), off the writer's critical path.
	// _txlock=immediate takes the write lock at BEGIN, so a transaction never
	// fails half way with SQLITE_BUSY when it upgrades from read to write.
	// wal_autocheckpoint(0) and journal_size_limit: checkpoints run off
	// the writer (checkpoint.go). temp_store(MEMORY) keeps the savepoint journals of the committer's
	// jobs (commit.go) in memory: in a temporary file, their writes were a
	// fifth of the writer's time when one transaction touched many pages.
	w, err := openSQLitePool(withParams(dsn,
		fmt.Sprintf("_pragma=busy_timeout(%d)", writerBusyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=temp_store(MEMORY)",
		"_pragma=wal_autocheckpoint(0)",
		fmt.Sprintf("_pragma=journal_size_limit(%d)", walSizeLimit),
		"_txlock=immediate",
	))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", dsn, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	db := &DB{wdb: w, modes: modes}
	db.store = store{d: sqlite, keys: keys, prune: &pruneCursor{}, obs: &observer{}, r: w, w: w, begin: w}
	// Migrating first also switches the file to WAL before any reader opens.
	if err := db.Migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}

	// query_only makes an accidental write through the read pool fail
	// instead of racing the writer for the lock.
	r, err := openSQLitePool(withParams(dsn,
		"_pragma=busy_timeout(10000)",
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)",
		fmt.Sprintf("_pragma=cache_size(-%d)", readerCacheKiB),
	))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", dsn, err)
	}
	r.SetMaxOpenConns(readerConns)
	r.SetMaxIdleConns(readerConns)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", dsn, err)
	}
	db.rdb = r
	db.store.r = r
	db.store.rs = newStmtCache(r)
	wal, err := walPath(ctx, w)
	if err == nil {
		// Migrations committed without waiting for the disk: make them
		// durable before serving anything built on them.
		err = (&syncer{wal: wal}).fsync()
	}
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", dsn, err)
	}
	// Whatever the DSN named, these are the files SQLite has open.
	db.modes = append(db.modes, tightenAll(sqliteFiles(strings.TrimSuffix(wal, "-wal"))...)...)
	db.store.batch = newCommitter(w, db.store, newSyncer(wal, db.store.obs))
	if db.ckpt, err = newCheckpointer(dsn, db.store.batch); err != nil {
		db.store.batch.close()
		r.Close()
		w.Close()
		return nil, err
	}
	return db, nil
}

// Shared reports whether other processes may write the database too:
// PostgreSQL, which several nodes share. A SQLite file has one server.
func (db *DB) Shared() bool { return db.d == postgres }

// withParams appends driver parameters to a DSN that may already carry a
// query string.
func withParams(dsn string, params ...string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + strings.Join(params, "&")
}

// Close closes the pools. SQLite checkpoints the WAL into the main file
// when the last connection closes.
func (db *DB) Close() error {
	var errs []error
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.close())
	}
	if db.batch != nil {
		db.batch.close()
	}
	if db.bdb != nil {
		for _, b := range db.batchers {
			b.close()
		}
		errs = append(errs, db.bdb.Close())
	}
	if db.rs != nil {
		db.rs.close()
	}
	if db.rdb != nil && db.rdb != db.wdb {
		errs = append(errs, db.rdb.Close())
	}
	errs = append(errs, db.wdb.Close())
	if db.claim != nil {
		errs = append(errs, db.claim.Close()) // releases the lock
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common, so that one method
// body serves both the pools and a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// store implements verify.Store. Outside a transaction r is the read pool,
// w the writer and begin the writer pool; inside one, r and w are the
// *sql.Tx and begin is nil. schema names the advisory locks on PostgreSQL.
type store struct {
	d      dialect
	schema string
	keys   *keyBox // shared by every copy of the store
	// prune is where the sweep's walk of the counter tables stands
	// (ratelimit_take.go), shared by every copy of the store.
	prune *pruneCursor
	obs   *observer // commit and fsync latencies (observe.go)
	r, w  querier
	begin *sql.DB
	// batch, set outside a transaction on SQLite, groups writes into shared
	// commits (commit.go); nil on PostgreSQL, whose many writers commit
	// concurrently on their own.
	batch *committer
	// totp and answers, set on PostgreSQL, gather TOTP checks and lone
	// push answers into shared statements (batch.go).
	totp    *totpBatcher
	answers *respondBatcher
	// factorReads, challengeReads, entityReads and credentialReads, set on
	// PostgreSQL, gather the point reads of the same paths (read_batch.go).
	factorReads     *factorReads
	challengeReads  *challengeReads
	entityReads     *entityReads
	credentialReads *credentialReads
	// tx is the transaction s is bound to; cm the committer whose batch it
	// is, on SQLite; rs the read pool's prepared statements, on SQLite
	// (stmt.go).
	tx *sql.Tx
	cm *committer
	rs *stmtCache
}

// Tx runs fn in one writer transaction. Called on the store of a running
// transaction it runs fn in that same transaction: there are no savepoints,
// so an error from fn still rolls back the whole outer transaction once the
// outer fn returns it.
func (s *store) Tx(ctx context.Context, fn func(verify.Store) error) error {
	return s.atomic(ctx, func(t *store) error { return fn(t) })
}

// atomic runs fn on a store bound to a writer transaction, reusing the
// current one if s is already inside a transaction. fn's error is returned
// as is, so codes of *verify.Error survive.
func (s *store) atomic(ctx context.Context, fn func(*store) error) error {
	if s.inTx() {
		return fn(s)
	}
	if s.batch != nil {
		return s.batch.do(ctx, fn)
	}
	tx, err := s.begin.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	done := false
	defer func() {
		if !done { // fn failed or panicked
			_ = tx.Rollback()
		}
	}()
	t := *s
	t.r, t.w, t.begin, t.tx = tx, tx, nil, tx
	if err := fn(&t); err != nil {
		return err
	}
	done = true
	start := time.Now()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	s.obs.report("commit", start)
	return nil
}

// inTx reports whether s is bound to a transaction.
func (s *store) inTx() bool { return s.begin == nil }

// lockRow is the dialect's row-locking clause inside a transaction, and
// nothing outside one, where a lock would end with the statement anyway.
func (s *store) lockRow() string {
	if !s.inTx() {
		return ""
	}
	return s.d.lockRow()
}

// exec runs a write on the writer (or the transaction).
func (s *store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !s.inTx() && s.batch != nil {
		var res sql.Result
		err := s.batch.do(ctx, func(t *store) error {
			var err error
			res, err = t.exec(ctx, query, args...)
			return err
		})
		return res, err
	}
	var res sql.Result
	var err error
	ctx = s.d.statementContext(ctx)
	if st := s.prepared(ctx, query, true); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = s.w.ExecContext(ctx, s.d.rebind(query), args...)
	}
	if err != nil && s.d.isForeignKey(err) {
		// The parent was deleted after the caller looked it up (another
		// request, or another node): that is a not-found, not a failure.
		return nil, &verify.Error{Code: verify.ENotFound, Message: "The resource this request refers to was deleted", Err: err}
	}
	return res, err
}

// query runs a read on the read pool (or the transaction).
func (s *store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = s.d.statementContext(ctx)
	if st := s.prepared(ctx, query, false); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, s.d.rebind(query), args...)
}

// queryRow runs a one-row read on the read pool (or the transaction).
func (s *store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = s.d.statementContext(ctx)
	if st := s.prepared(ctx, query, false); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, s.d.rebind(query), args...)
}

// queryRowW reads one row on the writer, for reads that explain why a
// compare-and-swap just failed and must see the state it saw.
func (s *store) queryRowW(ctx context.Context, query string, args ...any) *sql.Row {
	if !s.inTx() && s.batch != nil {
		// The write it explains has committed before its batch answered,
		// so a reader sees it; the writer belongs to the committer.
		return s.queryRow(ctx, query, args...)
	}
	ctx = s.d.statementContext(ctx)
	if st := s.prepared(ctx, query, false); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.w.QueryRowContext(ctx, s.d.rebind(query), args...)
}

// execOne runs a write that must change exactly one row and reports whether
// it did.
func (s *store) execOne(ctx context.Context, query string, args ...any) (bool, error) {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// unix converts a domain time (whole seconds) to its column value.
func unix(t time.Time) int64 { return t.Unix() }

// fromUnix converts a column value back to a UTC time.
func fromUnix(x int64) time.Time { return time.Unix(x, 0).UTC() }

// unixPtr converts an optional time to a nullable column value.
func unixPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Unix()
}

// fromUnixPtr converts a nullable column value to an optional time.
func fromUnixPtr(x sql.NullInt64) *time.Time {
	if !x.Valid {
		return nil
	}
	t := fromUnix(x.Int64)
	return &t
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// marshalMap encodes a string map for a nullable JSON column: nil stays
// NULL, so that a missing map and an empty one read back as they were.
func marshalMap(m map[string]string) (any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// unmarshalMap decodes a nullable JSON column written by marshalMap.
func unmarshalMap(col sql.NullString) (map[string]string, error) {
	if !col.Valid {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(col.String), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// nullString stores an empty string as NULL, for columns where NULL is the
// natural "absent" (and UNIQUE must not see two empty strings).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
