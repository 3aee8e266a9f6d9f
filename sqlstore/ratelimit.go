package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

const rateLimitColumns = `sid, account_sid, service_sid, unique_name, description, date_created, date_updated`

func scanRateLimit(sc scanner) (*verify.RateLimit, error) {
	r := &verify.RateLimit{}
	var sid, account, service string
	var created, updated int64
	if err := sc.Scan(&sid, &account, &service, &r.UniqueName, &r.Description, &created, &updated); err != nil {
		return nil, err
	}
	r.Sid, r.AccountSid, r.ServiceSid = verify.Sid(sid), verify.Sid(account), verify.Sid(service)
	r.DateCreated, r.DateUpdated = fromUnix(created), fromUnix(updated)
	return r, nil
}

func rateLimitNotFound(service verify.Sid, key string) error {
	return verify.Errorf(verify.ENotFound, "The requested resource /Services/%s/RateLimits/%s was not found", service, key)
}

// CreateRateLimit inserts r; the unique index on (service_sid,
// unique_name) refuses a taken name, also to a racing create.
func (s *store) CreateRateLimit(ctx context.Context, r *verify.RateLimit) error {
	_, err := s.exec(ctx, `INSERT INTO rate_limits (`+rateLimitColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(r.Sid), string(r.AccountSid), string(r.ServiceSid), r.UniqueName, r.Description, unix(r.DateCreated), unix(r.DateUpdated))
	if s.d.isUnique(err) {
		return &verify.Error{Code: verify.ERateLimitExists, Message: "Rate Limit with UniqueName " + r.UniqueName + " already exists", Err: err}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create rate limit %s: %w", r.Sid, err)
	}
	return nil
}

