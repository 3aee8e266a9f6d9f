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
// other keys of the ring (TOTP secrets in factors, auth tokens in accounts)
// are opened and sealed again under the primary, a bounded batch at a
// time, until none is left; then the old keys can go.
//
// It needs no state of its own, and so no migration: a row still to do is
// one whose first five bytes are not the primary key's header, which both
// dialects compare in SQL (substr works on a SQLite blob and a PostgreSQL
// bytea alike). An interrupted run, a crash, or a second run at the same
// time on another machine simply finds the rows that are left. The scan is
// not indexed; a rotation is rare and reads each factor and account about
// once.
//
// Each value is written with a compare-and-swap on its old sealed value
// (UPDATE … WHERE sid = ? AND totp_secret = old), so a row deleted or
// re-sealed by someone else meanwhile is left alone, and a secret is never
// lost: the plaintext does not change, and the old value stays until the
// new one has replaced it in one statement. Readers see either value, and
// both open while the old key is in their ring.
//
// Nothing cached needs dropping: package cache keeps opened factors, whose
// plaintext a re-seal does not change, and no cached value holds the sealed
// bytes.

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

// KeyStatus counts the sealed values, TOTP secrets and auth tokens (each
// sealed token column of an account counts as one): how many there are,
// and how many are sealed under the primary key. Total-Primary are left to
// re-seal.
type KeyStatus struct {
	Total, Primary int
}

// Left is the number of sealed values not under the primary key.
func (k KeyStatus) Left() int { return k.Total - k.Primary }

// KeyStatus reads the counts; on large tables it scans each once.
func (db *DB) KeyStatus(ctx context.Context) (KeyStatus, error) {
	var st KeyStatus
	h := db.keys.ring().primary.header
	for _, q := range []string{
		`SELECT COUNT(*), SUM(CASE WHEN substr(totp_secret, 1, 5) = ? THEN 1 ELSE 0 END)
FROM factors WHERE totp_secret IS NOT NULL`,
		`SELECT COUNT(*), SUM(CASE WHEN substr(sealed_token, 1, 5) = ? THEN 1 ELSE 0 END)
FROM accounts WHERE sealed_token IS NOT NULL`,
		`SELECT COUNT(*), SUM(CASE WHEN substr(sealed_secondary_token, 1, 5) = ? THEN 1 ELSE 0 END)
FROM accounts WHERE sealed_secondary_token IS NOT NULL`,
	} {
		var total int
		var primary *int64
		if err := db.queryRow(ctx, q, h[:]).Scan(&total, &primary); err != nil {
			return KeyStatus{}, fmt.Errorf("sqlstore: key status: %w", err)
		}
		st.Total += total
		if primary != nil {
			st.Primary += int(*primary)
		}
	}
	return st, nil
}

