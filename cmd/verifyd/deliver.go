package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/notify/webhook"
)

// startDeliveries runs the outbox worker, with the webhook sender and push
// (the push sender, push.go), until ctx ends, and returns a
// function that waits for it (and for the attempts under way, each at
// most notify's attempt timeout) to finish. Every node runs one: on
// PostgreSQL their claims are disjoint, on SQLite there is one server per
// database file. It reads the outbox through the store directly (st): the
// cache has nothing to add.
func startDeliveries(ctx context.Context, v *verify.Verifier, st verify.OutboxStore, cfg config, logger *slog.Logger, push notify.Sender) func() {
	sender := webhook.NewSender(v.SigningToken, time.Now, cfg.WebhookPublicOnly)
	sender.UserAgent = "verifyd/" + version()
	w := &notify.Worker{
		Store:   st,
		Senders: map[verify.OutboxKind]notify.Sender{verify.OutboxWebhook: sender, verify.OutboxPush: push},
		// Webhooks keep DefaultSchedule; a push has at most 300 s to live.
		Schedules: map[verify.OutboxKind][]time.Duration{verify.OutboxPush: notify.PushSchedule},
		Logger:    logger.With("component", "outbox"),
		Now:       time.Now,
		Poll:      500 * time.Millisecond,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx)
	}()
	return func() { <-done }
}
