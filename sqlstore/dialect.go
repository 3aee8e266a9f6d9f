package sqlstore

import (
	"errors"
	"strconv"
	"strings"

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
		// pgx's *pgconn.PgError has SQLState; checking for the method keeps
		// the driver out of this file until it is a dependency.
		var e interface{ SQLState() string }
		return errors.As(err, &e) && e.SQLState() == "23505" // unique_violation
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
