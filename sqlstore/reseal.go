package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/verifyd/verify"
)

// Re-sealing: after the primary key changes, the values sealed under the
// other keys of the ring (every column of sealedTables: auth tokens, push
// credential secrets, TOTP secrets) are opened and sealed again under the
// primary, a bounded batch at a time, until none is left; then the old keys
// can go.
//
// It needs no state of its own, and so no migration: a value still to do
// is one whose first five bytes are not the primary key's header, which
// both dialects compare in SQL (substr works on a SQLite blob and a
// PostgreSQL bytea alike). An interrupted run, a crash, or a second run at
// the same time on another machine simply finds the values that are left.
// That comparison is not indexed (only the SID range is); a rotation is
// rare and reads each sealed row about once.
//
// Each value is written with a compare-and-swap on its old sealed value
// (UPDATE … WHERE sid = ? AND column = old), one statement per value, so a
// value deleted, replaced or re-sealed by someone else meanwhile is left
// alone (and the other value of the same account row is not held back by
// it), and a secret is never lost: the plaintext does not change, and the
// old value stays until the new one has replaced it in one statement.
// Readers see either value, and both open while the old key is in their
// ring.
//
// Nothing cached needs dropping: package cache keeps opened factors, whose
// plaintext a re-seal does not change, and no cached value holds the sealed
// bytes.

// sealedColumn is a column that holds values sealed through the keyring,
// and the identity each value is sealed for (the additional data, the "SID"
// of keyring.seal and open) given its row's SID: the SID itself, or for an
// auth token tokenAD's account SID, NUL and role. Opening or sealing with
// anything else would fail or make a value its readers cannot open.
type sealedColumn struct {
	name string
	ad   func(sid string) verify.Sid
}

// sealedTable is a table with sealed columns, its rows keyed by sid, all
// of whose SIDs begin with prefix.
type sealedTable struct {
	name   string
	what   string // what a row is, for messages: "factor YF…"
	prefix string
	cols   []sealedColumn
}

func sidAD(sid string) verify.Sid { return verify.Sid(sid) }

// sealedTables lists every column sealed through the keyring: a column
// left out would keep its values under a key that a rotation is about to
// retire. The tables are in the order of their SID prefixes (AC… < CR… <
// YF…, which TestSealedTablesInSIDOrder checks), so that one SID cursor
// walks them all in one order: the SID a batch ends at says which table
// the scan is in, and callers need no second cursor.
var sealedTables = []sealedTable{
	{"accounts", "account", verify.PrefixAccount, []sealedColumn{
		{"sealed_token", func(sid string) verify.Sid { return tokenAD(verify.Sid(sid), verify.TokenPrimary) }},
		{"sealed_secondary_token", func(sid string) verify.Sid { return tokenAD(verify.Sid(sid), verify.TokenSecondary) }},
	}},
	{"push_credentials", "credential", verify.PrefixPushCredential, []sealedColumn{{"secret", sidAD}}},
	{"factors", "factor", verify.PrefixFactor, []sealedColumn{{"totp_secret", sidAD}}},
}

// describe names a value for messages: "factor YF…", or, in a table of
// several sealed columns, "account AC… sealed_token".
func (t sealedTable) describe(sid string, col sealedColumn) string {
	if len(t.cols) == 1 {
		return t.what + " " + sid
	}
	return t.what + " " + sid + " " + col.name
}

// Reseal is the outcome of one ResealBatch.
type Reseal struct {
	// Values, not rows: an account may hold two sealed tokens.
	Resealed int // values now sealed under the primary key
	Skipped  int // values that changed under us (deleted, replaced, or re-sealed by another run)
	// Next is the SID to pass as after to the next call: the scan goes on
	// past rows that were skipped or failed, so a run ends.
	Next string
	// Done is true when the batch found no more rows after after.
	Done bool
}

// KeyStatus counts the sealed values of every column of sealedTables (an
// account's primary and secondary token count as two): how many there are,
// and how many are sealed under the primary key. Total-Primary are left to
// re-seal.
type KeyStatus struct {
	Total, Primary int
}

// Left is the number of sealed values not under the primary key.
func (k KeyStatus) Left() int { return k.Total - k.Primary }

// KeyStatus reads the counts; it scans each sealed column once.
func (db *DB) KeyStatus(ctx context.Context) (KeyStatus, error) {
	var st KeyStatus
	h := db.keys.ring().primary.header
	for _, t := range sealedTables {
		for _, c := range t.cols {
			var total int
			var primary *int64
			err := db.queryRow(ctx, `SELECT COUNT(*), SUM(CASE WHEN substr(`+c.name+`, 1, 5) = ? THEN 1 ELSE 0 END)
FROM `+t.name+` WHERE `+c.name+` IS NOT NULL`, h[:]).Scan(&total, &primary)
			if err != nil {
				return KeyStatus{}, fmt.Errorf("sqlstore: key status: %w", err)
			}
			st.Total += total
			if primary != nil {
				st.Primary += int(*primary)
			}
		}
	}
	return st, nil
}

