package verify

import (
	"context"
	"time"
)

// RateLimit is a programmable rate limit of a service (RK): a name that a
// verification create gives a value for, RateLimits={"name": "value"}, and
// buckets that say how many creates one value may start (verifications.md
// §4).
type RateLimit struct {
	Sid         Sid
	AccountSid  Sid
	ServiceSid  Sid
	UniqueName  string
	Description string
	DateCreated time.Time
	DateUpdated time.Time
}

// Bucket is one allowance of a rate limit (BL): at most Max creates per
// value in Interval seconds.
type Bucket struct {
	Sid          Sid
	AccountSid   Sid
	ServiceSid   Sid
	RateLimitSid Sid
	Max          int
	Interval     int // seconds
	DateCreated  time.Time
	DateUpdated  time.Time
}

// SID prefixes of rate limits and their buckets.
const (
	PrefixRateLimit = "RK"
	PrefixBucket    = "BL"
)

// Bounds of rate limits. Twilio publishes none but the errors; the
// defaults of the counts are verifications.md's choices, and the operator
// may change them (Verifier.MaxRateLimits, Verifier.MaxBuckets).
const (
	DefaultMaxRateLimits = 10
	DefaultMaxBuckets    = 10
	MaxUniqueNameLength  = 64
	MaxDescriptionLength = 256
	// MaxBucketMax and MaxBucketInterval keep a bucket's arithmetic in
	// 64 bits (ratelimit_take.go) and its interval within a day.
	MaxBucketMax      = 1_000_000
	MaxBucketInterval = 86_400
)

// orDefault is n, or def when n is not set (zero or less).
func orDefault[T int | time.Duration](n, def T) T {
	if n > 0 {
		return n
	}
	return def
}

func (v *Verifier) maxRateLimits() int { return orDefault(v.MaxRateLimits, DefaultMaxRateLimits) }

func (v *Verifier) maxSends() int { return orDefault(v.MaxSends, MaxVerificationSends) }

func (v *Verifier) maxChecks() int { return orDefault(v.MaxChecks, MaxVerificationChecks) }

func (v *Verifier) maxBuckets() int { return orDefault(v.MaxBuckets, DefaultMaxBuckets) }

// validUniqueName reports whether s is a rate limit name Twilio accepts:
// letters, digits, "-", "_" and ".".
func validUniqueName(s string) bool {
	if s == "" || len(s) > MaxUniqueNameLength {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func rateLimitNotFound(service Sid, key string) error {
	return notFound("/Services/" + string(service) + "/RateLimits/" + key)
}

func checkDescription(d *string) error {
	if d != nil {
		if err := checkLen(EInvalidParam, "Description", *d, MaxDescriptionLength); err != nil {
			return err
		}
		if !ValidText(*d, true) {
			return invalid("Description")
		}
	}
	return nil
}

// CreateRateLimit adds a rate limit to the account's service: UniqueName
// required (60209 if malformed, 60208 if taken), at most maxRateLimits per
// service (60207).
func (v *Verifier) CreateRateLimit(ctx context.Context, account, service Sid, uniqueName, description *string) (*RateLimit, error) {
	if uniqueName == nil || *uniqueName == "" {
		return nil, missing(EInvalidParam, "UniqueName")
	}
	if !validUniqueName(*uniqueName) {
		return nil, Errorf(EUniqueName, "Invalid UniqueName %q: only letters, digits, -, _ and . are allowed, at most %d characters", *uniqueName, MaxUniqueNameLength)
	}
	if err := checkDescription(description); err != nil {
		return nil, err
	}
	sid, err := v.newSid(PrefixRateLimit)
	if err != nil {
		return nil, err
	}
	now := v.now()
	r := &RateLimit{Sid: sid, AccountSid: account, ServiceSid: service, UniqueName: *uniqueName, DateCreated: now, DateUpdated: now}
	if description != nil {
		r.Description = *description
	}
	err = v.Store.Tx(ctx, func(st Store) error {
		if _, err := v.in(st).service(ctx, account, service); err != nil { // locks the service row
			return err
		}
		n, err := st.CountRateLimits(ctx, service)
		if err != nil {
			return err
		}
		if n >= v.maxRateLimits() {
			return Errorf(ERateLimitMax, "Max number of Rate Limits (%d) reached for this Service", v.maxRateLimits())
		}
		return st.CreateRateLimit(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// FetchRateLimit returns the service's rate limit named by its SID or its
// UniqueName, which Twilio makes addressable.
func (v *Verifier) FetchRateLimit(ctx context.Context, account, service Sid, key string) (*RateLimit, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	return v.rateLimitIn(ctx, v.Store, service, key)
}

func (v *Verifier) rateLimitIn(ctx context.Context, st Store, service Sid, key string) (*RateLimit, error) {
	if !Sid(key).Valid(PrefixRateLimit) && !validUniqueName(key) {
		return nil, rateLimitNotFound(service, key)
	}
	return st.FindRateLimit(ctx, service, key)
}

// UpdateRateLimit changes the Description, the one field that may change.
func (v *Verifier) UpdateRateLimit(ctx context.Context, account, service Sid, key string, description *string) (*RateLimit, error) {
	r, err := v.FetchRateLimit(ctx, account, service, key)
	if err != nil {
		return nil, err
	}
	if err := checkDescription(description); err != nil {
		return nil, err
	}
	if description != nil {
		r.Description = *description
	}
	r.DateUpdated = v.now()
	if err := v.Store.UpdateRateLimit(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteRateLimit deletes a rate limit with its buckets and counters.
func (v *Verifier) DeleteRateLimit(ctx context.Context, account, service Sid, key string) error {
	r, err := v.FetchRateLimit(ctx, account, service, key)
	if err != nil {
		return err
	}
	return v.Store.DeleteRateLimit(ctx, service, r.Sid)
}

// ListRateLimits pages through the service's rate limits.
func (v *Verifier) ListRateLimits(ctx context.Context, account, service Sid, p Page) ([]*RateLimit, bool, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, false, err
	}
	return v.Store.ListRateLimits(ctx, service, p)
}
