package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

// Re-sealing: after the primary key changes, the values sealed under the
// other keys of the ring are opened and sealed again under the primary, a
// bounded batch at a time, until none is left; then the old keys can go.
//
// It needs no state of its own, and so no migration: a row still to do is
// one whose first five bytes are not the primary key's header, which both
// dialects compare in SQL (substr works on a SQLite blob and a PostgreSQL
// bytea alike). An interrupted run, a crash, or a second run at the same
// time on another machine simply finds the rows that are left. The scan is
// not indexed; a rotation is rare and reads each TOTP factor about once.
//
// Each row is written with a compare-and-swap on its old sealed value
// (UPDATE … WHERE sid = ? AND totp_secret = old), so a factor deleted or
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
	Resealed int // rows now sealed under the primary key
	Skipped  int // rows that changed under us (deleted, or re-sealed by another run)
	// Next is the SID to pass as after to the next call: the scan goes on
	// past rows that were skipped or failed, so a run ends.
	Next string
	// Done is true when the batch found no more rows after after.
	Done bool
}

// KeyStatus counts the sealed TOTP secrets: how many there are, and how
// many are sealed under the primary key. Total-Primary are left to re-seal.
type KeyStatus struct {
	Total, Primary int
}

// Left is the number of sealed values not under the primary key.
func (k KeyStatus) Left() int { return k.Total - k.Primary }

// KeyStatus reads the counts; on a large table it scans it once.
func (db *DB) KeyStatus(ctx context.Context) (KeyStatus, error) {
	var st KeyStatus
	h := db.keys.ring().primary.header
	var primary *int64
	err := db.queryRow(ctx, `SELECT COUNT(*), SUM(CASE WHEN substr(totp_secret, 1, 5) = ? THEN 1 ELSE 0 END)
FROM factors WHERE totp_secret IS NOT NULL`, h[:]).Scan(&st.Total, &primary)
	if err != nil {
		return st, fmt.Errorf("sqlstore: key status: %w", err)
	}
	if primary != nil {
		st.Primary = int(*primary)
	}
	return st, nil
}

// ResealBatch re-seals up to limit TOTP secrets that are not under the
// primary key, taking factors in SID order after the SID after ("" to
// start). The rows are read on the read pool and opened and sealed in Go;
// only the compare-and-swap writes take the writer. On SQLite they run in
// one transaction (one commit, one fsync), which holds the writer for a few
// milliseconds; a request queues behind it at most that long, and
// cancelling ctx rolls the batch back. On PostgreSQL each row commits on
// its own (see below), so an interrupted batch keeps the rows it did.
// Either way the next run finds what is left.
//
// A value that no key of the ring opens is an error naming the factor: the
// keys given are not the ones the database was sealed with, and nothing of
// the batch is written.
func (db *DB) ResealBatch(ctx context.Context, after string, limit int) (Reseal, error) {
	if limit <= 0 {
		return Reseal{}, fmt.Errorf("sqlstore: reseal: batch size %d", limit)
	}
	ring := db.keys.ring()
	h := ring.primary.header
	rows, err := db.query(ctx, `SELECT sid, totp_secret FROM factors
WHERE totp_secret IS NOT NULL AND substr(totp_secret, 1, 5) <> ? AND sid > ?
ORDER BY sid LIMIT ?`, h[:], after, limit)
	if err != nil {
		return Reseal{}, fmt.Errorf("sqlstore: reseal: %w", err)
	}
	type change struct {
		sid      string
		old, new []byte
	}
	var todo []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.sid, &c.old); err != nil {
			rows.Close()
			return Reseal{}, fmt.Errorf("sqlstore: reseal: %w", err)
		}
		todo = append(todo, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Reseal{}, fmt.Errorf("sqlstore: reseal: %w", err)
	}
	res := Reseal{Next: after, Done: len(todo) < limit}
	if len(todo) == 0 {
		return res, nil
	}
	for i := range todo {
		c := &todo[i]
		plain, _, err := ring.open(verify.Sid(c.sid), c.old)
		if err != nil {
			return Reseal{}, fmt.Errorf("sqlstore: reseal factor %s: %w", c.sid, err)
		}
		if c.new, err = ring.seal(verify.Sid(c.sid), plain); err != nil {
			return Reseal{}, fmt.Errorf("sqlstore: reseal factor %s: %w", c.sid, err)
		}
	}
	write := func(t *store) error {
		res.Resealed, res.Skipped = 0, 0
		for _, c := range todo {
			ok, err := t.execOne(ctx, `UPDATE factors SET totp_secret = ? WHERE sid = ? AND totp_secret = ?`,
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

// ErrWrongKey is wrapped by CheckKeys when the keys given do not open the
// secrets in the database.
var ErrWrongKey = errors.New("sqlstore: the secret key does not open the TOTP secrets in this database")

// CheckKeys opens one sealed secret under the primary key and one under any
// other key, if the database holds such, and wraps ErrWrongKey if either
// fails to open. A server runs it at start, so that a wrong or missing key
// stops it with a clear message instead of failing every TOTP request
// later. It proves the ring opens the rows it tried, not every row: a
// database sealed under several old keys of which one is missing is found
// by the re-seal (which stops at the first such row, naming it).
func (db *DB) CheckKeys(ctx context.Context) error { return db.checkRing(ctx, db.keys.ring()) }

func (db *DB) checkRing(ctx context.Context, ring *keyring) error {
	h := ring.primary.header
	for _, op := range []string{"=", "<>"} {
		var sid string
		var sealed []byte
		err := db.queryRow(ctx, `SELECT sid, totp_secret FROM factors
WHERE totp_secret IS NOT NULL AND substr(totp_secret, 1, 5) `+op+` ? LIMIT 1`, h[:]).Scan(&sid, &sealed)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlstore: check keys: %w", err)
		}
		if _, _, err := ring.open(verify.Sid(sid), sealed); err != nil {
			return fmt.Errorf("%w: factor %s is %v", ErrWrongKey, sid, err)
		}
	}
	return nil
}
