// Package verifytest is shared test code: it hands each test a fresh, empty
// database on every backend the run covers, so that the store's conformance
// suite and the end-to-end tests run unchanged on SQLite and on PostgreSQL.
package verifytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EnvPostgres names the environment variable holding the DSN of a
// PostgreSQL database the tests may use, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Each test gets a
// schema of its own in it, so tests run in parallel and leave nothing behind.
const EnvPostgres = "VERIFYD_TEST_POSTGRES"

// Backend is a database verifyd can run on.
type Backend string

// The backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Backends returns the backends this run covers: SQLite always, PostgreSQL
// when EnvPostgres is set. Without it there is no PostgreSQL subtest at all,
// rather than one that skips and reads as a pass.
func Backends() []Backend {
	if os.Getenv(EnvPostgres) == "" {
		return []Backend{SQLite}
	}
	return []Backend{SQLite, Postgres}
}

// ForEach runs fn as one parallel subtest per backend, named after it, with
// a fresh database's DSN.
func ForEach(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			fn(t, DSN(t, b))
		})
	}
}

// DSN returns the DSN of a new, empty database on backend b that lives as
// long as the test: a SQLite file in t.TempDir(), or a PostgreSQL URL whose
// search_path is a schema made for this test and dropped when it ends.
// Cleanups run last-in first-out, so whatever the test opens on the DSN
// afterwards is closed before the schema is dropped.
func DSN(t testing.TB, b Backend) string {
	t.Helper()
	switch b {
	case SQLite:
		return filepath.Join(t.TempDir(), "verifyd.db")
	case Postgres:
		return postgresSchema(t)
	}
	t.Fatalf("verifytest: unknown backend %q", b)
	return ""
}

// postgresSchema makes a schema for t in the EnvPostgres database.
func postgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Fatalf("verifytest: %s is not set", EnvPostgres)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("verifytest: %s must be a postgres:// URL", EnvPostgres)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b)
	admin(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { dropSchema(t, base, schema) })
	q := u.Query()
	q.Set("search_path", schema) // pgx sends it as a runtime parameter
	u.RawQuery = q.Encode()
	return u.String()
}

// dropSchema drops a test's schema with everything in it. DROP SCHEMA
// CASCADE locks each of the schema's objects in turn, and PostgreSQL can
// find it in a deadlock with another test's DROP running at the same time
// (SQLSTATE 40P01; it happened in CI about once in ten full runs). The
// statement it aborts changed nothing, so it is run again.
func dropSchema(t testing.TB, dsn, schema string) {
	t.Helper()
	for try := 1; ; try++ {
		err := exec(dsn, "DROP SCHEMA "+schema+" CASCADE")
		var pe *pgconn.PgError
		if err == nil || try == 5 || !errors.As(err, &pe) || pe.Code != "40P01" {
			if err != nil {
				t.Fatalf("verifytest: DROP SCHEMA %s CASCADE: %s", schema, redact(err))
			}
			return
		}
		time.Sleep(time.Duration(try) * 50 * time.Millisecond)
	}
}

// exec runs one statement on its own short-lived connection.
func exec(dsn, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}

// admin runs one statement on its own short-lived connection.
func admin(t testing.TB, dsn, stmt string) {
	t.Helper()
	if err := exec(dsn, stmt); err != nil {
		t.Fatalf("verifytest: %s: %s", stmt, redact(err))
	}
}

// redact keeps a password in the DSN out of the test log.
func redact(err error) string {
	s := err.Error()
	if u, perr := url.Parse(os.Getenv(EnvPostgres)); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			s = strings.ReplaceAll(s, p, "xxxxx")
		}
	}
	return s
}
