package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

// totpJob is one CreateTotpChallenge call waiting for its batch (batch.go).
type totpJob struct {
	c                *verify.Challenge
	q                verify.ChallengeQuota
	matched          bool
	start, end       int64
	now              time.Time
	details          string
	hidden, metadata any // string or nil
}

type totpResult struct {
	done, approved bool
	err            error
}

type totpBatcher = batcher[verify.Sid, *totpJob, totpResult]

// newTotpBatcher batches s's TOTP checks: a batch holds each factor once,
// since the second check of a factor must see the step the first used.
func newTotpBatcher(s *store) *totpBatcher {
	return newBatcher(func(j *totpJob) verify.Sid { return j.c.FactorSid }, s.createTotpChallenges,
		func(ctx context.Context, j *totpJob) totpResult {
			done, approved, err := s.createTotpChallenge(ctx, j)
			return totpResult{done, approved, err}
		})
}

// totpBatchSQL is totpChallengeSQL for many checks on different factors:
// the checks come in as arrays, one element per check, unnested into the
// rows of i. old locks the factors in the order of their SIDs, so that two
// batches, on one node or two, cannot deadlock on each other.
var totpBatchSQL = postgres.rebind(func() string {
	col := func(name string) func(window) string {
		return func(w window) string { return "i." + name + "_" + w.name }
	}
	set, where := quotaClauses(challengeWindows, col("over"), func(window) string { return "i.t" }, col("lim"))
	unnest := "?::int4[], ?::text[], ?::text[], ?::text[], ?::int8[], ?::bool[], ?::int8[], ?::int8[]"
	names := "n, factor_sid, entity_sid, service_sid, t, matched, step_start, step_end"
	for _, w := range challengeWindows {
		unnest += ", ?::int8[], ?::int8[]"
		names += ", over_" + w.name + ", lim_" + w.name
	}
	unnest += ", ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int8[], ?::int8[], ?::int8[]"
	names += ", sid, account_sid, identity, factor_type, reason, details, hidden, metadata, expires, created, updated"
	return `WITH i AS (
	SELECT * FROM unnest(` + unnest + `) AS i(` + names + `)),
old AS (
	SELECT f.sid, f.totp_last_used_end AS used, i.n FROM factors f JOIN i ON f.sid = i.factor_sid AND f.entity_sid = i.entity_sid
	WHERE NOT EXISTS (SELECT 1 FROM webhooks WHERE webhooks.service_sid = i.service_sid)
	ORDER BY f.sid
	FOR UPDATE OF f),
q AS (
	UPDATE factors SET ` + set + `,
	totp_last_used_end = CASE WHEN i.matched AND old.used <= i.step_start THEN i.step_end ELSE factors.totp_last_used_end END
	FROM old JOIN i ON i.n = old.n WHERE factors.sid = old.sid AND ` + where + `
	RETURNING old.n, (i.matched AND old.used <= i.step_start) AS ok)
INSERT INTO challenges (` + challengeColumns + `)
SELECT i.sid, i.account_sid, i.service_sid, i.entity_sid, i.identity, i.factor_sid, i.factor_type,
	CASE WHEN q.ok THEN 'approved' ELSE 'pending' END, i.reason, i.details, i.hidden, i.metadata,
	i.expires, i.created, i.updated, CASE WHEN q.ok THEN i.t END, CASE WHEN q.ok THEN 0 ELSE 1 END
FROM q JOIN i ON i.n = q.n
RETURNING sid, status`
}())

// createTotpChallenges runs totpBatchSQL for jobs, whose factors are all
// different, and answers each: a job whose challenge was not written is
// not done, as when totpChallengeSQL returns no row.
func (s *store) createTotpChallenges(ctx context.Context, jobs []*totpJob) ([]totpResult, error) {
	n := len(jobs)
	var (
		idx                                        = make([]int32, n)
		factor, entity, service                    = make([]string, n), make([]string, n), make([]string, n)
		t, stepStart, stepEnd                      = make([]int64, n), make([]int64, n), make([]int64, n)
		matched                                    = make([]bool, n)
		sid, account, identity, ftype, reason, dtl = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		hidden, metadata                           = make([]*string, n), make([]*string, n)
		expires, created, updated                  = make([]int64, n), make([]int64, n), make([]int64, n)
		over, lim                                  = make([][]int64, len(challengeWindows)), make([][]int64, len(challengeWindows))
	)
	for w := range challengeWindows {
		over[w], lim[w] = make([]int64, n), make([]int64, n)
	}
	for k, j := range jobs {
		c := j.c
		idx[k] = int32(k)
		factor[k], entity[k], service[k] = string(c.FactorSid), string(c.EntitySid), string(c.ServiceSid)
		t[k], matched[k], stepStart[k], stepEnd[k] = unix(j.now), j.matched, j.start, j.end
		for w, limit := range []int{j.q.Hour, j.q.Day} {
			over[w][k], lim[w][k] = challengeWindows[w].operands(j.now, limit)
		}
		sid[k], account[k], identity[k], ftype[k] = string(c.Sid), string(c.AccountSid), c.Identity, string(c.FactorType)
		reason[k], dtl[k], hidden[k], metadata[k] = c.RespondedReason, j.details, nullText(j.hidden), nullText(j.metadata)
		expires[k], created[k], updated[k] = unix(c.ExpirationDate), unix(c.DateCreated), unix(c.DateUpdated)
	}
	args := []any{idx, factor, entity, service, t, matched, stepStart, stepEnd}
	for w := range challengeWindows {
		args = append(args, over[w], lim[w])
	}
	args = append(args, sid, account, identity, ftype, reason, dtl, hidden, metadata, expires, created, updated)
	statuses, err := rowsByKey(ctx, s.w.QueryContext, totpBatchSQL, args, func(sc scanner) (verify.Sid, string, error) {
		var sid, status string
		err := sc.Scan(&sid, &status)
		return verify.Sid(sid), status, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: create %d TOTP challenges: %w", n, err)
	}
	out := make([]totpResult, n)
	for k, j := range jobs {
		status, done := statuses[j.c.Sid]
		out[k] = totpResult{done: done, approved: status == string(verify.ChallengeApproved)}
	}
	return out, nil
}

// nullText is a nullable text column's value (string or nil) as an array
// element.
func nullText(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}
