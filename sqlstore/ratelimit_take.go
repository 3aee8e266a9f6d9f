package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/verifyd/verify"
)

// RateBuckets reads the buckets of the named rate limits of a service,
// or of all its rate limits when names is nil.
func (s *store) RateBuckets(ctx context.Context, service verify.Sid, names []string) ([]verify.NamedBucket, error) {
	if names != nil && len(names) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(names)+1)
	args = append(args, string(service))
	filter := ""
	if names != nil {
		filter = ` AND r.unique_name IN (?` + strings.Repeat(", ?", len(names)-1) + `)`
		for _, n := range names {
			args = append(args, n)
		}
	}
	rows, err := s.query(ctx, `SELECT r.unique_name, b.sid, b.account_sid, b.service_sid, b.rate_limit_sid, b.max_requests, b.interval_s,
b.date_created, b.date_updated FROM rate_limits r JOIN rate_limit_buckets b ON b.rate_limit_sid = r.sid
WHERE r.service_sid = ?`+filter+` ORDER BY r.unique_name, b.interval_s`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: buckets of rate limits of %s: %w", service, err)
	}
	defer rows.Close()
	var out []verify.NamedBucket
	for rows.Next() {
		var name string
		b := &verify.Bucket{}
		var sid, account, svc, rl string
		var created, updated int64
		if err := rows.Scan(&name, &sid, &account, &svc, &rl, &b.Max, &b.Interval, &created, &updated); err != nil {
			return nil, fmt.Errorf("sqlstore: buckets of rate limits of %s: %w", service, err)
		}
		b.Sid, b.AccountSid, b.ServiceSid, b.RateLimitSid = verify.Sid(sid), verify.Sid(account), verify.Sid(svc), verify.Sid(rl)
		b.DateCreated, b.DateUpdated = fromUnix(created), fromUnix(updated)
		out = append(out, verify.NamedBucket{Limit: name, Bucket: b})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: buckets of rate limits of %s: %w", service, err)
	}
	return out, nil
}

// gcraSQL is the conditional upsert of n counters of table, keyed by
// keyCols, with GCRA (the generic cell rate algorithm, which is a token
// bucket kept as one number). In the scaled units of the counter tables
// (0014), a request costs emission (the interval) and a bucket holds span
// (interval times max): a request at now is admitted when max(tat, now) +
// emission <= now + span, and then moves tat to max(tat, now) + emission.
// So a full bucket admits max at once, and one more every interval/max
// after that, with no window edge at which the count resets. The
// inserted row is what a fresh counter becomes (tat = now + emission):
// excluded carries now and the bucket's units into the update. A row the
// WHERE leaves alone is not returned, which is how a refusal shows; the
// one statement is the whole compare-and-swap, so any number of nodes
// count exactly.
func gcraSQL(table string, keyCols []string, n int) string {
	return gcraInsert(table, keyCols, n) + gcraConflict(table, keyCols, false) + `
RETURNING ` + strings.Join(keyCols, ", ")
}

// gcraAllSQL is gcraSQL for a dialect that undoes a failed statement
// alone (SQLite): a bucket that refuses sets tat to NULL, so the NOT NULL
// constraint fails the statement and none of its units is taken. Without
// RETURNING, which on SQLite builds an ephemeral table on every run (a
// fifth of what a take cost), success is all the caller needs to know;
// after a refusal, which changed nothing, the counters read back say
// which buckets are full. A refused request then counts nowhere, also
// outside a transaction.
func gcraAllSQL(table string, keyCols []string, n int) string {
	return gcraInsert(table, keyCols, n) + gcraConflict(table, keyCols, true)
}

// gcraInsert is the INSERT of n fresh counters that gcraConflict turns
// into takes of the existing ones.
func gcraInsert(table string, keyCols []string, n int) string {
	row := "(" + strings.Repeat("?, ", len(keyCols)) + "?, ?, ?, ?, ?)"
	return `INSERT INTO ` + table + ` (` + strings.Join(keyCols, ", ") + `, tat, emission, span, scale, idle_at) VALUES ` + row +
		strings.Repeat(", "+row, n-1)
}

// gcraConflict is the ON CONFLICT clause of gcraSQL: what a take does to
// a counter that exists, and when it leaves it alone (a refusal), or with
// fail, makes the statement fail instead (gcraAllSQL).
func gcraConflict(table string, keyCols []string, fail bool) string {
	// A counter kept in other units than the take's (its bucket's Max or
	// Interval changed since, or a node read the bucket before the change)
	// starts afresh in the take's units: its tat means nothing in them.
	same := `(` + table + `.scale = excluded.scale AND ` + table + `.emission = excluded.emission)`
	next := `CASE WHEN ` + same + ` AND ` + table + `.tat + excluded.emission > excluded.tat THEN ` + table + `.tat + excluded.emission ELSE excluded.tat END`
	admit := `NOT ` + same + ` OR ` + table + `.tat + excluded.emission <= excluded.tat - excluded.emission + excluded.span`
	set, where := next, `
WHERE `+admit
	if fail {
		set, where = `CASE WHEN `+admit+` THEN `+next+` END`, ""
	}
	return `
ON CONFLICT (` + strings.Join(keyCols, ", ") + `) DO UPDATE SET tat = ` + set + `, idle_at = (` + next + `) / excluded.scale + 1,
emission = excluded.emission, span = excluded.span, scale = excluded.scale` + where
}

