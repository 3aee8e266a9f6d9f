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

// takeRatesSQL is the conditional upsert of n counters, GCRA (the generic
// cell rate algorithm, which is a token bucket kept as one number). In the
// scaled units of rate_counters, a request costs emission (the interval)
// and a bucket holds span (interval times max): a request at now is
// admitted when max(tat, now) + emission <= now + span, and then moves
// tat to max(tat, now) + emission. So a full bucket admits max at once,
// and one more every interval/max after that, with no window edge at
// which the count resets. The inserted row is what a fresh counter
// becomes (tat = now + emission): excluded carries now and the bucket's
// units into the update. A row the WHERE leaves alone is not returned,
// which is how a refusal shows; the one statement is the whole
// compare-and-swap, so any number of nodes count exactly.
func takeRatesSQL(n int) string {
	const next = `CASE WHEN rate_counters.tat + excluded.emission > excluded.tat THEN rate_counters.tat + excluded.emission ELSE excluded.tat END`
	return `INSERT INTO rate_counters (bucket_sid, value_key, tat, emission, span, scale, idle_at) VALUES (?, ?, ?, ?, ?, ?, ?)` +
		strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?)`, n-1) + `
ON CONFLICT (bucket_sid, value_key) DO UPDATE SET tat = ` + next + `, idle_at = (` + next + `) / excluded.scale + 1
WHERE rate_counters.tat + excluded.emission <= excluded.tat - excluded.emission + excluded.span
RETURNING bucket_sid, value_key`
}

// TakeRates takes a unit from each counter (takeRatesSQL) and reads the
// refused ones back to say when they admit again.
func (s *store) TakeRates(ctx context.Context, takes []verify.RateTake, now time.Time) ([]verify.RateRefusal, error) {
	if len(takes) == 0 {
		return nil, nil
	}
	ms := now.UnixMilli()
	args := make([]any, 0, 7*len(takes))
	for _, t := range takes {
		scale, emission := int64(t.Max), int64(t.Interval)*1000
		tat := ms*scale + emission
		args = append(args, string(t.Bucket), t.Key, tat, emission, emission*scale, scale, tat/scale+1)
	}
	taken := make(map[[2]string]bool, len(takes))
	var refused []verify.RateRefusal
	err := s.atomic(ctx, func(t *store) error {
		clear(taken)
		refused = refused[:0]
		// t.query: inside the transaction, on the writer.
		rows, err := t.query(ctx, takeRatesSQL(len(takes)), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var b, k string
			if err := rows.Scan(&b, &k); err != nil {
				rows.Close()
				return err
			}
			taken[[2]string{b, k}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, tk := range takes {
			if taken[[2]string{string(tk.Bucket), tk.Key}] {
				continue
			}
			var tat, emission, span, scale int64
			if err := t.queryRow(ctx, `SELECT tat, emission, span, scale FROM rate_counters WHERE bucket_sid = ? AND value_key = ?`,
				string(tk.Bucket), tk.Key).Scan(&tat, &emission, &span, &scale); err != nil {
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
		return nil, fmt.Errorf("sqlstore: take rate limits: %w", err)
	}
	if len(refused) == 0 {
		return nil, nil
	}
	return refused, nil
}

// PruneRateCounters deletes counters idle at now: their bucket is full
// again, so a missing row means the same.
func (s *store) PruneRateCounters(ctx context.Context, now time.Time, limit int) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM rate_counters WHERE (bucket_sid, value_key) IN (
SELECT bucket_sid, value_key FROM rate_counters WHERE idle_at <= ? LIMIT ?)`, now.UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune rate counters: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
