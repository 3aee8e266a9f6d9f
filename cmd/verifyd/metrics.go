package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/cache"
	"github.com/verifyd/verify/metrics"
	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/sqlstore"
)

// newMetrics is the server's registry: the API counts requests and failed
// logins into it (api.Server.Metrics), the Verifier its events, the
// outbox worker its attempts, and gauges read the outbox's depth at each
// scrape.
func newMetrics(db *sqlstore.DB, c *cache.Store, v *verify.Verifier, outbox *notify.Worker) *metrics.Registry {
	reg := metrics.New()
	reg.Gauge(`verifyd_cache_lookups_total{result="hit"}`, func() float64 { h, _ := c.Stats(); return float64(h) })
	reg.Gauge(`verifyd_cache_lookups_total{result="miss"}`, func() float64 { _, m := c.Stats(); return float64(m) })
	reg.Gauge(`verifyd_cache_bytes`, func() float64 { u, _ := c.Sizes(); return float64(u) })
	reg.Gauge(`verifyd_cache_budget_bytes`, func() float64 { _, b := c.Sizes(); return float64(b) })
	v.Observe = reg.Event
	db.ObserveLatency(reg.Database)
	outbox.Observe = func(kind verify.OutboxKind, outcome verify.OutboxStatus, d time.Duration) {
		reg.Delivery(string(kind), string(outcome), d)
	}
	for _, status := range []verify.OutboxStatus{verify.OutboxPending, verify.OutboxDead} {
		reg.Gauge(`verifyd_outbox_rows{status="`+string(status)+`"}`, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := db.CountOutbox(ctx, status)
			if err != nil {
				return -1 // the scrape shows the database did not answer
			}
			return float64(n)
		})
	}
	return reg
}

// serveMetrics serves GET /metrics on its own listener (--metrics-addr).
func serveMetrics(addr string, reg *metrics.Registry, logger *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg.Handler())
	return serveAside("metrics", addr, mux, logger)
}