// ResealBatch re-seals the values not under the primary key in up to limit
// rows of one table, taking the tables of sealedTables in turn and their
// rows in SID order after the SID after ("" to start). A batch stays in
// one table, the first with such rows after after: a table already passed
// costs one empty range of its primary key. The rows are read on the read
// pool and opened and sealed in Go; only the compare-and-swap writes take
// the writer. On SQLite they run in one transaction (one commit, one
// fsync), which holds the writer for a few milliseconds; a request queues
// behind it at most that long, and cancelling ctx rolls the batch back. On
// PostgreSQL each value commits on its own (see below), so an interrupted
// batch keeps the values it did. Either way the next run finds what is
// left.
//
// A value that no key of the ring opens is an error naming its row: the
// keys given are not the ones the database was sealed with, and nothing of
// the batch is written.
func (db *DB) ResealBatch(ctx context.Context, after string, limit int) (Reseal, error) {
	if limit <= 0 {
		return Reseal{}, fmt.Errorf("sqlstore: reseal: batch size %d", limit)
	}
	ring := db.keys.ring()
	for i, t := range sealedTables {
		todo, last, rows, err := db.toReseal(ctx, ring, t, after, limit)
		if err != nil {
			return Reseal{}, err
		}
		if rows == 0 {
			continue
		}
		// Done only in the last table: rows of a later table may follow.
		res := Reseal{Next: last, Done: i == len(sealedTables)-1 && rows < limit}
		write := func(s *store) error {
			res.Resealed, res.Skipped = 0, 0
			for _, c := range todo {
				ok, err := s.execOne(ctx, `UPDATE `+t.name+` SET `+c.col.name+` = ? WHERE sid = ? AND `+c.col.name+` = ?`,
					c.new, c.sid, c.old)
				if err != nil {
					return err
				}
				if ok {
					res.Resealed++
				} else {
					res.Skipped++
				}
			}
			return nil
		}
		if db.d == postgres {
			// Each value commits on its own: a transaction would hold
			// every row lock of the batch until its end, and a request
			// locking two of them in another order could deadlock with it.
			err = write(&db.store)
		} else {
			err = db.atomic(ctx, write)
		}
		if err != nil {
			return Reseal{}, fmt.Errorf("sqlstore: reseal: %w", err)
		}
		return res, nil
	}
	return Reseal{Next: after, Done: true}, nil
}

// change is one sealed value to replace: old by new in col of row sid.
type change struct {
	col      sealedColumn
	sid      string
	old, new []byte
}

// toReseal reads up to limit rows of t, after the SID after, that hold a
// value not under the primary key, and opens and seals each such value
// again. It returns the changes, the SID of the last row read and the
// number of rows read.
func (db *DB) toReseal(ctx context.Context, ring *keyring, t sealedTable, after string, limit int) ([]change, string, int, error) {
	h := ring.primary.header
	var names, conds []string
	var args []any
	for _, c := range t.cols {
		names = append(names, c.name)
		conds = append(conds, "("+c.name+" IS NOT NULL AND substr("+c.name+", 1, 5) <> ?)")
		args = append(args, h[:])
	}
	rows, err := db.query(ctx, `SELECT sid, `+strings.Join(names, ", ")+` FROM `+t.name+`
WHERE (`+strings.Join(conds, " OR ")+`) AND sid > ? ORDER BY sid LIMIT ?`, append(args, after, limit)...)
	if err != nil {
		return nil, "", 0, fmt.Errorf("sqlstore: reseal: %w", err)
	}
	var todo []change
	var last string
	n := 0
	for rows.Next() {
		vals := make([][]byte, len(t.cols))
		dest := []any{&last}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, "", 0, fmt.Errorf("sqlstore: reseal: %w", err)
		}
		n++
		for i, v := range vals {
			if v != nil && !bytes.HasPrefix(v, h[:]) {
				todo = append(todo, change{col: t.cols[i], sid: last, old: v})
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", 0, fmt.Errorf("sqlstore: reseal: %w", err)
	}
	for i := range todo {
		c := &todo[i]
		plain, _, err := ring.open(c.col.ad(c.sid), c.old)
		if err != nil {
			return nil, "", 0, fmt.Errorf("sqlstore: reseal %s: %w", t.describe(c.sid, c.col), err)
		}
		if c.new, err = ring.seal(c.col.ad(c.sid), plain); err != nil {
			return nil, "", 0, fmt.Errorf("sqlstore: reseal %s: %w", t.describe(c.sid, c.col), err)
		}
	}
	return todo, last, n, nil
}

// ErrWrongKey is wrapped by CheckKeys when the keys given do not open the
// secrets in the database.
var ErrWrongKey = errors.New("sqlstore: the secret key does not open the secrets sealed in this database")

// CheckKeys opens, in each sealed column of sealedTables (auth tokens, push
// credential secrets, TOTP secrets), one value under the primary key and
// one under any other key, if the database holds such, and wraps
// ErrWrongKey if one fails to open. A server runs it at start, so that a
// wrong or missing key stops it with a clear message instead of failing
// every TOTP request, webhook or push later. Every column is tried because
// any one may be the only one with values. It proves the ring opens the
// values it tried, not every value: a database sealed under several old
// keys of which one is missing is found by the re-seal (which stops at the
// first such value, naming its row).
func (db *DB) CheckKeys(ctx context.Context) error { return db.checkRing(ctx, db.keys.ring()) }

func (db *DB) checkRing(ctx context.Context, ring *keyring) error {
	h := ring.primary.header
	for _, t := range sealedTables {
		for _, c := range t.cols {
			for _, op := range []string{"=", "<>"} {
				var sid string
				var sealed []byte
				err := db.queryRow(ctx, `SELECT sid, `+c.name+` FROM `+t.name+`
WHERE `+c.name+` IS NOT NULL AND substr(`+c.name+`, 1, 5) `+op+` ? LIMIT 1`, h[:]).Scan(&sid, &sealed)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				if err != nil {
					return fmt.Errorf("sqlstore: check keys: %w", err)
				}
				if _, _, err := ring.open(c.ad(sid), sealed); err != nil {
					return fmt.Errorf("%w: %s is %v", ErrWrongKey, t.describe(sid, c), err)
				}
			}
		}
	}
	return nil
}
