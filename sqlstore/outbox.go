package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

var _ verify.OutboxStore = (*DB)(nil)

// The outbox keeps its times in Unix milliseconds (see migration 0009).
func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(x int64) time.Time { return time.UnixMilli(x).UTC() }

const outboxColumns = `id, kind, account_sid, ref, payload, status, attempts, next_attempt_at, deadline, last_error, claim, date_created, date_updated`

func scanOutbox(sc scanner) (*verify.OutboxMessage, error) {
	m := &verify.OutboxMessage{}
	var kind, account, status string
	var next, deadline, created, updated int64
	if err := sc.Scan(&m.ID, &kind, &account, &m.Ref, &m.Payload, &status, &m.Attempts, &next, &deadline,
		&m.LastError, &m.Claim, &created, &updated); err != nil {
		return nil, err
	}
	m.Kind, m.Account, m.Status = verify.OutboxKind(kind), verify.Sid(account), verify.OutboxStatus(status)
	m.NextAttempt, m.Deadline = fromMillis(next), fromMillis(deadline)
	m.DateCreated, m.DateUpdated = fromMillis(created), fromMillis(updated)
	return m, nil
}

// EnqueueOutbox adds a pending row. Inside a transaction it commits or
// rolls back with the change that caused it.
func (s *store) EnqueueOutbox(ctx context.Context, m *verify.OutboxMessage) error {
	payload := m.Payload
	if payload == nil {
		payload = []byte{} // NOT NULL
	}
	_, err := s.exec(ctx, `INSERT INTO outbox (`+outboxColumns+`) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, '', '', ?, ?)`,
		m.ID, string(m.Kind), string(m.Account), m.Ref, payload, string(verify.OutboxPending),
		millis(m.NextAttempt), millis(m.Deadline), millis(m.DateCreated), millis(m.DateCreated))
	if err != nil {
		return fmt.Errorf("sqlstore: enqueue %s %s: %w", m.Kind, m.ID, err)
	}
	return nil
}

// ClaimOutbox picks due rows as the sweep picks its rows (sweep.go): a
// MATERIALIZED pick that on PostgreSQL locks them and skips rows another
// claimer holds, so two nodes never get the same row, then one UPDATE of
// the picked rows by key that returns them. On SQLite the writer's lock
// orders claims, with the same result.
func (s *store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*verify.OutboxMessage, error) {
	token, err := claimToken()
	if err != nil {
		return nil, err
	}
	var out []*verify.OutboxMessage
	err = s.atomic(ctx, func(t *store) error {
		out = out[:0]
		q := `WITH picked AS MATERIALIZED (
	SELECT id FROM outbox WHERE status = ? AND next_attempt_at <= ?
	ORDER BY next_attempt_at LIMIT ?` + t.d.skipLocked() + `)
UPDATE outbox SET claim = ?, attempts = attempts + 1, next_attempt_at = ?, date_updated = ?
WHERE id IN (SELECT id FROM picked)
RETURNING ` + outboxColumns
		// t.query: the writer's prepared statement on SQLite, where
		// preparing (planning the CTE and the UPDATE) was most of a claim.
		rows, err := t.query(ctx, q,
			string(verify.OutboxPending), millis(now), limit,
			token, millis(now.Add(lease)), millis(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanOutbox(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim outbox: %w", err)
	}
	return out, nil
}

// claimToken returns a fresh random claim token.
func claimToken() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("sqlstore: claim token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// SettleOutbox records an attempt's outcome, as a compare-and-swap on the
// claim token: a node whose lease ran out while it was sending cannot
// overwrite what the next claimer records.
func (s *store) SettleOutbox(ctx context.Context, id, claim string, o verify.OutboxOutcome) (bool, error) {
	next := o.NextAttempt
	if o.Status != verify.OutboxPending {
		next = o.Now
	}
	// The claim is cleared: a pending row with a claim is one an attempt
	// is under way for (ReleaseOutboxClaims).
	ok, err := s.execOne(ctx, `UPDATE outbox SET status = ?, next_attempt_at = ?, last_error = ?, date_updated = ?, claim = ''
WHERE id = ? AND claim = ? AND status = ?`,
		string(o.Status), millis(next), o.LastError, millis(o.Now),
		id, claim, string(verify.OutboxPending))
	if err != nil {
		return false, fmt.Errorf("sqlstore: settle outbox %s: %w", id, err)
	}
	return ok, nil
}

// ReleaseOutboxClaims makes the pending rows whose attempt was under way
// due at now, and returns how many. It is for a SQLite server that has
// just claimed its file (Claim): any claim then is one of a process that
// died, and its rows need not wait for the lease to end. On PostgreSQL,
// whose nodes share the outbox, it does nothing: leases end by themselves.
func (db *DB) ReleaseOutboxClaims(ctx context.Context, now time.Time) (int, error) {
	if db.d == postgres || db.claim == nil {
		return 0, nil
	}
	n, err := db.execCount(ctx, `UPDATE outbox SET claim = '', next_attempt_at = ? WHERE status = ? AND claim <> ''`,
		millis(now), string(verify.OutboxPending))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: release outbox claims: %w", err)
	}
	return n, nil
}

// HastenOutbox makes ref's waiting rows due at now. A row under way keeps
// its claim until it is settled, so requiring an empty claim leaves it
// alone; so is a row whose claimer died, which comes due when its lease
// ends.
func (s *store) HastenOutbox(ctx context.Context, ref string, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `UPDATE outbox SET next_attempt_at = ?
WHERE status = ? AND next_attempt_at > ? AND ref = ? AND claim = ''`,
		millis(now), string(verify.OutboxPending), millis(now), ref)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: hasten outbox: %w", err)
	}
	return n, nil
}

// PruneOutbox deletes delivered and dead rows last changed before before.
// A settled row's next_attempt_at is its settle time (SettleOutbox), which
// is when it last changed, so the pick reads outbox_due (migration 0011).
// It takes any limit rows past the retention, in no order: a sort would
// read them all first, and which go in this batch does not matter.
func (s *store) PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.execCount(ctx, `WITH picked AS MATERIALIZED (
	SELECT id FROM outbox WHERE status IN (?, ?) AND next_attempt_at < ?
	LIMIT ?`+s.d.skipLocked()+`)
DELETE FROM outbox WHERE id IN (SELECT id FROM picked)`,
		string(verify.OutboxDelivered), string(verify.OutboxDead), millis(before), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune outbox: %w", err)
	}
	return n, nil
}

// ListOutbox returns up to limit rows of one status (all if empty), the
// most recently changed first.
func (s *store) ListOutbox(ctx context.Context, status verify.OutboxStatus, limit int) ([]*verify.OutboxMessage, error) {
	q, args := `SELECT `+outboxColumns+` FROM outbox`, []any{}
	if status != "" {
		q += ` WHERE status = ?`
		args = append(args, string(status))
	}
	q += ` ORDER BY date_updated DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list outbox: %w", err)
	}
	defer rows.Close()
	var out []*verify.OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list outbox: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list outbox: %w", err)
	}
	return out, nil
}

// CountOutbox counts the rows of a status, for the outbox depth metric.
func (s *store) CountOutbox(ctx context.Context, status verify.OutboxStatus) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE status = ?`, string(status)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count outbox: %w", err)
	}
	return n, nil
}
