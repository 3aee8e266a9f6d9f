package verify

import "context"

func bucketNotFound(service, rateLimit Sid, sid Sid) error {
	return notFound("/Services/" + string(service) + "/RateLimits/" + string(rateLimit) + "/Buckets/" + string(sid))
}

// checkBucket validates Max and Interval where given.
func checkBucket(max, interval *int) error {
	if max != nil {
		if err := checkRange(EInvalidParam, "Max", *max, 1, MaxBucketMax); err != nil {
			return err
		}
	}
	if interval != nil {
		if err := checkRange(EInvalidParam, "Interval", *interval, 1, MaxBucketInterval); err != nil {
			return err
		}
	}
	return nil
}

// CreateBucket adds a bucket to a rate limit: Max and Interval required,
// at most maxBuckets per rate limit (60210), one per Interval (60211).
func (v *Verifier) CreateBucket(ctx context.Context, account, service Sid, rateLimit string, max, interval *int) (*Bucket, error) {
	switch {
	case max == nil:
		return nil, missing(EInvalidParam, "Max")
	case interval == nil:
		return nil, missing(EInvalidParam, "Interval")
	}
	if err := checkBucket(max, interval); err != nil {
		return nil, err
	}
	sid, err := v.newSid(PrefixBucket)
	if err != nil {
		return nil, err
	}
	now := v.now()
	var b *Bucket
	err = v.Store.Tx(ctx, func(st Store) error {
		if _, err := v.in(st).service(ctx, account, service); err != nil { // locks the service row
			return err
		}
		r, err := v.rateLimitIn(ctx, st, service, rateLimit)
		if err != nil {
			return err
		}
		n, err := st.CountBuckets(ctx, r.Sid)
		if err != nil {
			return err
		}
		if n >= v.maxBuckets() {
			return Errorf(EBucketMax, "Max number of Buckets (%d) reached for this Rate Limit", v.maxBuckets())
		}
		b = &Bucket{Sid: sid, AccountSid: account, ServiceSid: service, RateLimitSid: r.Sid, Max: *max, Interval: *interval,
			DateCreated: now, DateUpdated: now}
		return st.CreateBucket(ctx, b)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// FetchBucket returns a bucket of the service's rate limit.
func (v *Verifier) FetchBucket(ctx context.Context, account, service Sid, rateLimit string, sid Sid) (*Bucket, error) {
	r, err := v.FetchRateLimit(ctx, account, service, rateLimit)
	if err != nil {
		return nil, err
	}
	if !sid.Valid(PrefixBucket) {
		return nil, bucketNotFound(service, r.Sid, sid)
	}
	return v.Store.FindBucket(ctx, r.Sid, sid)
}

// UpdateBucket changes Max and Interval where given. The bucket's counters
// start afresh at their next take, which finds them kept in the units of
// the old values.
func (v *Verifier) UpdateBucket(ctx context.Context, account, service Sid, rateLimit string, sid Sid, max, interval *int) (*Bucket, error) {
	b, err := v.FetchBucket(ctx, account, service, rateLimit, sid)
	if err != nil {
		return nil, err
	}
	if err := checkBucket(max, interval); err != nil {
		return nil, err
	}
	if max != nil {
		b.Max = *max
	}
	if interval != nil {
		b.Interval = *interval
	}
	b.DateUpdated = v.now()
	if err := v.Store.UpdateBucket(ctx, b); err != nil {
		return nil, err
	}
	return b, nil
}

// DeleteBucket deletes a bucket and its counters.
func (v *Verifier) DeleteBucket(ctx context.Context, account, service Sid, rateLimit string, sid Sid) error {
	b, err := v.FetchBucket(ctx, account, service, rateLimit, sid)
	if err != nil {
		return err
	}
	return v.Store.DeleteBucket(ctx, b.RateLimitSid, b.Sid)
}

// ListBuckets pages through a rate limit's buckets.
func (v *Verifier) ListBuckets(ctx context.Context, account, service Sid, rateLimit string, p Page) ([]*Bucket, bool, error) {
	r, err := v.FetchRateLimit(ctx, account, service, rateLimit)
	if err != nil {
		return nil, false, err
	}
	return v.Store.ListBuckets(ctx, r.Sid, p)
}