// ResealBatch re-seals the values not under the primary key in up to limit
// rows: the sealed auth tokens of accounts, then the TOTP secrets of
// factors, taking rows in SID order after the SID after ("" to start). The rows are read on the read pool and opened and sealed in Go;
// only the compare-and-swap writes take the writer. On SQLite they run in
// one transaction (one commit, one fsync), which holds the writer for a few
// milliseconds; a request queues behind it at most that long, and
// cancelling ctx rolls the batch back. On PostgreSQL each row commits on
// its own (see below), so an interrupted batch keeps the rows it did.
// Either way the next run finds what is left.
//
// A value that no key of the ring opens is an error naming its row: the
// keys given are not the ones the database was sealed with, and nothing of
// the batch is written.
func (db *DB) ResealBatch(ctx context.Context, after string, limit int) (Reseal, error) {
	if limit <= 0 {
		return Reseal{}, fmt.Errorf("sqlstore: reseal: batch size %d", limit)
	}
	ring := db.keys.ring()
	// Accounts first, then factors, in one SID order: every account SID
	// ("AC…") sorts before every factor SID ("YF…"), so after says which
	// table the scan is in, and callers need no second cursor.
	var todo []change
	var rows int
	var err error
	if after < verify.PrefixFactor {
		todo, rows, err = db.toReseal(ctx, ring, accountSealed, after, limit)
		if err != nil {
			return Reseal{}, err
		}
	}
	res := Reseal{Next: after}
	if rows == 0 {
		if todo, rows, err = db.toReseal(ctx, ring, factorSealed, after, limit); err != nil {
			return Reseal{}, err
		}
		res.Done = rows < limit
	}
	if rows == 0 {
		return res, nil
	}
	write := func(t *store) error {
		res.Resealed, res.Skipped = 0, 0
		for _, c := range todo {
			ok, err := t.execOne(ctx, `UPDATE `+c.col.table+` SET `+c.col.name+` = ? WHERE sid = ? AND `+c.col.name+` = ?`,
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
		// Each row commits on its own: a transaction would hold every
		// row lock of the batch until its end, and a request locking two
		// of them in another order could deadlock with it.
		err = write(&db.store)
	} else {
		err = db.atomic(ctx, write)
	}
	if err != nil {
		return Reseal{}, fmt.Errorf("sqlstore: reseal: %w", err)
	}
	res.Next = todo[len(todo)-1].sid
	return res, nil
}

// sealedColumn is a column that holds sealed values, and the identity each
// value is sealed for (the "SID" of keyring.seal) given its row's SID.
type sealedColumn struct {
	table, name string
	ad          func(sid string) verify.Sid
}

// what names a value of the column for messages: "factor YF…", or
// "account AC… sealed_token".
func (c sealedColumn) what(sid string) string {
	if c.table == "factors" {
		return "factor " + sid
	}
	return "account " + sid + " " + c.name
}

var (
	factorSealed  = []sealedColumn{{"factors", "totp_secret", func(sid string) verify.Sid { return verify.Sid(sid) }}}
	accountSealed = []sealedColumn{
		{"accounts", "sealed_token", func(sid string) verify.Sid { return tokenAD(verify.Sid(sid), verify.TokenPrimary) }},
		{"accounts", "sealed_secondary_token", func(sid string) verify.Sid { return tokenAD(verify.Sid(sid), verify.TokenSecondary) }},
	}
)

// change is one sealed value to replace: old by new in col of row sid.
type change struct {
	col      sealedColumn
	sid      string
	old, new []byte
}

// toReseal reads up to limit rows of one table, after the SID after, that
// hold a value of cols not under the primary key, and opens and seals each
// such value again. It returns the changes and the number of rows read.
func (db *DB) toReseal(ctx context.Context, ring *keyring, cols []sealedColumn, after string, limit int) ([]change, int, error) {
	h := ring.primary.header
	var names, conds []string
	var args []any
	for _, c := range cols {
		names = append(names, c.name)
		conds = append(conds, "("+c.name+" IS NOT NULL AND substr("+c.name+", 1, 5) <> ?)")
		args = append(args, h[:])
	}
	rows, err := db.query(ctx, `SELECT sid, `+strings.Join(names, ", ")+` FROM `+cols[0].table+`
WHERE (`+strings.Join(conds, " OR ")+`) AND sid > ? ORDER BY sid LIMIT ?`, append(args, after, limit)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: reseal: %w", err)
	}
	var todo []change
	n := 0
	for rows.Next() {
		var sid string
		vals := make([][]byte, len(cols))
		dest := []any{&sid}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("sqlstore: reseal: %w", err)
		}
		n++
		for i, v := range vals {
			if v != nil && !bytes.HasPrefix(v, h[:]) {
				todo = append(todo, change{col: cols[i], sid: sid, old: v})
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: reseal: %w", err)
	}
	for i := range todo {
		c := &todo[i]
		plain, _, err := ring.open(c.col.ad(c.sid), c.old)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlstore: reseal %s: %w", c.col.what(c.sid), err)
		}
		if c.new, err = ring.seal(c.col.ad(c.sid), plain); err != nil {
			return nil, 0, fmt.Errorf("sqlstore: reseal %s: %w", c.col.what(c.sid), err)
		}
	}
	return todo, n, nil
}

// ErrWrongKey is wrapped by CheckKeys when the keys given do not open the
// secrets in the database.
var ErrWrongKey = errors.New("sqlstore: the secret key does not open the secrets sealed in this database")

// CheckKeys opens, in each sealed column (TOTP secrets, primary and
// secondary auth tokens), one value under the primary key and one under
// any other key, if the database holds such, and wraps ErrWrongKey if one
// fails to open. A server runs it at start, so that a wrong or missing key
// stops it with a clear message instead of failing every TOTP request
// later. It proves the ring opens the rows it tried, not every row: a
// database sealed under several old keys of which one is missing is found
// by the re-seal (which stops at the first such row, naming it).
func (db *DB) CheckKeys(ctx context.Context) error { return db.checkRing(ctx, db.keys.ring()) }

func (db *DB) checkRing(ctx context.Context, ring *keyring) error {
	h := ring.primary.header
	for _, c := range append(append([]sealedColumn{}, factorSealed...), accountSealed...) {
		for _, op := range []string{"=", "<>"} {
			var sid string
			var sealed []byte
			err := db.queryRow(ctx, `SELECT sid, `+c.name+` FROM `+c.table+`
WHERE `+c.name+` IS NOT NULL AND substr(`+c.name+`, 1, 5) `+op+` ? LIMIT 1`, h[:]).Scan(&sid, &sealed)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("sqlstore: check keys: %w", err)
			}
			if _, _, err := ring.open(c.ad(sid), sealed); err != nil {
				return fmt.Errorf("%w: %s is %v", ErrWrongKey, c.what(sid), err)
			}
		}
	}
	return nil
}
