package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/verifyd/verify"
)

// startSweeper runs v.Sweep now and then every interval until ctx ends, and
// returns a function that waits for it to stop. Every node runs one: the
// store's lock lets one node at a time do a round and the others skip it,
// so running it everywhere costs nothing and survives any node's loss. An
// interval of 0 starts nothing. A failed round is logged and retried at the
// next tick; a round cut short by shutdown rolls back.
func startSweeper(ctx context.Context, v *verify.Verifier, interval, unverifiedTTL time.Duration, logger *slog.Logger) (wait func()) {
	if interval <= 0 {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			sw, err := v.Sweep(ctx, unverifiedTTL)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				logger.Warn("sweep failed", "err", err)
			case sw.Challenges+sw.Factors+sw.AccessTokens+sw.Verifications+sw.Pruned > 0:
				logger.Info("swept", "expired_challenges", sw.Challenges,
					"unverified_factors", sw.Factors, "access_tokens", sw.AccessTokens,
					"expired_verifications", sw.Verifications, "pruned_verifications", sw.Pruned)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return wg.Wait
}
