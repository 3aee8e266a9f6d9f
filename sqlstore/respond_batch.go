package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

// respondJob is one RespondChallengeAlone call waiting for its batch
// (batch.go).
type respondJob struct {
	sid      verify.Sid
	status   verify.ChallengeStatus
	reason   string
	metadata map[string]string
	now      time.Time
}

type respondResult struct {
	ok  bool
	err error
}

type respondBatcher = batcher[verify.Sid, *respondJob, respondResult]

// newRespondBatcher batches s's lone push answers: a batch holds each
// challenge once, so that of two answers to one challenge the first wins
// and the second is told so.
func newRespondBatcher(s *store) *respondBatcher {
	return newBatcher(func(j *respondJob) verify.Sid { return j.sid }, s.respondMany,
		func(ctx context.Context, j *respondJob) respondResult {
			ok, err := s.tryRespond(ctx, j.sid, j.status, j.reason, j.metadata, j.now, 0, noWebhookGuard)
			return respondResult{ok, err}
		})
}

// noWebhookGuard keeps a lone answer off a service with a webhook, whose
// event must be written with the answer.
const noWebhookGuard = ` AND NOT EXISTS (SELECT 1 FROM webhooks WHERE webhooks.service_sid = challenges.service_sid)`

// respondBatchSQL is tryRespond's compare-and-swap, guarded by
// noWebhookGuard, for many challenges: the answers come in as arrays,
// unnested into the rows of i. old locks the challenges in the order of
// their SIDs, so that two batches, on one node or two, cannot deadlock on
// each other; a challenge answered or expired meanwhile drops out of old
// when its lock is granted, as in a lone UPDATE.
var respondBatchSQL = postgres.rebind(`WITH i AS (
	SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int8[]) AS i(sid, status, reason, metadata, t)),
old AS (
	SELECT challenges.sid FROM challenges JOIN i ON challenges.sid = i.sid
	WHERE challenges.status = ? AND challenges.expiration_date > i.t` + noWebhookGuard + `
	ORDER BY challenges.sid
	FOR UPDATE OF challenges)
UPDATE challenges SET status = i.status, responded_reason = i.reason, date_responded = i.t, date_updated = i.t,
	metadata = COALESCE(i.metadata, challenges.metadata)
FROM old JOIN i ON i.sid = old.sid
WHERE challenges.sid = old.sid
RETURNING challenges.sid`)

// respondMany runs respondBatchSQL for jobs, whose challenges are all
// different, and answers each: ok if its challenge changed.
func (s *store) respondMany(ctx context.Context, jobs []*respondJob) ([]respondResult, error) {
	n := len(jobs)
	sid, status, reason, metadata, t := make([]string, n), make([]string, n), make([]string, n), make([]*string, n), make([]int64, n)
	for k, j := range jobs {
		meta, err := marshalMap(j.metadata)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: respond to challenge %s: %w", j.sid, err)
		}
		sid[k], status[k], reason[k], metadata[k], t[k] = string(j.sid), string(j.status), j.reason, nullText(meta), unix(j.now)
	}
	args := []any{sid, status, reason, metadata, t, string(verify.ChallengePending)}
	changed, err := rowsByKey(ctx, s.w.QueryContext, respondBatchSQL, args, func(sc scanner) (verify.Sid, bool, error) {
		var sid string
		err := sc.Scan(&sid)
		return verify.Sid(sid), true, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: respond to %d challenges: %w", n, err)
	}
	out := make([]respondResult, n)
	for k, j := range jobs {
		out[k].ok = changed[j.sid]
	}
	return out, nil
}
