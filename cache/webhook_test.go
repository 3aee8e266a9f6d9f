package cache

import (
	"testing"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestWebhooks: on SQLite a service's whole webhook list is served from
// memory (a webhook written behind the cache's back stays unseen), and
// every webhook write through the cache, in a transaction or not, drops
// it; a deleted service drops it too. On PostgreSQL it is never cached.
func TestWebhooks(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		all := verify.Page{Size: verify.MaxWebhooksPerService}
		count := func() int {
			t.Helper()
			hooks, _, err := w.c.ListWebhooks(w.ctx, w.service.Sid, all)
			w.must(err)
			return len(hooks)
		}
		hook := func(n string) *verify.Webhook {
			return &verify.Webhook{Sid: w.sid(verify.PrefixWebhook), AccountSid: w.service.AccountSid, ServiceSid: w.service.Sid,
				FriendlyName: n, EventTypes: []string{"*"}, URL: "https://example.com/" + n, Status: verify.WebhookEnabled,
				Version: "v2", DateCreated: t0, DateUpdated: t0}
		}
		if n := count(); n != 0 {
			t.Fatalf("%d webhooks, want 0", n)
		}
		w.must(w.db.CreateWebhook(w.ctx, hook("behind"))) // another process
		want := 0                                         // from memory
		if w.db.Shared() {
			want = 1 // never cached
		}
		if n := count(); n != want {
			t.Fatalf("after a write behind the cache: %d webhooks, want %d", n, want)
		}
		h := hook("own")
		w.must(w.c.CreateWebhook(w.ctx, h))
		if n := count(); n != 2 {
			t.Fatalf("after CreateWebhook: %d webhooks, want 2", n)
		}
		hooks, _, err := w.c.ListWebhooks(w.ctx, w.service.Sid, all)
		w.must(err)
		hooks[0].EventTypes[0] = "scribbled"
		h.Status = verify.WebhookDisabled
		w.must(w.c.Tx(w.ctx, func(st verify.Store) error { return st.UpdateWebhook(w.ctx, h) }))
		hooks, _, err = w.c.ListWebhooks(w.ctx, w.service.Sid, all)
		w.must(err)
		disabled := 0
		for _, x := range hooks {
			if x.EventTypes[0] != "*" {
				t.Errorf("cached list changed through a copy: %v", x.EventTypes)
			}
			if x.Status == verify.WebhookDisabled {
				disabled++
			}
		}
		if disabled != 1 {
			t.Errorf("after UpdateWebhook in a Tx: %d disabled, want 1", disabled)
		}
		w.must(w.c.DeleteWebhook(w.ctx, w.service.Sid, h.Sid))
		if n := count(); n != 1 {
			t.Fatalf("after DeleteWebhook: %d webhooks, want 1", n)
		}
		w.must(w.c.DeleteService(w.ctx, w.service.AccountSid, w.service.Sid))
		if n := count(); n != 0 {
			t.Fatalf("after DeleteService: %d webhooks, want 0", n)
		}
	})
}
