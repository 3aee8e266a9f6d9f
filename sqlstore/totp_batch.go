package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verifyd/verify"
)

// TOTP checks on PostgreSQL are group-committed, as SQLite's writes are
// (commit.go): the checks that arrive while a statement runs go together
// into the next one, which takes each one's quota, uses its step and inserts
// its challenge exactly as totpChallengeSQL does for one. PostgreSQL's cost
// of a check was mostly per statement and per commit (the executor's set-up,
// the protocol, the WAL flush and a backend woken for each), not per row:
// pgbench ran the statement's shape 8 rows at a time at 3-4 times the rows
// per second of one at a time. BENCHMARKS.md has the measurements.
const (
	// totpBatchWorkers is how many batch statements one node keeps in
	// flight. One, measured against two, three and four: the checks that
	// come while it runs all make the next statement, and PostgreSQL's CPU
	// per check was lowest (about 220 µs against 310, 320 and 500).
	totpBatchWorkers = 1
	// totpBatchMax bounds a statement's rows, so that its arrays and the
	// rows it locks stay small.
	totpBatchMax = 64
	// totpBatchTimeout bounds a batch's statement, which no one request's
	// context may cancel on the others' behalf.
	totpBatchTimeout = 30 * time.Second
)

var errStoreClosed = errors.New("sqlstore: the store is closed")

// totpJob is one CreateTotpChallenge call waiting for its batch.
type totpJob struct {
	c                *verify.Challenge
	q                verify.ChallengeQuota
	matched          bool
	start, end       int64
	now              time.Time
	details          string
	hidden, metadata any // string or nil
	res              chan totpResult
}

type totpResult struct {
	done, approved bool
	err            error
}

// totpBatcher gathers the checks of one node into batch statements.
type totpBatcher struct {
	s    *store // outside any transaction
	jobs chan *totpJob
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	// shared counts the checks answered by a statement they shared with
	// others, so that a test can tell that batches form.
	shared atomic.Int64
}

func newTotpBatcher(s *store) *totpBatcher {
	b := &totpBatcher{s: s, jobs: make(chan *totpJob), quit: make(chan struct{})}
	b.wg.Add(totpBatchWorkers)
	for range totpBatchWorkers {
		go b.work()
	}
	return b
}

// close lets the batches already taken finish, then stops the workers;
// later checks fail with errStoreClosed.
func (b *totpBatcher) close() {
	b.once.Do(func() { close(b.quit) })
	b.wg.Wait()
}

// submit hands j to a worker and waits for its answer. The jobs channel is
// unbuffered, so a job is either taken by a worker, which will answer it,
// or never written. A caller whose context ends while its batch runs gets
// ctx's error, and its check stands or not as the statement decides, as
// when a lone statement's answer is lost.
func (b *totpBatcher) submit(ctx context.Context, j *totpJob) (bool, bool, error) {
	select {
	case b.jobs <- j:
	case <-b.quit:
		return false, false, errStoreClosed
	case <-ctx.Done():
		return false, false, ctx.Err()
	}
	select {
	case r := <-j.res:
		return r.done, r.approved, r.err
	case <-ctx.Done():
		return false, false, ctx.Err()
	}
}

// work takes a job, then every job already waiting, up to totpBatchMax,
// and runs them. It never waits for more to come: a lone check runs at
// once, and under load the checks that came during one statement make the
// next.
func (b *totpBatcher) work() {
	defer b.wg.Done()
	for {
		var first *totpJob
		select {
		case first = <-b.jobs:
		case <-b.quit:
			return
		}
		jobs := []*totpJob{first}
	gather:
		for len(jobs) < totpBatchMax {
			select {
			case j := <-b.jobs:
				jobs = append(jobs, j)
			default:
				break gather
			}
		}
		for _, round := range totpRounds(jobs) {
			b.run(round)
		}
	}
}

// totpRounds splits jobs into batches in which no factor appears twice,
// each factor's jobs in the order they came: one statement can update a
// row only once, and the second check of a factor must see the first's
// step.
func totpRounds(jobs []*totpJob) [][]*totpJob {
	seen := make(map[verify.Sid]int, len(jobs))
	var rounds [][]*totpJob
	for _, j := range jobs {
		k := seen[j.c.FactorSid]
		seen[j.c.FactorSid] = k + 1
		if k == len(rounds) {
			rounds = append(rounds, make([]*totpJob, 0, len(jobs)))
		}
		rounds[k] = append(rounds[k], j)
	}
	return rounds
}

// run answers jobs, whose factors are all different. A lone job takes the
// one-row statement. If a batch statement fails it wrote nothing (a
// deadlock with an entity's deletion, a lost connection), and each job is
// tried alone, so that whatever failed fails only its own check.
func (b *totpBatcher) run(jobs []*totpJob) {
	ctx, cancel := context.WithTimeout(context.Background(), totpBatchTimeout)
	defer cancel()
	if len(jobs) > 1 {
		statuses, err := b.s.createTotpChallenges(ctx, jobs)
		if err == nil {
			b.shared.Add(int64(len(jobs)))
			for _, j := range jobs {
				status, done := statuses[j.c.Sid]
				j.res <- totpResult{done: done, approved: status == string(verify.ChallengeApproved)}
			}
			return
		}
	}
	for _, j := range jobs {
		done, approved, err := b.s.createTotpChallenge(ctx, j)
		j.res <- totpResult{done, approved, err}
	}
}

// totpBatchSQL is totpChallengeSQL for many checks on different factors:
// the checks come in as arrays, one element per check, unnested into the
// rows of i. old locks the factors in the order of their SIDs, so that two
// batches, on one node or two, cannot deadlock on each other.
var totpBatchSQL = func() string {
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
}()

// createTotpChallenges runs totpBatchSQL for jobs, whose factors are all
// different, and returns the status stored for each challenge written; a
// job with none wrote nothing, as when totpChallengeSQL returns no row.
func (s *store) createTotpChallenges(ctx context.Context, jobs []*totpJob) (map[verify.Sid]string, error) {
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
		// quotaArgs' set holds (over, now, over) per window, its where
		// (over, limit).
		_, where := quotaArgs(challengeWindows, j.now, j.q.Hour, j.q.Day)
		for w := range challengeWindows {
			over[w][k], lim[w][k] = where[2*w].(int64), int64(where[2*w+1].(int))
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
	rows, err := s.w.QueryContext(ctx, s.d.rebind(totpBatchSQL), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: create %d TOTP challenges: %w", n, err)
	}
	defer rows.Close()
	statuses := make(map[verify.Sid]string, n)
	for rows.Next() {
		var sid, status string
		if err := rows.Scan(&sid, &status); err != nil {
			return nil, fmt.Errorf("sqlstore: create %d TOTP challenges: %w", n, err)
		}
		statuses[verify.Sid(sid)] = status
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: create %d TOTP challenges: %w", n, err)
	}
	return statuses, nil
}

// nullText is a nullable text column's value (string or nil) as an array
// element.
func nullText(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}
