package cache

import (
	"context"
	"slices"
	"time"

	"github.com/verifyd/verify"
)

// The buckets of a service's rate limits are read on every verification
// create that names rate limits, before its transaction. Like webhooks
// they are cached only when this process is the database's one writer
// (SQLite), where every bucket write passes through here and drops the
// service's list: counts kept in the units of a changed bucket would be
// wrong, so another node's change must be seen at once, and on a shared
// database the list is read each time.

// RateBuckets answers from the service's cached buckets, read whole on
// first use.
func (w *writer) RateBuckets(ctx context.Context, service verify.Sid, names []string) ([]verify.NamedBucket, error) {
	if w.c.rates == nil {
		return w.Store.RateBuckets(ctx, service, names)
	}
	all, err := through(w.c, w.c.rates, &w.c.bRates, service, cloneBuckets, always,
		func() (*[]verify.NamedBucket, error) {
			list, err := w.Store.RateBuckets(ctx, service, nil)
			return &list, err
		})
	if err != nil {
		return nil, err
	}
	var out []verify.NamedBucket
	for _, b := range *all {
		if slices.Contains(names, b.Limit) {
			out = append(out, b)
		}
	}
	return out, nil
}

// TakeRates takes the units of the cached buckets through the store's
// TakeBuckets; without a cache the store reads the buckets itself.
func (w *writer) TakeRates(ctx context.Context, service verify.Sid, values []verify.RateValue, now time.Time) ([]verify.RateRefusal, error) {
	if w.c.rates == nil {
		return w.Store.TakeRates(ctx, service, values, now)
	}
	buckets, err := w.RateBuckets(ctx, service, verify.RateLimitNames(values))
	if err != nil {
		return nil, err
	}
	return w.Store.TakeBuckets(ctx, verify.RateTakes(buckets, values), now)
}

func cloneBuckets(l *[]verify.NamedBucket) *[]verify.NamedBucket {
	c := make([]verify.NamedBucket, len(*l))
	for i, b := range *l {
		cb := *b.Bucket
		c[i] = verify.NamedBucket{Limit: b.Limit, Bucket: &cb}
	}
	return &c
}

func (w *writer) DeleteRateLimit(ctx context.Context, service, sid verify.Sid) error {
	n := w.notes()
	n.rates = append(n.rates, service)
	return w.done(n, w.Store.DeleteRateLimit(ctx, service, sid))
}

func (w *writer) CreateBucket(ctx context.Context, b *verify.Bucket) error {
	n := w.notes()
	n.rates = append(n.rates, b.ServiceSid)
	return w.done(n, w.Store.CreateBucket(ctx, b))
}

func (w *writer) UpdateBucket(ctx context.Context, b *verify.Bucket) error {
	n := w.notes()
	n.rates = append(n.rates, b.ServiceSid)
	return w.done(n, w.Store.UpdateBucket(ctx, b))
}

// DeleteBucket drops every service's buckets: the call names the rate
// limit, not the service, and deleting a bucket is rare.
func (w *writer) DeleteBucket(ctx context.Context, rateLimit, sid verify.Sid) error {
	n := w.notes()
	n.allRates = true
	return w.done(n, w.Store.DeleteBucket(ctx, rateLimit, sid))
}
