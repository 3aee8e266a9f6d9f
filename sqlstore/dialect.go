package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is the SQL database behind a DB. Queries are written once, with
// ? placeholders and portable SQL; everything that differs between the
// databases is decided here, so that no other file has to ask which one it
// talks to.
type dialect int

const (
	sqlite dialect = iota
	postgres
)

// String names the dialect as its migrations directory does.
func (d dialect) String() string {
	if d == postgres {
		return "postgres"
	}
	return "sqlite"
}

// IsPostgres reports whether dsn selects PostgreSQL (a postgres:// or
// postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// statementContext is the context a single statement runs under. On
// SQLite it drops ctx's cancellation: the driver, and database/sql for
// every Rows, start a goroutine per statement to watch a cancellable
// context, which cost more than the point reads and writes it could
// interrupt, all of them bounded (keyset pages, limited sweeps) and short.
// Waiting for the writer still honours ctx: that wait is in the committer's
// queue, not in a statement. PostgreSQL keeps ctx, so that a query stuck
// behind a lock on the server ends with the request.
func (d dialect) statementContext(ctx context.Context) context.Context {
	if d == sqlite {
		return context.Background()
	}
	return ctx
}

// roundTrips reports whether each statement is a round trip to a server
// (PostgreSQL), so that a path that can be one statement is run as one:
// TakeRates reads a create's buckets in the statement that takes their
// units, CreateTotpChallenge checks a code in one. On SQLite a statement is
// a call on the single writer, whose time is what counts, and the general
// paths run.
func (d dialect) roundTrips() bool { return d == postgres }