// FindRateLimit finds by SID, else by UniqueName: a name may look like a
// SID, and the SID wins, as it is what Twilio's URLs carry.
func (s *store) FindRateLimit(ctx context.Context, service verify.Sid, key string) (*verify.RateLimit, error) {
	r, err := scanRateLimit(s.queryRow(ctx, `SELECT `+rateLimitColumns+` FROM rate_limits
WHERE service_sid = ? AND (sid = ? OR unique_name = ?) ORDER BY CASE WHEN sid = ? THEN 0 ELSE 1 END LIMIT 1`,
		string(service), key, key, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rateLimitNotFound(service, key)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find rate limit %s: %w", key, err)
	}
	return r, nil
}

// UpdateRateLimit stores r's description.
func (s *store) UpdateRateLimit(ctx context.Context, r *verify.RateLimit) error {
	ok, err := s.execOne(ctx, `UPDATE rate_limits SET description = ?, date_updated = ? WHERE sid = ? AND service_sid = ?`,
		r.Description, unix(r.DateUpdated), string(r.Sid), string(r.ServiceSid))
	if err != nil {
		return fmt.Errorf("sqlstore: update rate limit %s: %w", r.Sid, err)
	}
	if !ok {
		return rateLimitNotFound(r.ServiceSid, string(r.Sid))
	}
	return nil
}

// DeleteRateLimit deletes the rate limit; its buckets go with it (ON
// DELETE CASCADE), their counters once idle (0018).
func (s *store) DeleteRateLimit(ctx context.Context, service, sid verify.Sid) error {
	ok, err := s.execOne(ctx, `DELETE FROM rate_limits WHERE sid = ? AND service_sid = ?`, string(sid), string(service))
	if err != nil {
		return fmt.Errorf("sqlstore: delete rate limit %s: %w", sid, err)
	}
	if !ok {
		return rateLimitNotFound(service, string(sid))
	}
	return nil
}

// CountRateLimits counts the service's rate limits; inside
// CreateRateLimit's transaction the service row is locked.
func (s *store) CountRateLimits(ctx context.Context, service verify.Sid) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM rate_limits WHERE service_sid = ?`, string(service)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count rate limits of %s: %w", service, err)
	}
	return n, nil
}

// ListRateLimits pages through the service's rate limits.
func (s *store) ListRateLimits(ctx context.Context, service verify.Sid, p verify.Page) ([]*verify.RateLimit, bool, error) {
	items, more, err := list(ctx, s, `SELECT `+rateLimitColumns+` FROM rate_limits`,
		[]string{"service_sid = ?"}, []any{string(service)}, p, scanRateLimit)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list rate limits of %s: %w", service, err)
	}
	return items, more, nil
}

const bucketColumns = `sid, account_sid, service_sid, rate_limit_sid, max_requests, interval_s, date_created, date_updated`

func scanBucket(sc scanner) (*verify.Bucket, error) {
	b := &verify.Bucket{}
	var sid, account, service, rl string
	var created, updated int64
	if err := sc.Scan(&sid, &account, &service, &rl, &b.Max, &b.Interval, &created, &updated); err != nil {
		return nil, err
	}
	b.Sid, b.AccountSid, b.ServiceSid, b.RateLimitSid = verify.Sid(sid), verify.Sid(account), verify.Sid(service), verify.Sid(rl)
	b.DateCreated, b.DateUpdated = fromUnix(created), fromUnix(updated)
	return b, nil
}

func bucketNotFound(service, rateLimit, sid verify.Sid) error {
	return verify.Errorf(verify.ENotFound, "The requested resource /Services/%s/RateLimits/%s/Buckets/%s was not found", service, rateLimit, sid)
}

func bucketExists(interval int, err error) error {
	return &verify.Error{Code: verify.EBucketExists, Message: fmt.Sprintf("Bucket with Interval %d already exists for this Rate Limit", interval), Err: err}
}

// CreateBucket inserts b; the unique index on (rate_limit_sid,
// interval_s) refuses a second bucket of one interval.
func (s *store) CreateBucket(ctx context.Context, b *verify.Bucket) error {
	_, err := s.exec(ctx, `INSERT INTO rate_limit_buckets (`+bucketColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		string(b.Sid), string(b.AccountSid), string(b.ServiceSid), string(b.RateLimitSid), b.Max, b.Interval,
		unix(b.DateCreated), unix(b.DateUpdated))
	if s.d.isUnique(err) {
		return bucketExists(b.Interval, err)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create bucket %s: %w", b.Sid, err)
	}
	return nil
}

// FindBucket returns the rate limit's bucket.
func (s *store) FindBucket(ctx context.Context, rateLimit, sid verify.Sid) (*verify.Bucket, error) {
	b, err := scanBucket(s.queryRow(ctx, `SELECT `+bucketColumns+` FROM rate_limit_buckets WHERE sid = ? AND rate_limit_sid = ?`,
		string(sid), string(rateLimit)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verify.Errorf(verify.ENotFound, "The requested resource /RateLimits/%s/Buckets/%s was not found", rateLimit, sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find bucket %s: %w", sid, err)
	}
	return b, nil
}

// UpdateBucket stores b's values. Its counters start afresh at their next
// take, which finds them kept in the old units (gcraSQL).
func (s *store) UpdateBucket(ctx context.Context, b *verify.Bucket) error {
	ok, err := s.execOne(ctx, `UPDATE rate_limit_buckets SET max_requests = ?, interval_s = ?, date_updated = ? WHERE sid = ? AND rate_limit_sid = ?`,
		b.Max, b.Interval, unix(b.DateUpdated), string(b.Sid), string(b.RateLimitSid))
	if s.d.isUnique(err) {
		return bucketExists(b.Interval, err)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: update bucket %s: %w", b.Sid, err)
	}
	if !ok {
		return bucketNotFound(b.ServiceSid, b.RateLimitSid, b.Sid)
	}
	return nil
}

// DeleteBucket deletes the bucket; its counters go once idle (0018).
func (s *store) DeleteBucket(ctx context.Context, rateLimit, sid verify.Sid) error {
	ok, err := s.execOne(ctx, `DELETE FROM rate_limit_buckets WHERE sid = ? AND rate_limit_sid = ?`, string(sid), string(rateLimit))
	if err != nil {
		return fmt.Errorf("sqlstore: delete bucket %s: %w", sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "The requested resource /RateLimits/%s/Buckets/%s was not found", rateLimit, sid)
	}
	return nil
}

// CountBuckets counts a rate limit's buckets; inside CreateBucket's
// transaction the service row is locked.
func (s *store) CountBuckets(ctx context.Context, rateLimit verify.Sid) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM rate_limit_buckets WHERE rate_limit_sid = ?`, string(rateLimit)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count buckets of %s: %w", rateLimit, err)
	}
	return n, nil
}

// ListBuckets pages through a rate limit's buckets.
func (s *store) ListBuckets(ctx context.Context, rateLimit verify.Sid, p verify.Page) ([]*verify.Bucket, bool, error) {
	items, more, err := list(ctx, s, `SELECT `+bucketColumns+` FROM rate_limit_buckets`,
		[]string{"rate_limit_sid = ?"}, []any{string(rateLimit)}, p, scanBucket)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list buckets of %s: %w", rateLimit, err)
	}
	return items, more, nil
}