// texts holds statement texts built from their parts (gcraSQL,
// gcraAllSQL, rateTakeSQL) once per shape: built on every take, they were
// a tenth of its cost. The shapes are few: a table, a form and a take's
// count of buckets.
var texts sync.Map // textKey -> string

type textKey struct {
	form, table string
	n           int
}

// text returns the text of shape k, built by build the first time.
func text(k textKey, build func() string) string {
	if q, ok := texts.Load(k); ok {
		return q.(string)
	}
	q := build()
	texts.Store(k, q)
	return q
}

// Key columns of the two counter tables.
var (
	rateKeyCols     = []string{"value_key", "bucket_sid"}
	throttleKeyCols = []string{"counter_key"}
)

// gcraKeys returns the key column values of a take.
func gcraKeys(cols []string, t verify.RateTake) []string {
	if len(cols) == 1 {
		return []string{t.Key}
	}
	return []string{t.Key, string(t.Bucket)}
}

// TakeBuckets takes a unit from each counter of programmable rate limits.
func (s *store) TakeBuckets(ctx context.Context, takes []verify.RateTake, now time.Time) ([]verify.RateRefusal, error) {
	refused, err := s.takeGCRA(ctx, "rate_counters", rateKeyCols, takes, now)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take rate limits: %w", err)
	}
	return refused, nil
}

// TakeThrottle takes a unit from each counter of built-in limits.
func (s *store) TakeThrottle(ctx context.Context, takes []verify.RateTake, now time.Time) ([]verify.RateRefusal, error) {
	refused, err := s.takeGCRA(ctx, "throttle_counters", throttleKeyCols, takes, now)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take built-in limits: %w", err)
	}
	return refused, nil
}

// takeGCRA runs gcraSQL for takes and reads the refused counters back to
// say when each admits again; or gcraAllSQL where the dialect allows.
func (s *store) takeGCRA(ctx context.Context, table string, cols []string, takes []verify.RateTake, now time.Time) ([]verify.RateRefusal, error) {
	if len(takes) == 0 {
		return nil, nil
	}
	ms := now.UnixMilli()
	args := make([]any, 0, (len(cols)+5)*len(takes))
	for _, t := range takes {
		for _, k := range gcraKeys(cols, t) {
			args = append(args, k)
		}
		scale, emission := int64(t.Max), int64(t.Interval)*1000
		tat := ms*scale + emission
		args = append(args, tat, emission, emission*scale, scale, tat/scale+1)
	}
	var refused []verify.RateRefusal
	var err error
	if s.d.undoesFailedStatement() {
		refused, err = s.takeAll(ctx, table, cols, takes, ms, args)
	} else {
		refused, err = s.takeEach(ctx, table, cols, takes, ms, args)
	}
	if err != nil || len(refused) == 0 {
		return nil, err
	}
	return refused, nil
}

// takeAll runs gcraAllSQL: every unit taken, or none and the refusals.
func (s *store) takeAll(ctx context.Context, table string, cols []string, takes []verify.RateTake, ms int64, args []any) ([]verify.RateRefusal, error) {
	query := text(textKey{"all", table, len(takes)}, func() string { return gcraAllSQL(table, cols, len(takes)) })
	var refused []verify.RateRefusal
	err := s.atomic(ctx, func(t *store) error {
		refused = refused[:0]
		_, err := t.exec(ctx, query, args...)
		if err == nil || !t.d.isNotNull(err) {
			return err // every unit taken, the usual case
		}
		for _, tk := range takes {
			r, full, err := t.refusal(ctx, table, cols, tk, ms)
			if err != nil {
				return err
			}
			if full {
				refused = append(refused, r)
			}
		}
		if len(refused) == 0 {
			return err // not a refusal: a NULL key, say
		}
		return nil
	})
	return refused, err
}

// takeEach runs gcraSQL: the rows it returns say which units were taken.
// If one was not, the others are given back.
func (s *store) takeEach(ctx context.Context, table string, cols []string, takes []verify.RateTake, ms int64, args []any) ([]verify.RateRefusal, error) {
	query := text(textKey{"each", table, len(takes)}, func() string { return gcraSQL(table, cols, len(takes)) })
	k := make([]string, len(cols))
	dst := make([]any, len(cols))
	for i := range k {
		dst[i] = &k[i]
	}
	var refused []verify.RateRefusal
	err := s.atomic(ctx, func(t *store) error {
		refused = refused[:0]
		// t.query: inside the transaction, on the writer.
		rows, err := t.query(ctx, query, args...)
		if err != nil {
			return err
		}
		var got []string
		for rows.Next() {
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return err
			}
			got = append(got, strings.Join(k, "\x00"))
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(got) == len(takes) {
			return err // every unit taken, the usual case
		}
		for _, tk := range takes {
			if slices.Contains(got, strings.Join(gcraKeys(cols, tk), "\x00")) {
				continue
			}
			r, _, err := t.refusal(ctx, table, cols, tk, ms)
			if err != nil {
				return err
			}
			refused = append(refused, r)
		}
		return errRefused // undoes the units taken, outside a transaction
	})
	if errors.Is(err, errRefused) {
		err = nil
	}
	return refused, err
}

