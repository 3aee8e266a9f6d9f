package sqlstore

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// newCredential stores an fcm credential of account whose secret names it.
func newCredential(t *testing.T, db *DB, account verify.Sid, name string, at time.Time) *verify.PushCredential {
	t.Helper()
	c := &verify.PushCredential{Sid: newSid(t, verify.PrefixPushCredential), AccountSid: account, FriendlyName: name,
		Type: verify.CredentialFCM, Secret: &verify.CredentialSecret{ServiceAccount: `{"project_id":"p-` + name + `"}`},
		DateCreated: at, DateUpdated: at}
	if err := db.CreatePushCredential(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// testPushCredentials: a credential is found only by its own account and
// without its secret, opened with it by SID alone, updated, listed in
// (date_created, sid) order and deleted; the secret is sealed in the
// database, and a sealed value moved to another row does not open.
func testPushCredentials(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	other := &verify.Account{Sid: newSid(t, verify.PrefixAccount), TokenHash: []byte("h2"), DateCreated: t0}
	if err := db.PutAccount(ctx, other); err != nil {
		t.Fatal(err)
	}
	apn := &verify.PushCredential{Sid: newSid(t, verify.PrefixPushCredential), AccountSid: f.account.Sid,
		FriendlyName: "ios", Type: verify.CredentialAPN, Sandbox: true, KeyID: "ABCDE12345", TeamID: "TEAM123456",
		Secret:      &verify.CredentialSecret{PrivateKey: "-----BEGIN PRIVATE KEY-----\nsecret-p8\n-----END PRIVATE KEY-----\n"},
		DateCreated: t0, DateUpdated: t0}
	if err := db.CreatePushCredential(ctx, apn); err != nil {
		t.Fatal(err)
	}
	b := newCredential(t, db, f.account.Sid, "b", t0.Add(time.Second))
	c := newCredential(t, db, f.account.Sid, "c", t0.Add(2*time.Second))
	theirs := newCredential(t, db, other.Sid, "theirs", t0)

	got, err := db.FindPushCredential(ctx, f.account.Sid, apn.Sid)
	if err != nil {
		t.Fatal(err)
	}
	want := *apn
	want.Secret = nil
	wantEqual(t, &want, got)
	_, err = db.FindPushCredential(ctx, f.account.Sid, theirs.Sid)
	wantCode(t, err, verify.ENotFound)

	opened, err := db.OpenPushCredential(ctx, apn.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, apn, opened)
	_, err = db.OpenPushCredential(ctx, newSid(t, verify.PrefixPushCredential))
	wantCode(t, err, verify.ENotFound)

	// Sealed at rest: the plaintext is nowhere in the row, and the value
	// carries the primary key's header.
	var sealed []byte
	if err := db.rdb.QueryRow(db.d.rebind(`SELECT secret FROM push_credentials WHERE sid = ?`), string(apn.Sid)).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret-p8")) {
		t.Fatal("the secret is stored in the clear")
	}
	if h := db.keys.ring().primary.header; !bytes.Equal(sealed[:headerLen], h[:]) {
		t.Fatalf("sealed header %x, want %x", sealed[:headerLen], h)
	}
	// The SID is the additional data: apn's sealed secret in b's row
	// does not open.
	if _, err := db.wdb.Exec(db.d.rebind(`UPDATE push_credentials SET secret = ? WHERE sid = ?`), sealed, string(b.Sid)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenPushCredential(ctx, b.Sid); err == nil || verify.ErrorCode(err) != verify.EInternal {
		t.Fatalf("a secret moved to another row opened: %v", err)
	}

	b.FriendlyName, b.DateUpdated = "renamed", t0.Add(time.Hour)
	b.Secret = &verify.CredentialSecret{ServiceAccount: `{"project_id":"new"}`}
	if err := db.UpdatePushCredential(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, err := db.OpenPushCredential(ctx, b.Sid); err != nil {
		t.Fatal(err)
	} else {
		wantEqual(t, b, got)
	}
	stolen := *theirs
	stolen.AccountSid = f.account.Sid
	wantCode(t, db.UpdatePushCredential(ctx, &stolen), verify.ENotFound)

	items, more, err := db.ListPushCredentials(ctx, f.account.Sid, verify.Page{Size: 2})
	if err != nil || !more || len(items) != 2 || items[0].Sid != apn.Sid || items[1].Sid != b.Sid {
		t.Fatalf("first page: %v more %v, %v", items, more, err)
	}
	for _, it := range items {
		if it.Secret != nil {
			t.Fatalf("a list carries the secret of %s", it.Sid)
		}
	}
	items, more, err = db.ListPushCredentials(ctx, f.account.Sid, verify.Page{Size: 2, After: &verify.Cursor{Time: b.DateCreated, Sid: b.Sid}})
	if err != nil || more || len(items) != 1 || items[0].Sid != c.Sid {
		t.Fatalf("second page: %v more %v, %v", items, more, err)
	}

	// ServicesUsingCredential sees the push settings of the account's
	// services only.
	users, err := db.ServicesUsingCredential(ctx, f.account.Sid, c.Sid)
	if err != nil || len(users) != 0 {
		t.Fatalf("unused credential: %v, %v", users, err)
	}
	f.service.Push.FcmCredentialSid = string(c.Sid)
	if err := db.UpdateService(ctx, f.service); err != nil {
		t.Fatal(err)
	}
	users, err = db.ServicesUsingCredential(ctx, f.account.Sid, c.Sid)
	if err != nil || len(users) != 1 || users[0] != f.service.Sid {
		t.Fatalf("used credential: %v, %v", users, err)
	}
	if users, _ := db.ServicesUsingCredential(ctx, other.Sid, c.Sid); len(users) != 0 {
		t.Fatalf("another account's services: %v", users)
	}

	wantCode(t, db.DeletePushCredential(ctx, f.account.Sid, theirs.Sid), verify.ENotFound)
	if err := db.DeletePushCredential(ctx, f.account.Sid, c.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = db.FindPushCredential(ctx, f.account.Sid, c.Sid)
	wantCode(t, err, verify.ENotFound)
	wantCode(t, db.DeletePushCredential(ctx, f.account.Sid, c.Sid), verify.ENotFound)

	orphan := &verify.PushCredential{Sid: newSid(t, verify.PrefixPushCredential), AccountSid: newSid(t, verify.PrefixAccount),
		Type: verify.CredentialFCM, Secret: &verify.CredentialSecret{ServiceAccount: "{}"}, DateCreated: t0, DateUpdated: t0}
	wantCode(t, db.CreatePushCredential(ctx, orphan), verify.ENotFound)

	// Deleting the account deletes its credentials.
	if err := db.DeleteAccount(ctx, other.Sid); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "push_credentials", "account_sid = ?", string(other.Sid)); n != 0 {
		t.Fatalf("%d credentials left of a deleted account", n)
	}
}
