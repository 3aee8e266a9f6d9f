package verify

import (
	"context"
	"time"
)

// Background clean-up. Every node runs Sweep on a timer; the store's TryLock
// lets one node at a time do a round, and every change is a compare-and-swap
// on the row, so a round that overlaps a request (or, on a store without a
// cross-node lock, another node's round) changes nothing twice.
const (
	// DefaultUnverifiedFactorTTL is how long a factor may stay unverified
	// before the sweep deletes it: an enrollment the user never finished.
	DefaultUnverifiedFactorTTL = 24 * time.Hour
	// SpentTokenRetention is how long after it stopped being usable an
	// access token stays readable (fetch access token) before it is purged.
	SpentTokenRetention = time.Hour

	// sweepBatch bounds the rows one statement changes, so that a round's
	// transaction stays short even after a long outage; sweepBatches bounds
	// the batches of one Sweep call, the rest waits for the next round.
	sweepBatch   = 500
	sweepBatches = 20
	sweepLock    = "sweep"
)

// Swept counts what one Sweep call changed.
type Swept struct {
	Challenges   int // pending challenges marked expired
	Factors      int // unverified factors deleted
	AccessTokens int // spent access tokens deleted
	// Verifications counts live verifications past expiry marked
	// expired, so that a new create for their To need not release them.
	Verifications int
	// Pruned counts verifications deleted with their attempts once older
	// than the attempts' retention.
	Pruned int
	// RateCounters counts rate limit counters deleted because their
	// bucket had refilled: a missing counter means a full bucket.
	RateCounters int
	// PasskeyLogins counts passkeys logins deleted once expired: no
	// credential answered them.
	PasskeyLogins int
	Skipped       bool // another node was sweeping, so this one did nothing
}

// Sweep runs one round of background work: it marks pending challenges past
// their expiration date as expired, deletes factors still unverified
// unverifiedTTL after their creation (DefaultUnverifiedFactorTTL if 0), and
// purges access tokens spent more than SpentTokenRetention ago, and
// marks live verifications past expiry expired. It works in
// batches, each in its own transaction under the store's "sweep" lock, and
// stops when a batch finds little work left, when another node holds the
// lock, or after sweepBatches batches.
func (v *Verifier) Sweep(ctx context.Context, unverifiedTTL time.Duration) (Swept, error) {
	if unverifiedTTL <= 0 {
		unverifiedTTL = DefaultUnverifiedFactorTTL
	}
	var total Swept
	for range sweepBatches {
		now := v.now()
		var b Swept
		ran, err := v.Store.TryLock(ctx, sweepLock, func(st Store) error {
			var err error
			expired, err := st.ExpireChallenges(ctx, now, sweepBatch)
			if err != nil {
				return err
			}
			b.Challenges = len(expired)
			if err := v.emitExpired(ctx, st, expired); err != nil {
				return err
			}
			if b.Factors, err = st.DeleteUnverifiedFactors(ctx, now.Add(-unverifiedTTL), sweepBatch); err != nil {
				return err
			}
			// A token is usable for at most MaxAccessTokenTTL after creation.
			spent := now.Add(-SpentTokenRetention - MaxAccessTokenTTL*time.Second)
			if b.AccessTokens, err = st.PurgeAccessTokens(ctx, spent, sweepBatch); err != nil {
				return err
			}
			if b.Verifications, err = st.ExpireVerifications(ctx, now, sweepBatch); err != nil {
				return err
			}
			if b.Pruned, err = st.PruneVerifications(ctx, v.attemptFloor(now), sweepBatch); err != nil {
				return err
			}
			if b.PasskeyLogins, err = st.PurgePasskeyLogins(ctx, now, sweepBatch); err != nil {
				return err
			}
			b.RateCounters, err = st.PruneRateCounters(ctx, now, sweepBatch)
			return err
		})
		if err != nil {
			return total, err
		}
		if !ran {
			total.Skipped = true
			return total, nil
		}
		total.Challenges += b.Challenges
		total.Factors += b.Factors
		total.AccessTokens += b.AccessTokens
		total.Verifications += b.Verifications
		total.RateCounters += b.RateCounters
		total.Pruned += b.Pruned
		total.PasskeyLogins += b.PasskeyLogins
		if b.Challenges < sweepBatch && b.Factors < sweepBatch && b.AccessTokens < sweepBatch && b.Verifications < sweepBatch &&
			b.RateCounters < sweepBatch && b.Pruned < sweepBatch && b.PasskeyLogins < sweepBatch {
			return total, nil
		}
	}
	return total, nil
}