// errRefused rolls back the takes of a refused request, so that it
// counts nowhere; the caller's transaction, if any, is rolled back by the
// caller, which is told of the refusal.
var errRefused = errors.New("sqlstore: refused")

// refusal reads the counter of a take and says whether its bucket is full
// at ms (it would refuse the take), and when it admits again: once
// now*scale + span >= tat + emission. A counter in other units than the
// take's (another node's take in a changed bucket's units) says one
// unit's time, and is not full: a take starts it afresh. So is a counter
// that does not exist.
func (s *store) refusal(ctx context.Context, table string, cols []string, tk verify.RateTake, ms int64) (verify.RateRefusal, bool, error) {
	keys := gcraKeys(cols, tk)
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	per, unit := int64(tk.Max), int64(tk.Interval)*1000
	wait := (unit + per - 1) / per
	full := false
	var tat, emission, span, scale int64
	err := s.queryRow(ctx, `SELECT tat, emission, span, scale FROM `+table+` WHERE `+strings.Join(cols, " = ? AND ")+` = ?`, args...).
		Scan(&tat, &emission, &span, &scale)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return verify.RateRefusal{}, false, err
	case scale == per && emission == unit:
		wait = (tat + emission - span - ms*scale + scale - 1) / scale
		full = tat+emission > ms*scale+span
	}
	return verify.RateRefusal{Take: tk, After: time.Duration(max(wait, 0)) * time.Millisecond}, full, nil
}

// pruneCursor is the last key the sweep's walk of each counter table
// reached. The tables have no index on idle_at: keeping one cost a
// create that names rate limits about 7 % of its rate on SQLite, as every
// take moves its counter's entry. The sweep instead walks each table in
// key order, limit rows a round, deleting the idle ones, and starts over
// at the end: a counter is idle at most a day after its last take
// (MaxBucketInterval), and a full walk takes rows/limit rounds.
type pruneCursor struct {
	mu       sync.Mutex
	rate     []string // rate_counters: value_key, bucket_sid
	throttle string   // throttle_counters
}

// PruneRateCounters walks the next limit counters of each table and
// deletes those idle at now: their bucket is full again, so a missing row
// means the same.
func (s *store) PruneRateCounters(ctx context.Context, now time.Time, limit int) (int, error) {
	c := s.prune
	c.mu.Lock()
	defer c.mu.Unlock()
	ms := now.UnixMilli()
	var last []string
	from := c.rate
	if from == nil {
		from = []string{"", ""}
	}
	n, err := s.pruneWalk(ctx, "rate_counters", rateKeyCols, from, ms, limit, &last)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune rate counters: %w", err)
	}
	c.rate = last
	m, err := s.pruneWalk(ctx, "throttle_counters", throttleKeyCols, []string{c.throttle}, ms, limit, &last)
	if err != nil {
		return n, fmt.Errorf("sqlstore: prune throttle counters: %w", err)
	}
	c.throttle = ""
	if last != nil {
		c.throttle = last[0]
	}
	return n + m, nil
}

// pruneWalk deletes the idle counters among the limit keys after from,
// and sets last to the last key walked, or nil at the end of the table.
func (s *store) pruneWalk(ctx context.Context, table string, cols, from []string, ms int64, limit int, last *[]string) (int, error) {
	keys := strings.Join(cols, ", ")
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	args := make([]any, 0, len(cols)+2)
	for _, f := range from {
		args = append(args, f)
	}
	args = append(args, limit)
	window := `SELECT ` + keys + `, idle_at FROM ` + table + ` WHERE (` + keys + `) > ` + tuple + ` ORDER BY ` + keys + ` LIMIT ?`
	rows, err := s.query(ctx, window, args...)
	if err != nil {
		return 0, err
	}
	var idle [][]string
	seen := 0
	*last = nil
	for rows.Next() {
		k := make([]string, len(cols))
		dst := make([]any, len(cols)+1)
		for i := range k {
			dst[i] = &k[i]
		}
		var at int64
		dst[len(cols)] = &at
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return 0, err
		}
		seen++
		*last = k
		if at <= ms {
			idle = append(idle, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if seen < limit {
		*last = nil // the end: start over next round
	}
	n := 0
	for _, k := range idle {
		args := make([]any, 0, len(k)+1)
		for _, v := range k {
			args = append(args, v)
		}
		args = append(args, ms)
		// Idle still: a take since the walk read it has moved idle_at.
		ok, err := s.execOne(ctx, `DELETE FROM `+table+` WHERE `+strings.Join(cols, " = ? AND ")+` = ? AND idle_at <= ?`, args...)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
