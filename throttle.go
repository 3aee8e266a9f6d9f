package verify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is an allowance: at most Max requests per Per, kept as the buckets
// of programmable rate limits are (GCRA: Max at once, then one every
// Per/Max).
type Rate struct {
	Max int
	Per time.Duration // whole seconds
}

func (r Rate) String() string {
	per := strconv.Itoa(int(r.Per/time.Second)) + "s"
	switch {
	case r.Per%time.Hour == 0:
		per = strconv.Itoa(int(r.Per/time.Hour)) + "h"
	case r.Per%time.Minute == 0:
		per = strconv.Itoa(int(r.Per/time.Minute)) + "m"
	}
	return strconv.Itoa(r.Max) + "/" + per
}

// Limits are Verify's built-in request limits (verifications.md §4.3),
// Twilio's values by default (DefaultLimits); an operator may change them
// (serve --status-poll-limit and friends). An empty list means no limit.
type Limits struct {
	// StatusPolls bound the fetches of one verification.
	StatusPolls []Rate
	// AttemptsAPI, SummaryAPI and SafeListAPI bound each account's
	// requests to those resources.
	AttemptsAPI, SummaryAPI, SafeListAPI []Rate
}

// DefaultLimits are Twilio's published values.
var DefaultLimits = Limits{
	StatusPolls: []Rate{{60, time.Minute}, {180, time.Hour}, {250, 24 * time.Hour}},
	AttemptsAPI: []Rate{{100, time.Minute}},
	SummaryAPI:  []Rate{{100, time.Minute}},
	SafeListAPI: []Rate{{30, time.Minute}},
}

// ParseRates reads "60/1m,180/1h,250/24h": requests per Go duration of
// whole seconds, at most a day; "none" is no limit.
func ParseRates(s string) ([]Rate, error) {
	s = strings.TrimSpace(s)
	if s == "none" {
		return []Rate{}, nil
	}
	var out []Rate
	for _, part := range strings.Split(s, ",") {
		n, d, ok := strings.Cut(strings.TrimSpace(part), "/")
		max, err := strconv.Atoi(n)
		if !ok || err != nil || max < 1 || max > MaxBucketMax {
			return nil, fmt.Errorf("%q: want requests/duration, e.g. 60/1m", part)
		}
		per, err := time.ParseDuration(d)
		if err != nil || per < time.Second || per > MaxBucketInterval*time.Second || per%time.Second != 0 {
			return nil, fmt.Errorf("%q: the duration must be whole seconds between 1s and 24h", part)
		}
		out = append(out, Rate{max, per})
	}
	return out, nil
}

func (v *Verifier) limits() *Limits {
	if v.Limits != nil {
		return v.Limits
	}
	return &DefaultLimits
}

// throttle counts one request of key against rates, in one statement
// (TakeThrottle), or refuses it with 429/20429 and Retry-After.
func (v *Verifier) throttle(ctx context.Context, key string, rates []Rate) error {
	if len(rates) == 0 {
		return nil
	}
	takes := make([]RateTake, len(rates))
	for i, r := range rates {
		sec := int(r.Per / time.Second)
		takes[i] = RateTake{Key: key + "/" + strconv.Itoa(sec), Max: r.Max, Interval: sec}
	}
	refused, err := v.Store.TakeThrottle(ctx, takes, v.Now())
	if err != nil || len(refused) == 0 {
		return err
	}
	worst := refused[0]
	for _, r := range refused[1:] {
		worst.After = max(worst.After, r.After)
	}
	return &RateLimitedError{After: worst.After, err: Errorf(ETooManyRequests, "Too many requests")}
}
