package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/notify/webhook"
)

// deliveryWorker is the outbox worker, with the webhook sender and push
// (the push sender, push.go). Every node runs one: on PostgreSQL their
// claims are disjoint, on SQLite there is one server per database file. It
// reads the outbox through the store directly (st): the cache has nothing
// to add.
func deliveryWorker(v *verify.Verifier, st verify.OutboxStore, logger *slog.Logger, push, codes notify.Sender) *notify.Worker {
	sender := webhook.NewSender(v.SigningToken, time.Now, v.WebhookPublicOnly)
	sender.UserAgent = "verifyd/" + version()
	return &notify.Worker{
		Store:   st,
		Senders: map[verify.OutboxKind]notify.Sender{verify.OutboxWebhook: sender, verify.OutboxPush: push, verify.OutboxCode: codes},
		// Webhooks keep DefaultSchedule; a push has at most 300 s to
		// live, a code 10 minutes.
		Schedules: map[verify.OutboxKind][]time.Duration{verify.OutboxPush: notify.PushSchedule, verify.OutboxCode: notify.CodeSchedule},
		Logger:    logger.With("component", "outbox"),
		Now:       time.Now,
		// The poll finds rows another node enqueued and retries come due;
		// this node's own new rows wake the worker (notify.Waking).
		Poll: 500 * time.Millisecond,
	}
}

// startDeliveries runs w until ctx ends and returns a function that waits
// for it (and for the attempts under way, each at most notify's attempt
// timeout) to finish.
func startDeliveries(ctx context.Context, w *notify.Worker) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx)
	}()
	return func() { <-done }
}
