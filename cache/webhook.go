package cache

import (
	"context"
	"slices"

	"github.com/verifyd/verify"
)

// A service's webhooks are read on every event the service emits: every
// approval, denial and factor change, inside the transaction that makes
// the change. Like challenges they are cached only when this process is
// the database's one writer (SQLite), where every webhook write passes
// through here and drops the service's list. On a shared database another
// node's new webhook must get the events that follow it at once, so the
// list is read each time there.

// ListWebhooks answers the read of a whole list (the first page of at
// least MaxWebhooksPerService, which is every webhook the service has)
// from memory; any other page goes to the store. Inside a transaction too
// (the writer is the transaction's store): events are emitted there, and
// on SQLite the single writer is what the cache spares.
func (w *writer) ListWebhooks(ctx context.Context, service verify.Sid, p verify.Page) ([]*verify.Webhook, bool, error) {
	if w.c.webhooks == nil || p.After != nil || p.Before != nil || p.Desc || p.Size < verify.MaxWebhooksPerService {
		return w.Store.ListWebhooks(ctx, service, p)
	}
	list, err := through(w.c, w.c.webhooks, &w.c.bWebhooks, service, cloneWebhooks, always,
		func() (*[]*verify.Webhook, error) {
			hooks, _, err := w.Store.ListWebhooks(ctx, service, p)
			return &hooks, err
		})
	if err != nil {
		return nil, false, err
	}
	return *list, false, nil
}

func cloneWebhooks(l *[]*verify.Webhook) *[]*verify.Webhook {
	c := make([]*verify.Webhook, len(*l))
	for i, w := range *l {
		cw := *w
		cw.EventTypes = slices.Clone(w.EventTypes)
		c[i] = &cw
	}
	return &c
}

func (w *writer) CreateWebhook(ctx context.Context, h *verify.Webhook) error {
	n := w.notes()
	n.webhooks = append(n.webhooks, h.ServiceSid)
	return w.done(n, w.Store.CreateWebhook(ctx, h))
}

func (w *writer) UpdateWebhook(ctx context.Context, h *verify.Webhook) error {
	n := w.notes()
	n.webhooks = append(n.webhooks, h.ServiceSid)
	return w.done(n, w.Store.UpdateWebhook(ctx, h))
}

func (w *writer) DeleteWebhook(ctx context.Context, service, sid verify.Sid) error {
	n := w.notes()
	n.webhooks = append(n.webhooks, service)
	return w.done(n, w.Store.DeleteWebhook(ctx, service, sid))
}
