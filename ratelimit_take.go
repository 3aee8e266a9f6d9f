package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
)

// RateTake is one counter a verification create takes a unit from: the
// bucket of a rate limit named in RateLimits, for the value given. Key
// is a keyed hash of the value (rateKey): the values are often phone
// numbers or IP addresses, which the counters need not keep.
type RateTake struct {
	Bucket   Sid
	Limit    string // the rate limit's UniqueName
	Key      string
	Max      int
	Interval int // seconds
}

// NamedBucket is a bucket with its rate limit's UniqueName.
type NamedBucket struct {
	Limit  string
	Bucket *Bucket
}

// RateRefusal is a take a full bucket refused, and how long until that
// bucket admits again.
type RateRefusal struct {
	Take  RateTake
	After time.Duration
}

// RateLimitedError is the refusal of a create by a programmable rate
// limit: HTTP 429, code 20429, with the Retry-After and
// Twilio-Reached-Rate-Limit headers the api package sends from it.
type RateLimitedError struct {
	// Limit is the UniqueName of the rate limit whose bucket admits
	// last; empty for a built-in limit (throttle.go).
	Limit string
	// After is when the request would be admitted: the longest wait of
	// the full buckets, since every bucket must admit it.
	After time.Duration
	err   *Error
}

func (e *RateLimitedError) Error() string { return e.err.Error() }
func (e *RateLimitedError) Unwrap() error { return e.err }

// ErrRateBucketsChanged is TakeRates' error when a take names a bucket
// deleted since it was read: the create reads the buckets again.
var ErrRateBucketsChanged = errors.New("verify: a rate limit bucket was deleted meanwhile")

// MaxRateLimitValue bounds a value in RateLimits.
const MaxRateLimitValue = 256

const rateKeyLabel = "verifyd rate limit value"

// rateKey hashes a value for one rate limit under a key derived from
// TokenKey. A rotation of the master key starts the counters afresh,
// which lets through at most one more interval's worth of creates.
func (v *Verifier) rateKey(limit Sid, value string) string {
	m := hmac.New(sha256.New, subkey(v.TokenKey, rateKeyLabel))
	m.Write([]byte(limit))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:20])
}

// rateTakes returns the counters a create with these RateLimits values
// takes from: one per bucket of each named rate limit of the service.
// Names that are no rate limit of the service are ignored, as are limits
// without buckets (verifications.md §4.2). It reads; the taking is
// takeRates, inside the create's transaction.
func (v *Verifier) rateTakes(ctx context.Context, service Sid, values map[string]string) ([]RateTake, error) {
	if len(values) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	slices.Sort(names)
	buckets, err := v.Store.RateBuckets(ctx, service, names)
	if err != nil {
		return nil, err
	}
	takes := make([]RateTake, 0, len(buckets))
	for _, b := range buckets {
		takes = append(takes, RateTake{Bucket: b.Bucket.Sid, Limit: b.Limit, Key: v.rateKey(b.Bucket.RateLimitSid, values[b.Limit]),
			Max: b.Bucket.Max, Interval: b.Bucket.Interval})
	}
	return takes, nil
}

// takeRates takes one unit from every counter through st, the store of
// the create's transaction, or refuses with a *RateLimitedError; the
// caller's rollback then un-counts the units taken from buckets that had
// room, so that a refused create counts nowhere.
func takeRates(ctx context.Context, st Store, takes []RateTake, now time.Time) error {
	if len(takes) == 0 {
		return nil
	}
	refused, err := st.TakeRates(ctx, takes, now)
	if err != nil || len(refused) == 0 {
		return err
	}
	worst := refused[0]
	for _, r := range refused[1:] {
		if r.After > worst.After {
			worst = r
		}
	}
	return &RateLimitedError{Limit: worst.Take.Limit, After: worst.After,
		err: Errorf(ETooManyRequests, "Too many requests: rate limit %s reached", worst.Take.Limit)}
}

// parseRateLimits reads the RateLimits parameter: a JSON object of
// string values, each at most MaxRateLimitValue characters.
func parseRateLimits(raw string) (map[string]string, error) {
	if len(raw) > 4096 {
		return nil, invalid("RateLimits")
	}
	m, err := ParseStringMap(raw)
	if err != nil {
		return nil, invalid("RateLimits")
	}
	for k, val := range m {
		if k == "" || len(val) > MaxRateLimitValue {
			return nil, Errorf(EInvalidParam, "Invalid parameter: RateLimits (%s)", fmt.Sprintf("%.64q", k))
		}
	}
	return m, nil
}
