package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// TakeRates reads the buckets of the named rate limits and takes a unit of
// each for its value. On PostgreSQL it is one statement (rateTakeSQL): the
// bucket read was a round trip of its own before every create that names
// a rate limit. On SQLite it is RateBuckets then TakeBuckets on the
// writer; there the cache (cache/ratelimit.go) usually has the buckets and
// calls TakeBuckets itself.
func (s *store) TakeRates(ctx context.Context, service verify.Sid, values []verify.RateValue, now time.Time) ([]verify.RateRefusal, error) {
	if len(values) == 0 {
		return nil, nil
	}
	if s.d.roundTrips() {
		return s.takeRatesOnce(ctx, service, values, now)
	}
	buckets, err := s.RateBuckets(ctx, service, verify.RateLimitNames(values))
	if err != nil {
		return nil, err
	}
	return s.TakeBuckets(ctx, verify.RateTakes(buckets, values), now)
}

// rateTakeSQL finds the buckets of n named rate limits of a service and
// takes a unit of each for its value's key with gcraSQL's upsert, in one
// statement. It returns every bucket and whether its unit was taken. The
// units are scaled as in gcraSQL: a counter's scale is its bucket's
// max, its emission the interval in milliseconds.
func rateTakeSQL(n int) string {
	return `WITH k (name, value_key) AS (VALUES (?, ?)` + strings.Repeat(", (?, ?)", n-1) + `),
b AS (SELECT k.name, k.value_key, b.sid, b.max_requests::bigint AS max, b.interval_s::bigint * 1000 AS emission FROM k
	JOIN rate_limits r ON r.service_sid = ? AND r.unique_name = k.name
	JOIN rate_limit_buckets b ON b.rate_limit_sid = r.sid),
t AS (SELECT ?::bigint * max + emission AS tat, * FROM b),
up AS (INSERT INTO rate_counters (value_key, bucket_sid, tat, emission, span, scale, idle_at)
	SELECT value_key, sid, tat, emission, emission * max, max, tat / max + 1 FROM t` + gcraConflict("rate_counters", rateKeyCols, false) + `
	RETURNING value_key, bucket_sid)
SELECT b.name, b.value_key, b.sid, b.max, b.emission, up.bucket_sid IS NOT NULL
FROM b LEFT JOIN up ON up.value_key = b.value_key AND up.bucket_sid = b.sid
ORDER BY b.name, b.emission`
}

// takeRatesOnce runs rateTakeSQL.
func (s *store) takeRatesOnce(ctx context.Context, service verify.Sid, values []verify.RateValue, now time.Time) ([]verify.RateRefusal, error) {
	ms := now.UnixMilli()
	args := make([]any, 0, 2*len(values)+2)
	for _, v := range values {
		args = append(args, v.Limit, v.Key)
	}
	args = append(args, string(service), ms)
	var refused []verify.RateRefusal
	err := s.atomic(ctx, func(t *store) error {
		refused = refused[:0]
		query := text(textKey{"rates", "rate_counters", len(values)}, func() string { return rateTakeSQL(len(values)) })
		rows, err := t.query(ctx, query, args...)
		if err != nil {
			return err
		}
		var full []verify.RateTake
		for rows.Next() {
			var tk verify.RateTake
			var bucket string
			var per, emission int64 // the bucket's max, and its interval in ms
			var taken bool
			if err := rows.Scan(&tk.Limit, &tk.Key, &bucket, &per, &emission, &taken); err != nil {
				rows.Close()
				return err
			}
			if !taken {
				tk.Bucket, tk.Max, tk.Interval = verify.Sid(bucket), int(per), int(emission/1000)
				full = append(full, tk)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Rare, so a read of its own: the counter as it is now, which
		// the statement left unchanged or another node moved since.
		for _, tk := range full {
			r, _, err := t.refusal(ctx, "rate_counters", rateKeyCols, tk, ms)
			if err != nil {
				return err
			}
			refused = append(refused, r)
		}
		if len(refused) > 0 {
			return errRefused
		}
		return nil
	})
	if err != nil && !errors.Is(err, errRefused) {
		return nil, fmt.Errorf("sqlstore: take rate limits: %w", err)
	}
	if len(refused) == 0 {
		return nil, nil
	}
	return refused, nil
}
