package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"reflect"
	"unsafe"

	"modernc.org/libc"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openSQLitePool opens a database/sql pool on a SQLite DSN whose
// connections run in SQLite's multi-thread mode.
//
// modernc.org/sqlite opens every connection SQLITE_OPEN_FULLMUTEX (fixed
// in its conn.go, with no DSN parameter to change it): SQLite's serialized
// mode, in which every API call takes the connection's recursive mutex.
// Reading a row calls the API two or three times per column (its type,
// then its value and length), and modernc emulates a recursive pthread
// mutex with atomics around a sync.Mutex. In a factor list page of 50 rows
// of 24 columns that was a fifth of the server's CPU (BENCHMARKS.md, "The
// connection mutex").
//
// The mutex protects a connection used by two threads at once, which
// database/sql never does: it hands a driver connection to one goroutine at
// a time, and modernc's documentation says its connections are not safe for
// concurrent use whatever SQLite's mode. The one call modernc makes from
// another goroutine, sqlite3_interrupt when a context ends, is an atomic
// store that SQLite documents as safe from any thread. So each new
// connection gets what SQLITE_OPEN_NOMUTEX would have given it: no
// connection mutex. SQLite's global mutexes (page cache, VFS) are untouched.
func openSQLitePool(dsn string) (*sql.DB, error) {
	base, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(multiThread{base}), nil
}

// multiThread is a driver.Connector that takes the connection mutex out of
// every connection it opens (openSQLitePool).
type multiThread struct{ driver.Connector }

func (m multiThread) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := m.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	dropConnMutex(conn)
	return conn, nil
}

// dropConnMutex frees a fresh connection's mutex and leaves the connection
// without one, as sqlite3_open_v2 does with SQLITE_OPEN_NOMUTEX; close
// then frees nothing more (sqlite3_mutex_free of no mutex does nothing).
// If the driver's connection is not laid out as expected (a new version of
// modernc), the connection keeps its mutex: slower, never unsafe.
// TestSQLiteConnsMultiThread fails then, so an upgrade cannot lose this
// unnoticed.
func dropConnMutex(conn driver.Conn) {
	db, ok := sqliteHandle(conn)
	if !ok || db == 0 {
		return
	}
	// The sqlite3 object lives in modernc's C heap, not Go's, so the
	// address is stable; converting it through a pointer keeps vet's
	// uintptr rule out of a conversion that is sound here.
	p := *(**sqlite3.Tsqlite3)(unsafe.Pointer(&db))
	mu := p.Fmutex
	if mu == 0 {
		return
	}
	p.Fmutex = 0
	tls := libc.NewTLS()
	sqlite3.Xsqlite3_mutex_free(tls, mu)
	tls.Close()
}

// sqliteHandle returns the sqlite3* of a modernc driver connection: the
// unexported uintptr field db of *sqlite.conn, which the driver offers no
// accessor for.
func sqliteHandle(conn driver.Conn) (uintptr, bool) {
	v := reflect.ValueOf(conn)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	t := v.Elem().Type()
	if t.PkgPath() != "modernc.org/sqlite" || t.Name() != "conn" {
		return 0, false
	}
	f := v.Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Uintptr {
		return 0, false
	}
	return uintptr(f.Uint()), true
}
