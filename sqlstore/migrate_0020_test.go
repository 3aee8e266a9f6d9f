package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestMigration0020FillsAccounts upgrades an outbox written before
// migration 0020, on every backend: rows of each kind, of two accounts,
// made through this binary's store and then stripped of the column and
// its index (the 0019 outbox, whose column order 0020 only extends). After
// the upgrade each account lists its own webhook, push and code rows and
// nothing of the other's, and the push row whose challenge is gone is
// shown to no one.
func TestMigration0020FillsAccounts(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := mustOpenFile(t, dsn, testKey)
		a, b := setup(t, db), setup(t, db)
		challenge := a.newChallenge(a.newPush(a.entity, t0), t0, t0.Add(time.Hour))
		ver := a.newVerification("+14155552671")
		put := func(id string, kind verify.OutboxKind, ref string, payload []byte, at time.Time) {
			t.Helper()
			if err := db.EnqueueOutbox(ctx, &verify.OutboxMessage{ID: id, Kind: kind, Ref: ref, Payload: payload,
				NextAttempt: at, Deadline: at.Add(time.Hour), DateCreated: at}); err != nil {
				t.Fatal(err)
			}
		}
		hook := func(account verify.Sid) []byte {
			p, err := json.Marshal(verify.WebhookPayload{URL: "https://example.com/hook?k=v", Account: account,
				Params: map[string]string{"type": "factor.created", "account_sid": string(account), "factor_friendly_name": `"account_sid":"x"`}})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		put("a-hook", verify.OutboxWebhook, "YW1", hook(a.account.Sid), t0)
		put("a-push", verify.OutboxPush, string(challenge.Sid), []byte(`{"platform":"apn"}`), t0.Add(time.Second))
		put("a-code", verify.OutboxCode, string(ver.Sid), []byte("sealed"), t0.Add(2*time.Second))
		put("b-hook", verify.OutboxWebhook, "YW2", hook(b.account.Sid), t0.Add(3*time.Second))
		put("gone", verify.OutboxPush, "YC00000000000000000000000000000000", []byte(`{}`), t0.Add(4*time.Second))
		for _, q := range []string{
			`DROP INDEX outbox_account`,
			`ALTER TABLE outbox DROP COLUMN account_sid`,
			`DELETE FROM schema_migrations WHERE version = 20`,
		} {
			if _, err := db.wdb.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		db = mustOpenFile(t, dsn, testKey)
		if got := countRows(t, db, "schema_migrations", "version = 20"); got != 1 {
			t.Fatal("migration 20 not recorded")
		}
		if got := deliveryIDs(t, db, a.account.Sid, verify.DeliveryFilter{}, 10); !slices.Equal(got, []string{"a-code", "a-push", "a-hook"}) {
			t.Fatalf("account a after the upgrade: %v", got)
		}
		if got := deliveryIDs(t, db, b.account.Sid, verify.DeliveryFilter{}, 10); !slices.Equal(got, []string{"b-hook"}) {
			t.Fatalf("account b after the upgrade: %v", got)
		}
		if got := countRows(t, db, "outbox", "account_sid = ''"); got != 1 {
			t.Fatalf("%d rows without an account, want 1 (the push of a deleted challenge)", got)
		}
	})
}
