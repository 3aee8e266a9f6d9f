package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// RateBuckets reads the buckets of the named rate limits of a service.
func (s *store) RateBuckets(ctx context.Context, service verify.Sid, names []string) ([]verify.NamedBucket, error) {
	if len(names) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(names)+1)
	args = append(args, string(service))
	for _, n := range names {
		args = append(args, n)
	}
	rows, err := s.query(ctx, `SELECT r.unique_name, b.sid, b.account_sid, b.service_sid, b.rate_limit_sid, b.max_requests, b.interval_s,
b.date_created, b.date_updated FROM rate_limits r JOIN rate_limit_buckets b ON b.rate_limit_sid = r.sid
WHERE r.service_sid = ? AND r.unique_name IN (?`+strings.Repeat(", ?", len(names)-1)+`) ORDER BY r.unique_name, b.interval_s`, args...)
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
	next := `CASE WHEN ` + table + `.tat + excluded.emission > excluded.tat THEN ` + table + `.tat + excluded.emission ELSE excluded.tat END`
	keys := strings.Join(keyCols, ", ")
	row := "(" + strings.Repeat("?, ", len(keyCols)) + "?, ?, ?, ?, ?)"
	return `INSERT INTO ` + table + ` (` + keys + `, tat, emission, span, scale, idle_at) VALUES ` + row +
		strings.Repeat(", "+row, n-1) + `
ON CONFLICT (` + keys + `) DO UPDATE SET tat = ` + next + `, idle_at = (` + next + `) / excluded.scale + 1
WHERE ` + table + `.tat + excluded.emission <= excluded.tat - excluded.emission + excluded.span
RETURNING ` + keys
}

// Key columns of the two counter tables.
var (
	rateKeyCols     = []string{"bucket_sid", "value_key"}
	throttleKeyCols = []string{"counter_key"}
)

// gcraKeys returns the key column values of a take.
func gcraKeys(cols []string, t verify.RateTake) []string {
	if len(cols) == 1 {
		return []string{t.Key}
	}
	return []string{string(t.Bucket), t.Key}
}

// TakeRates takes a unit from each counter of programmable rate limits.
func (s *store) TakeRates(ctx context.Context, takes []verify.RateTake, now time.Time) ([]verify.RateRefusal, error) {
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
// say when each admits again.
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
	query := gcraSQL(table, cols, len(takes))
	readBack := `SELECT tat, emission, span, scale FROM ` + table + ` WHERE ` + strings.Join(cols, " = ? AND ") + ` = ?`
	taken := make(map[string]bool, len(takes))
	var refused []verify.RateRefusal
	err := s.atomic(ctx, func(t *store) error {
		clear(taken)
		refused = refused[:0]
		// t.query: inside the transaction, on the writer.
		rows, err := t.query(ctx, query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			k := make([]string, len(cols))
			dst := make([]any, len(cols))
			for i := range k {
				dst[i] = &k[i]
			}
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return err
			}
			taken[strings.Join(k, "\x00")] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, tk := range takes {
			keys := gcraKeys(cols, tk)
			if taken[strings.Join(keys, "\x00")] {
				continue
			}
			kargs := make([]any, len(keys))
			for i, k := range keys {
				kargs[i] = k
			}
			var tat, emission, span, scale int64
			if err := t.queryRow(ctx, readBack, kargs...).Scan(&tat, &emission, &span, &scale); err != nil {
				return err
			}
			// Admitted again once now*scale + span >= tat + emission.
			wait := tat + emission - span - ms*scale
			after := time.Duration((wait+scale-1)/scale) * time.Millisecond
			refused = append(refused, verify.RateRefusal{Take: tk, After: max(after, 0)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(refused) == 0 {
		return nil, nil
	}
	return refused, nil
}

// PruneRateCounters deletes counters idle at now, of programmable rate
// limits first: their bucket is full again, so a missing row means the
// same.
func (s *store) PruneRateCounters(ctx context.Context, now time.Time, limit int) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM rate_counters WHERE (bucket_sid, value_key) IN (
SELECT bucket_sid, value_key FROM rate_counters WHERE idle_at <= ? LIMIT ?)`, now.UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune rate counters: %w", err)
	}
	if n >= limit {
		return n, nil
	}
	m, err := s.execCount(ctx, `DELETE FROM throttle_counters WHERE counter_key IN (
SELECT counter_key FROM throttle_counters WHERE idle_at <= ? LIMIT ?)`, now.UnixMilli(), limit-n)
	if err != nil {
		return n, fmt.Errorf("sqlstore: prune throttle counters: %w", err)
	}
	return n + m, nil
}
