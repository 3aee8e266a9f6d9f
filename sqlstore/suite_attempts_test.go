package sqlstore

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// testAttempts: the Attempts list, fetch and summary see only their
// account's attempts, with their verification's state; the prune deletes
// released verifications past the retention with their attempts, and
// never a live one.
func testAttempts(t *testing.T, db *DB) {
	f, g := setup(t, db), setup(t, db)
	done := f.newVerification("+14155552671")
	live := f.newVerification("+14155552672")
	theirs := g.newVerification("+14155552671")
	if err := db.SetVerificationStatus(f.ctx, done.Sid, verify.VerificationApproved, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	items, more, err := db.ListAttempts(f.ctx, f.account.Sid, verify.AttemptFilter{}, verify.Page{Size: 10, Desc: true})
	if err != nil || more || len(items) != 2 {
		t.Fatalf("list: %d, %v, %v", len(items), more, err)
	}
	for _, a := range items {
		if a.AccountSid != f.account.Sid || a.CodeLength != 6 || a.ExpiresAt.IsZero() {
			t.Errorf("attempt %+v", a)
		}
	}
	conv := true
	items, _, err = db.ListAttempts(f.ctx, f.account.Sid, verify.AttemptFilter{Converted: &conv}, verify.Page{Size: 10})
	if err != nil || len(items) != 1 || items[0].VerificationSid != done.Sid || items[0].VerificationStatus != verify.VerificationApproved ||
		items[0].StatusAt(t0) != verify.AttemptConfirmed {
		t.Fatalf("converted: %+v, %v", items, err)
	}
	if _, err := db.FindAttempt(f.ctx, f.account.Sid, theirs.Attempts[0].Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("another account's attempt: %v", err)
	}
	a, err := db.FindAttempt(f.ctx, f.account.Sid, live.Attempts[0].Sid)
	if err != nil || a.StatusAt(t0) != verify.AttemptUnconfirmed || a.StatusAt(live.ExpiresAt) != verify.AttemptExpired {
		t.Fatalf("find: %+v, %v", a, err)
	}
	sum, err := db.SummarizeAttempts(f.ctx, f.account.Sid, verify.AttemptFilter{Prefix: "+1415"})
	if err != nil || sum != (verify.AttemptSummary{Total: 2, Converted: 1}) || sum.Rate() != "50" {
		t.Fatalf("summary: %+v %s, %v", sum, sum.Rate(), err)
	}
	// The approved one is released; the live one is not, however old.
	if n, err := db.PruneVerifications(f.ctx, t0, 100); err != nil || n != 0 {
		t.Fatalf("pruned %d made before t0, %v", n, err)
	}
	if n, err := db.PruneVerifications(f.ctx, t0.Add(31*24*time.Hour), 100); err != nil || n != 1 {
		t.Fatalf("pruned %d, want 1, %v", n, err)
	}
	if _, err := db.FindVerification(f.ctx, f.service.Sid, done.Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("the approved verification survived: %v", err)
	}
	if _, err := db.FindAttempt(f.ctx, f.account.Sid, done.Attempts[0].Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("its attempt survived: %v", err)
	}
	if _, err := db.FindVerification(f.ctx, f.service.Sid, live.Sid); err != nil {
		t.Fatalf("a live verification was pruned: %v", err)
	}
	if _, err := db.FindAttempt(g.ctx, g.account.Sid, theirs.Attempts[0].Sid); err != nil {
		t.Fatalf("the other account's live verification was pruned: %v", err)
	}
}

// testReady: a migrated database is ready; one missing a migration says
// which it is at.
func testReady(t *testing.T, db *DB) {
	f := setup(t, db)
	if err := db.Ready(f.ctx); err != nil {
		t.Fatalf("migrated database: %v", err)
	}
	var top int
	if err := db.queryRow(f.ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&top); err != nil {
		t.Fatal(err)
	}
	if _, err := db.exec(f.ctx, `DELETE FROM schema_migrations WHERE version = ?`, top); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(f.ctx); err == nil || !strings.Contains(err.Error(), "of "+strconv.Itoa(top)) {
		t.Fatalf("a migration short: %v", err)
	}
}
