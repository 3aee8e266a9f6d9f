package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

// The background work of Verifier.Sweep. Each method changes at most limit
// rows in one statement. The rows are picked by a MATERIALIZED common table
// expression, which on PostgreSQL also locks them and skips rows another
// transaction holds (dialect.skipLocked). MATERIALIZED makes PostgreSQL run
// the pick once: as a plain IN (subquery) with LIMIT and SKIP LOCKED the
// planner may re-run it per row and change more than limit rows. The outer
// statement changes the picked rows by key and does not repeat the pick's
// conditions: they still hold, since on PostgreSQL the pick locked the rows
// (FOR UPDATE re-reads a row changed since the snapshot and skips it if it
// no longer matches) and on SQLite the statement runs under the writer's
// lock. Repeating them let SQLite's planner drive the outer statement by
// the pick's index, over every matching row instead of the picked ones: a
// claim over a backlog of thousands of due rows read them all, each time.

// ExpireChallenges marks up to limit pending challenges whose expiration
// date is at or before now as expired, and returns how many it marked.
// DateUpdated is left as it was: a challenge reads expired from its
// expiration date on, swept or not, so the sweep changes nothing a client
// can see; it only lets later reads skip the date arithmetic.
//
// The rows come back through RETURNING, read on the writer inside the
// statement's transaction, so that the sweep can emit challenge.expired in
// the same transaction.
func (s *store) ExpireChallenges(ctx context.Context, now time.Time, limit int) ([]*verify.Challenge, error) {
	var out []*verify.Challenge
	err := s.atomic(ctx, func(t *store) error {
		out = out[:0]
		rows, err := t.w.QueryContext(t.d.statementContext(ctx), t.d.rebind(`WITH picked AS MATERIALIZED (
	SELECT sid FROM challenges WHERE status = ? AND expiration_date <= ?
	ORDER BY expiration_date LIMIT ?`+t.d.skipLocked()+`)
UPDATE challenges SET status = ?
WHERE sid IN (SELECT sid FROM picked)
RETURNING `+challengeColumns),
			string(verify.ChallengePending), unix(now), limit,
			string(verify.ChallengeExpired))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanChallenge(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: expire challenges: %w", err)
	}
	return out, nil
}

// DeleteUnverifiedFactors deletes up to limit factors that are still
// unverified and were created before createdBefore, and returns how many.
// An unverified factor has no challenges, so nothing cascades.
func (s *store) DeleteUnverifiedFactors(ctx context.Context, createdBefore time.Time, limit int) (int, error) {
	n, err := s.execCount(ctx, `WITH picked AS MATERIALIZED (
	SELECT sid FROM factors WHERE status = ? AND date_created < ?
	ORDER BY date_created LIMIT ?`+s.d.skipLocked()+`)
DELETE FROM factors
WHERE sid IN (SELECT sid FROM picked) AND status = ? AND date_created < ?`,
		string(verify.FactorUnverified), unix(createdBefore), limit,
		string(verify.FactorUnverified), unix(createdBefore))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete unverified factors: %w", err)
	}
	return n, nil
}

// PurgeAccessTokens deletes up to limit access tokens created before
// createdBefore, and returns how many. A token lives at most
// verify.MaxAccessTokenTTL, so the caller picks a time by which every such
// token is spent, used or expired.
func (s *store) PurgeAccessTokens(ctx context.Context, createdBefore time.Time, limit int) (int, error) {
	n, err := s.execCount(ctx, `WITH picked AS MATERIALIZED (
	SELECT sid FROM access_tokens WHERE date_created < ?
	ORDER BY date_created LIMIT ?`+s.d.skipLocked()+`)
DELETE FROM access_tokens WHERE sid IN (SELECT sid FROM picked) AND date_created < ?`,
		unix(createdBefore), limit, unix(createdBefore))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge access tokens: %w", err)
	}
	return n, nil
}

// PurgePasskeyLogins deletes up to limit passkeys logins expired at now,
// in the form of the purges above.
func (s *store) PurgePasskeyLogins(ctx context.Context, now time.Time, limit int) (int, error) {
	n, err := s.execCount(ctx, `WITH picked AS MATERIALIZED (
	SELECT sid FROM passkey_logins WHERE expiration_date <= ?
	ORDER BY expiration_date LIMIT ?`+s.d.skipLocked()+`)
DELETE FROM passkey_logins WHERE sid IN (SELECT sid FROM picked) AND expiration_date <= ?`,
		unix(now), limit, unix(now))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge passkey logins: %w", err)
	}
	return n, nil
}

// TryLock runs fn in a transaction holding the lock called name, unless
// another node holds it: then it returns false at once without running fn.
// On PostgreSQL the lock is an advisory lock scoped to the transaction (and
// to the schema), so it is released when fn's work commits or rolls back,
// also if the node dies. On SQLite there is one process per database file,
// and the transaction holds the database's write lock anyway, so fn always
// runs. Inside a transaction TryLock joins it.
func (s *store) TryLock(ctx context.Context, name string, fn func(verify.Store) error) (bool, error) {
	ran := false
	err := s.atomic(ctx, func(t *store) error {
		ok, err := t.d.tryLock(ctx, t.w, lockKey(t.schema, name))
		if err != nil {
			return fmt.Errorf("sqlstore: lock %s: %w", name, err)
		}
		if !ok {
			return nil
		}
		ran = true
		return fn(t)
	})
	return ran, err
}

// execCount runs a write and returns the number of rows it changed.
func (s *store) execCount(ctx context.Context, query string, args ...any) (int, error) {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
