package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

// totpChallengeSQL is CreateTotpChallenge's one statement (PostgreSQL). It
// locks the factor row (old), unless the service has a webhook; takes the
// challenge quota on it and, if the code matched a step that starts at or
// after the end of the last step used, moves that end to the step's (q);
// and inserts the challenge, approved if the step was taken, pending with
// one failed attempt if not. old reads the row under its lock, so it sees
// the last committed use of a step, and the UPDATE that follows in the same
// statement cannot be overtaken: two nodes cannot both take one step.
// When no row comes back nothing was written: the service has webhooks,
// the factor is gone, or the quota is spent.
var totpChallengeSQL = func() string {
	set, where := quotaParts(challengeWindows)
	return `WITH old AS (
	SELECT sid, totp_last_used_end AS used FROM factors
	WHERE sid = ? AND entity_sid = ? AND NOT EXISTS (SELECT 1 FROM webhooks WHERE service_sid = ?)
	FOR UPDATE),
q AS (
	UPDATE factors SET ` + set + `,
	totp_last_used_end = CASE WHEN ? AND old.used <= ? THEN ? ELSE factors.totp_last_used_end END
	FROM old WHERE factors.sid = old.sid AND ` + where + `
	RETURNING (? AND old.used <= ?) AS ok)
INSERT INTO challenges (` + challengeColumns + `)
SELECT ?, ?, ?, ?, ?, ?, ?, CASE WHEN q.ok THEN 'approved' ELSE 'pending' END, ?, ?, ?, ?, ?, ?, ?,
	CASE WHEN q.ok THEN ?::bigint END, CASE WHEN q.ok THEN 0 ELSE 1 END FROM q
RETURNING status`
}()

// CreateTotpChallenge checks a TOTP code and stores its challenge in one
// statement on PostgreSQL, shared with the checks that come at the same time
// (totp_batch.go); see verify.Store.
func (s *store) CreateTotpChallenge(ctx context.Context, c *verify.Challenge, q verify.ChallengeQuota, matched bool, start, end int64, now time.Time) (bool, bool, error) {
	if !s.d.roundTrips() || s.inTx() {
		return false, false, nil
	}
	details, hidden, metadata, err := challengeJSON(c)
	if err != nil {
		return false, false, err
	}
	j := &totpJob{c: c, q: q, matched: matched, start: start, end: end, now: now,
		details: details, hidden: hidden, metadata: metadata}
	if s.totp == nil {
		return s.createTotpChallenge(ctx, j)
	}
	r := s.totp.submit(ctx, j, func(err error) totpResult { return totpResult{err: err} })
	return r.done, r.approved, r.err
}

// createTotpChallenge runs totpChallengeSQL for one check.
func (s *store) createTotpChallenge(ctx context.Context, j *totpJob) (bool, bool, error) {
	c := j.c
	set, where := quotaArgs(challengeWindows, j.now, j.q.Hour, j.q.Day)
	args := []any{string(c.FactorSid), string(c.EntitySid), string(c.ServiceSid)}
	args = append(args, set...)
	args = append(args, j.matched, j.start, j.end)
	args = append(args, where...)
	args = append(args, j.matched, j.start,
		string(c.Sid), string(c.AccountSid), string(c.ServiceSid), string(c.EntitySid),
		c.Identity, string(c.FactorSid), string(c.FactorType),
		c.RespondedReason, j.details, j.hidden, j.metadata, unix(c.ExpirationDate),
		unix(c.DateCreated), unix(c.DateUpdated), unix(j.now))
	var status string
	err := s.queryRow(ctx, totpChallengeSQL, args...).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("sqlstore: create challenge %s: %w", c.Sid, err)
	}
	return true, status == string(verify.ChallengeApproved), nil
}
