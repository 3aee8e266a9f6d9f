package sqlstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// enqueueFor adds a pending row of kind for account, created at at.
func enqueueFor(t *testing.T, db *DB, id string, kind verify.OutboxKind, account verify.Sid, at time.Time) {
	t.Helper()
	if err := db.EnqueueOutbox(context.Background(), &verify.OutboxMessage{ID: id, Kind: kind, Account: account,
		Ref: "ref-" + id, Payload: []byte(`{}`), NextAttempt: at, Deadline: at.Add(time.Hour), DateCreated: at}); err != nil {
		t.Fatal(err)
	}
}

// deliveryIDs lists the account's rows matching f with pages of size,
// following After cursors as the console does, and returns their IDs.
func deliveryIDs(t *testing.T, db *DB, account verify.Sid, f verify.DeliveryFilter, size int) []string {
	t.Helper()
	var ids []string
	p := verify.Page{Size: size, Desc: true}
	for range 100 {
		rows, more, err := db.ListDeliveries(context.Background(), account, f, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rows {
			ids = append(ids, m.ID)
		}
		if !more {
			return ids
		}
		last := rows[len(rows)-1]
		p.After = &verify.Cursor{Time: last.DateCreated, Sid: verify.Sid(last.ID)}
	}
	t.Fatal("paging does not end")
	return nil
}

// testDeliveries: an account lists its own outbox rows only, newest first
// by creation time to the millisecond and then by ID, page after page
// with nothing repeated or skipped, forward and back; kinds and status
// filter; the account survives a claim (it is in the row, not derived).
func testDeliveries(t *testing.T, db *DB) {
	ctx := context.Background()
	a, b := setup(t, db).account.Sid, setup(t, db).account.Sid
	ms := time.Millisecond
	// Three rows in one second, two of them in one millisecond: a cursor
	// in whole seconds would skip or repeat them.
	enqueueFor(t, db, "w1", verify.OutboxWebhook, a, t0)
	enqueueFor(t, db, "w2", verify.OutboxWebhook, a, t0.Add(5*ms))
	enqueueFor(t, db, "w3", verify.OutboxWebhook, a, t0.Add(5*ms))
	enqueueFor(t, db, "p1", verify.OutboxPush, a, t0.Add(900*ms))
	enqueueFor(t, db, "c1", verify.OutboxCode, a, t0.Add(time.Second))
	enqueueFor(t, db, "bw", verify.OutboxWebhook, b, t0.Add(2*ms))
	enqueueFor(t, db, "none", verify.OutboxWebhook, "", t0.Add(3*ms))

	all := []string{"c1", "p1", "w3", "w2", "w1"}
	for size := 1; size <= 6; size++ {
		if got := deliveryIDs(t, db, a, verify.DeliveryFilter{}, size); !slices.Equal(got, all) {
			t.Fatalf("pages of %d: %v, want %v", size, got, all)
		}
	}
	if got := deliveryIDs(t, db, b, verify.DeliveryFilter{}, 10); !slices.Equal(got, []string{"bw"}) {
		t.Fatalf("the other account's: %v", got)
	}
	if got := deliveryIDs(t, db, "AC00000000000000000000000000000000", verify.DeliveryFilter{}, 10); len(got) != 0 {
		t.Fatalf("an account without rows: %v", got)
	}
	hooksAndPushes := verify.DeliveryFilter{Kinds: []verify.OutboxKind{verify.OutboxWebhook, verify.OutboxPush}}
	if got := deliveryIDs(t, db, a, hooksAndPushes, 2); !slices.Equal(got, all[1:]) {
		t.Fatalf("webhooks and pushes: %v", got)
	}
	if got := deliveryIDs(t, db, a, verify.DeliveryFilter{Kinds: []verify.OutboxKind{verify.OutboxPush}}, 2); !slices.Equal(got, []string{"p1"}) {
		t.Fatalf("pushes: %v", got)
	}

	// Before a cursor is the page just before it, in list order.
	rows, more, err := db.ListDeliveries(ctx, a, verify.DeliveryFilter{}, verify.Page{Size: 2, Desc: true,
		Before: &verify.Cursor{Time: t0.Add(5 * ms), Sid: "w2"}})
	if err != nil || !more || len(rows) != 2 || rows[0].ID != "p1" || rows[1].ID != "w3" {
		t.Fatalf("page before w2: %+v, %v, %v", rows, more, err)
	}
	if !rows[0].DateCreated.Equal(t0.Add(900*ms)) || rows[0].Account != a || rows[0].Kind != verify.OutboxPush {
		t.Fatalf("row as listed: %+v", rows[0])
	}

	// A claim and a settle keep the account; status filters.
	claimed, err := db.ClaimOutbox(ctx, t0.Add(time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != 7 {
		t.Fatalf("claim: %d rows, %v", len(claimed), err)
	}
	for _, m := range claimed {
		if m.ID == "w2" && m.Account != a || m.ID == "bw" && m.Account != b {
			t.Fatalf("claimed %s for %q", m.ID, m.Account)
		}
		if m.ID == "w2" {
			dead := verify.OutboxOutcome{Status: verify.OutboxDead, LastError: "HTTP 410", Now: t0.Add(2 * time.Hour)}
			if ok, err := db.SettleOutbox(ctx, m.ID, m.Claim, dead); err != nil || !ok {
				t.Fatalf("settle: %v, %v", ok, err)
			}
		}
	}
	rows, _, err = db.ListDeliveries(ctx, a, verify.DeliveryFilter{Status: verify.OutboxDead}, verify.Page{Desc: true})
	if err != nil || len(rows) != 1 || rows[0].ID != "w2" || rows[0].LastError != "HTTP 410" || rows[0].Attempts != 1 {
		t.Fatalf("dead rows: %+v, %v", rows, err)
	}
	if got := deliveryIDs(t, db, a, verify.DeliveryFilter{Status: verify.OutboxPending}, 3); !slices.Equal(got, []string{"c1", "p1", "w3", "w1"}) {
		t.Fatalf("pending rows: %v", got)
	}
	if got := deliveryIDs(t, db, b, verify.DeliveryFilter{Status: verify.OutboxDead}, 3); len(got) != 0 {
		t.Fatalf("the other account's dead rows: %v", got)
	}
}
