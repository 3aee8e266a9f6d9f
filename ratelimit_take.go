package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
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

// MaxRateLimitValue bounds a value in RateLimits.
const MaxRateLimitValue = 256

const rateKeyLabel = "verifyd rate limit value"

// rateKey hashes a value for the rate limit of a service named limit,
// under a key derived from TokenKey: the counters need not keep phone
// numbers or addresses, and the hash needs no read of the rate limit. A
// rotation of the master key starts the counters afresh, which lets
// through at most one more interval's worth of creates. The key is 128
// bits in base64url, 22 characters: it was 40 hex characters, and every
// byte of a counter row counts on SQLite, where a new value inserts a
// row at a random place in the table (the change started the counters
// afresh once, as a rotation does; the old rows go when idle).
func (v *Verifier) rateKey(service Sid, limit, value string) string {
	m := hmac.New(sha256.New, subkey(v.TokenKey, rateKeyLabel))
	m.Write([]byte(service))
	m.Write([]byte{0})
	m.Write([]byte(limit))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// RateValue is a rate limit a create names, by its UniqueName, and the
// keyed hash of the value given for it (rateKey).
type RateValue struct {
	Limit string
	Key   string
}

// RateTakes pairs each bucket with the value given for its rate limit:
// the counters a create takes a unit from, one per bucket of each named
// rate limit. Names that are no rate limit of the service have no
// buckets, and are ignored, as are rate limits without buckets
// (verifications.md §4.2).
func RateTakes(buckets []NamedBucket, values []RateValue) []RateTake {
	takes := make([]RateTake, 0, len(buckets))
	for _, b := range buckets {
		for _, val := range values {
			if val.Limit == b.Limit {
				takes = append(takes, RateTake{Bucket: b.Bucket.Sid, Limit: b.Limit, Key: val.Key, Max: b.Bucket.Max, Interval: b.Bucket.Interval})
			}
		}
	}
	return takes
}

// RateLimitNames returns the names of values, in their order.
func RateLimitNames(values []RateValue) []string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = v.Limit
	}
	return names
}

// rateValues hashes the values of a create's RateLimits, ordered by name.
func (v *Verifier) rateValues(service Sid, values map[string]string) []RateValue {
	if len(values) == 0 {
		return nil
	}
	out := make([]RateValue, 0, len(values))
	for n, val := range values {
		out = append(out, RateValue{Limit: n, Key: v.rateKey(service, n, val)})
	}
	slices.SortFunc(out, func(a, b RateValue) int { return strings.Compare(a.Limit, b.Limit) })
	return out
}

// takeRates takes one unit from every bucket of the rate limits named,
// through st, the store of the create's transaction, or refuses with a
// *RateLimitedError; the caller's rollback then un-counts the units taken
// from buckets that had room, so that a refused create counts nowhere.
func takeRates(ctx context.Context, st Store, service Sid, values []RateValue, now time.Time) error {
	if len(values) == 0 {
		return nil
	}
	refused, err := st.TakeRates(ctx, service, values, now)
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
