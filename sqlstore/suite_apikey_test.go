package sqlstore

import (
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// testAPIKeys: a key is found by SID alone, renamed, listed by account in
// (date_created, sid) order, and deleted only by its own account.
func testAPIKeys(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	other := &verify.Account{Sid: newSid(t, verify.PrefixAccount), TokenHash: []byte("h2"), DateCreated: t0}
	if err := db.PutAccount(ctx, other); err != nil {
		t.Fatal(err)
	}
	newKey := func(account verify.Sid, name string, at time.Time) *verify.APIKey {
		t.Helper()
		k := &verify.APIKey{Sid: newSid(t, verify.PrefixAPIKey), AccountSid: account, FriendlyName: name,
			SecretHash: verify.HashToken("secret " + name), DateCreated: at, DateUpdated: at}
		if err := db.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	a := newKey(f.account.Sid, "ci", t0)
	b := newKey(f.account.Sid, "", t0.Add(time.Second))
	c := newKey(f.account.Sid, "deploy", t0.Add(2*time.Second))
	theirs := newKey(other.Sid, "theirs", t0)

	got, err := db.FindAPIKey(ctx, a.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, a, got)
	if got, err := db.FindAPIKey(ctx, theirs.Sid); err != nil || got.AccountSid != other.Sid {
		t.Fatalf("another account's key by SID: %+v, %v", got, err)
	}
	_, err = db.FindAPIKey(ctx, newSid(t, verify.PrefixAPIKey))
	wantCode(t, err, verify.ENotFound)

	a.FriendlyName, a.DateUpdated = "ci runner", t0.Add(time.Hour)
	if err := db.UpdateAPIKey(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, _ = db.FindAPIKey(ctx, a.Sid)
	wantEqual(t, a, got)
	stolen := *theirs
	stolen.AccountSid = f.account.Sid
	wantCode(t, db.UpdateAPIKey(ctx, &stolen), verify.ENotFound)

	keys, more, err := db.ListAPIKeys(ctx, f.account.Sid, verify.Page{Size: 2})
	if err != nil || !more {
		t.Fatalf("first page: more %v, %v", more, err)
	}
	wantEqual(t, []*verify.APIKey{a, b}, keys)
	keys, more, err = db.ListAPIKeys(ctx, f.account.Sid, verify.Page{Size: 2, After: &verify.Cursor{Time: b.DateCreated, Sid: b.Sid}})
	if err != nil || more {
		t.Fatalf("second page: more %v, %v", more, err)
	}
	wantEqual(t, []*verify.APIKey{c}, keys)

	wantCode(t, db.DeleteAPIKey(ctx, f.account.Sid, theirs.Sid), verify.ENotFound)
	if err := db.DeleteAPIKey(ctx, f.account.Sid, b.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = db.FindAPIKey(ctx, b.Sid)
	wantCode(t, err, verify.ENotFound)
	wantCode(t, db.DeleteAPIKey(ctx, f.account.Sid, b.Sid), verify.ENotFound)

	orphan := &verify.APIKey{Sid: newSid(t, verify.PrefixAPIKey), AccountSid: newSid(t, verify.PrefixAccount),
		SecretHash: []byte("x"), DateCreated: t0, DateUpdated: t0}
	wantCode(t, db.CreateAPIKey(ctx, orphan), verify.ENotFound)
}