// rebind rewrites the ? placeholders of query into the dialect's own. For
// PostgreSQL they become $1, $2, ...; a ? inside a quoted string literal or
// identifier is left alone.
func (d dialect) rebind(query string) string {
	if d != postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte // the open quote character, or 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// isUnique reports whether err is a violation of a UNIQUE or PRIMARY KEY
// constraint, which the store turns into the matching domain error.
func (d dialect) isUnique(err error) bool {
	switch d {
	case postgres:
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505" // unique_violation
	default:
		var e *sqlitedrv.Error
		if !errors.As(err, &e) {
			return false
		}
		// The driver turns on extended result codes.
		c := e.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
}

// isForeignKey reports whether err is a violation of a FOREIGN KEY
// constraint: a row refers to a parent that does not exist (any more).
func (d dialect) isForeignKey(err error) bool {
	switch d {
	case postgres:
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23503" // foreign_key_violation
	default:
		var e *sqlitedrv.Error
		return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
}

// isNotNull reports whether err is a violation of a NOT NULL constraint:
// on SQLite, how a take of rate-limit units says that a bucket refused
// (gcraAllSQL).
func (d dialect) isNotNull(err error) bool {
	var e *sqlitedrv.Error
	return d == sqlite && errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_NOTNULL
}

// undoesFailedStatement reports whether a statement that fails is undone
// alone, leaving the transaction around it usable. SQLite does so (a
// statement journal inside every transaction); PostgreSQL aborts the
// whole transaction. gcraAllSQL relies on it.
func (d dialect) undoesFailedStatement() bool { return d == sqlite }

// isBusy reports whether err is SQLite's SQLITE_BUSY (in any of its
// extended forms). PostgreSQL waits for locks instead.
func (d dialect) isBusy(err error) bool {
	var e *sqlitedrv.Error
	return d == sqlite && errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// lockRow is the clause that locks the rows a SELECT inside a transaction
// returns until the transaction ends. PostgreSQL runs transactions at READ
// COMMITTED, so a read-modify-write or a count-then-insert in one
// transaction is only atomic across nodes if the row it hinges on is locked.
// NO KEY UPDATE is the weakest lock that excludes another locker while still
// letting other transactions insert rows that reference this one (their
// foreign-key checks take KEY SHARE). SQLite needs nothing: its
// transactions take the database's write lock at BEGIN (_txlock=immediate).
func (d dialect) lockRow() string {
	if d == postgres {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

// skipLocked is the clause of a background job's subquery that picks rows
// to change: on PostgreSQL it locks them and skips rows another transaction
// holds, so a sweep never waits behind a request (the request's own
// compare-and-swap decides that row) and two sweeps never pick the same row.
func (d dialect) skipLocked() string {
	if d == postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// schemaMigrationsDDL creates the table that records applied migrations.
// applied_at holds Unix seconds: BIGINT on PostgreSQL, where INTEGER is 32
// bits; SQLite's INTEGER is 64 bits already.
func (d dialect) schemaMigrationsDDL() string {
	typ := "INTEGER"
	if d == postgres {
		typ = "BIGINT"
	}
	return `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at ` + typ + ` NOT NULL
)`
}

// tryLock takes the lock named key for the rest of the transaction q, and
// reports false without waiting if another session holds it. On PostgreSQL
// it is a transaction-level advisory lock, released by commit or rollback,
// so a node that dies mid-job frees it. On SQLite every writer transaction
// already holds the database's one write lock, so there is nothing more to
// take.
func (d dialect) tryLock(ctx context.Context, q querier, key int64) (bool, error) {
	if d != postgres {
		return true, nil
	}
	var ok bool
	err := q.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, key).Scan(&ok)
	return ok, err
}

// lock is tryLock that waits for the lock instead of giving up; migrations
// use it, so that nodes starting together apply each migration once, in
// turn.
func (d dialect) lock(ctx context.Context, q querier, key int64) error {
	if d != postgres {
		return nil
	}
	_, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
	return err
}

// lockKey turns a lock name into an advisory-lock key. The schema is part of
// it: advisory locks are per database, and two schemas of one database (two
// installations, or two tests running side by side) must not exclude each
// other.
func lockKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("verifyd\x00" + schema + "\x00" + name))
	return int64(h.Sum64())
}

// PostgreSQL pool settings. Reads and writes share one pool: unlike SQLite,
// PostgreSQL has no single-writer lock to queue for in Go, so splitting the
// pools would only double the connections. 10 connections, and the batch
// pool's 6 (openPostgresBatch), which carries the hot paths, make 16 per
// node: that covers a 2-4 core node (PostgreSQL work is mostly waiting on
// the network and on row locks) while six nodes stay under PostgreSQL's
// default max_connections of 100. Keeping as many idle connections as open ones avoids reconnecting
// (TLS and authentication) after each burst; closing those idle for 5
// minutes gives them back to the server when a node is quiet, and recycling
// every connection after an hour lets a node follow a failover or a DNS
// change.
const (
	pgMaxConns        = 10
	pgConnMaxIdleTime = 5 * time.Minute
	pgConnMaxLifetime = time.Hour
)

// pgBatchConns is the size of the pool the batched statements run on
// (batch.go): one worker per kind of batch, six kinds (two writes, four
// reads), so that no batch waits for another's connection.
const pgBatchConns = 6

// pgBatchPlanner are the planner settings of the batch pool's sessions.
// A batch statement joins an array of keys to its table, and PostgreSQL
// caches a generic plan for it after five runs on a connection. Built
// while a table is still small (a new database, no statistics yet: this
// machine's PostgreSQL runs with autovacuum off, so none came), that plan
// hashes a sequential scan of the table, and keeps doing so once the table
// is large: push answers fell to a third, at 1,300-1,800 µs of PostgreSQL
// CPU each, in about half the runs on a new database. With these off, the
// plan looks each key up in its index, whatever the table's size.
var pgBatchPlanner = []string{"enable_seqscan=off", "enable_hashjoin=off", "enable_mergejoin=off"}

// openPostgresBatch opens the batch pool: the same server, pgBatchConns
// connections, pgBatchPlanner's settings sent at connection start.
func openPostgresBatch(dsn string) (*sql.DB, error) {
	p, err := sql.Open("pgx", withParams(dsn, pgBatchPlanner...))
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(pgBatchConns)
	p.SetMaxIdleConns(pgBatchConns)
	p.SetConnMaxIdleTime(pgConnMaxIdleTime)
	p.SetConnMaxLifetime(pgConnMaxLifetime)
	return p, nil
}

// openPostgres opens the pool for a postgres:// URL. Runtime parameters such
// as search_path may be given in the URL's query; pgx passes them on.
func openPostgres(ctx context.Context, dsn string) (*sql.DB, string, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, "", err
	}
	p.SetMaxOpenConns(pgMaxConns)
	p.SetMaxIdleConns(pgMaxConns)
	p.SetConnMaxIdleTime(pgConnMaxIdleTime)
	p.SetConnMaxLifetime(pgConnMaxLifetime)
	// The schema the tables live in names the advisory locks (lockKey).
	var schema sql.NullString
	if err := p.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		p.Close()
		return nil, "", err
	}
	if !schema.Valid {
		p.Close()
		return nil, "", errors.New("no schema of the search_path exists")
	}
	return p, schema.String, nil
}
