package sqlstore

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// testSecondaryToken: a secondary token is set, replaced, deleted and
// promoted as Store documents, and PutAccount with the configured token
// again does not undo a promotion.
func testSecondaryToken(t *testing.T, db *DB) {
	ctx := context.Background()
	sid := newSid(t, verify.PrefixAccount)
	primary, s1, s2 := verify.HashToken("primary"), verify.HashToken("s1"), verify.HashToken("s2")
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: primary, DateCreated: t0}); err != nil {
		t.Fatal(err)
	}
	find := func() *verify.Account {
		t.Helper()
		a, err := db.FindAccount(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	wantCode(t, db.DeleteSecondaryToken(ctx, sid), verify.ENotFound)
	_, err := db.PromoteSecondaryToken(ctx, sid)
	wantCode(t, err, verify.ENotFound)
	wantCode(t, db.SetSecondaryToken(ctx, newSid(t, verify.PrefixAccount), s1, t0), verify.ENotFound)

	t1 := t0.Add(time.Hour)
	if err := db.SetSecondaryToken(ctx, sid, s1, t1); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, &verify.Account{Sid: sid, TokenHash: primary, SecondaryHash: s1, SecondaryCreated: t1, DateCreated: t0}, find())
	// A second create replaces the first secondary.
	t2 := t1.Add(time.Minute)
	if err := db.SetSecondaryToken(ctx, sid, s2, t2); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, &verify.Account{Sid: sid, TokenHash: primary, SecondaryHash: s2, SecondaryCreated: t2, DateCreated: t0}, find())
	if err := db.DeleteSecondaryToken(ctx, sid); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, &verify.Account{Sid: sid, TokenHash: primary, DateCreated: t0}, find())

	if err := db.SetSecondaryToken(ctx, sid, s1, t1); err != nil {
		t.Fatal(err)
	}
	before, err := db.PromoteSecondaryToken(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, &verify.Account{Sid: sid, TokenHash: primary, SecondaryHash: s1, SecondaryCreated: t1, DateCreated: t0}, before)
	wantEqual(t, &verify.Account{Sid: sid, TokenHash: s1, DateCreated: t0}, find())
	_, err = db.PromoteSecondaryToken(ctx, sid)
	wantCode(t, err, verify.ENotFound)

	// serve restarting with the same configured token keeps the rotation...
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: primary, DateCreated: t2}); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, &verify.Account{Sid: sid, TokenHash: s1, DateCreated: t0}, find())
	// ...and a new configured token replaces the primary and drops the
	// secondary: the operator's way back into an account.
	if err := db.SetSecondaryToken(ctx, sid, s2, t2); err != nil {
		t.Fatal(err)
	}
	reset := verify.HashToken("reset")
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: reset, DateCreated: t2}); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, &verify.Account{Sid: sid, TokenHash: reset, DateCreated: t0}, find())
}

// testPromoteRace: of parallel promotions exactly one succeeds, and every
// reader sees either the old pair of tokens or the new primary alone,
// never the secondary gone without having become the primary.
func testPromoteRace(t *testing.T, db *DB) {
	ctx := context.Background()
	sid := newSid(t, verify.PrefixAccount)
	primary, secondary := verify.HashToken("old"), verify.HashToken("new")
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: primary, DateCreated: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSecondaryToken(ctx, sid, secondary, t0); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	stop := make(chan struct{})
	torn := make(chan *verify.Account, 1)
	go func() { // a reader that looks for a half-applied swap
		for {
			select {
			case <-stop:
				close(torn)
				return
			default:
			}
			a, err := db.FindAccount(ctx, sid)
			if err != nil {
				continue
			}
			old := bytes.Equal(a.TokenHash, primary) && bytes.Equal(a.SecondaryHash, secondary)
			promoted := bytes.Equal(a.TokenHash, secondary) && a.SecondaryHash == nil && a.SecondaryCreated.IsZero()
			if !old && !promoted {
				torn <- a
				close(torn)
				return
			}
		}
	}()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.PromoteSecondaryToken(ctx, sid)
			errs <- err
		}()
	}
	wg.Wait()
	close(stop)
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !verify.IsCode(err, verify.ENotFound):
			t.Errorf("promote: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d promotions succeeded, want 1", won)
	}
	if a, ok := <-torn; ok {
		t.Fatalf("a reader saw a half-applied promotion: %+v", a)
	}
	a, err := db.FindAccount(ctx, sid)
	if err != nil || !bytes.Equal(a.TokenHash, secondary) || a.SecondaryHash != nil {
		t.Fatalf("after the race: %+v, %v", a, err)
	}
}

// testListAccounts pages through accounts in creation order.
func testListAccounts(t *testing.T, db *DB) {
	ctx := context.Background()
	var want []*verify.Account
	for i := range 3 {
		a := &verify.Account{Sid: newSid(t, verify.PrefixAccount), TokenHash: verify.HashToken("t"), DateCreated: t0.Add(time.Duration(i) * time.Second)}
		if err := db.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		want = append(want, a)
	}
	if err := db.SetSecondaryToken(ctx, want[1].Sid, verify.HashToken("s"), t0); err != nil {
		t.Fatal(err)
	}
	want[1].SecondaryHash, want[1].SecondaryCreated = verify.HashToken("s"), t0
	got, more, err := db.ListAccounts(ctx, verify.Page{Size: 2})
	if err != nil || !more {
		t.Fatalf("first page: more %v, %v", more, err)
	}
	wantEqual(t, want[:2], got)
	got, more, err = db.ListAccounts(ctx, verify.Page{Size: 2, After: &verify.Cursor{Time: want[1].DateCreated, Sid: want[1].Sid}})
	if err != nil || more {
		t.Fatalf("second page: more %v, %v", more, err)
	}
	wantEqual(t, want[2:], got)
}

// testDeleteAccount: deleting an account leaves no row of it in any table
// that has an account_sid column (found in the schema, so that a table
// added later is checked too), and leaves another account's rows alone.
func testDeleteAccount(t *testing.T, db *DB) {
	mine, theirs := populate(t, db), populate(t, db)
	tables := accountTables(t, db)
	if len(tables) < 7 {
		t.Fatalf("found only the tables %v with an account_sid column", tables)
	}
	for _, table := range tables {
		if countRows(t, db, table, "account_sid = ?", string(mine)) == 0 {
			t.Fatalf("the fixture made no row in %s: the test would prove nothing there", table)
		}
	}
	if err := db.DeleteAccount(context.Background(), mine); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if n := countRows(t, db, table, "account_sid = ?", string(mine)); n != 0 {
			t.Errorf("%s: %d rows of the deleted account left", table, n)
		}
		if countRows(t, db, table, "account_sid = ?", string(theirs)) == 0 {
			t.Errorf("%s: the other account's rows were deleted too", table)
		}
	}
	if n := countRows(t, db, "accounts", "sid = ?", string(mine)); n != 0 {
		t.Errorf("the account row is left")
	}
	_, err := db.FindAccount(context.Background(), mine)
	wantCode(t, err, verify.ENotFound)
	wantCode(t, db.DeleteAccount(context.Background(), mine), verify.ENotFound)
}

// populate makes an account with a row in every table: a service with an
// entity, a TOTP and a push factor, a challenge with a notification, an
// access token, an API key, and so on down to an outbox row.
func populate(t *testing.T, db *DB) verify.Sid {
	t.Helper()
	f := setup(t, db)
	f.newTotp(f.entity, t0)
	c := f.newChallenge(f.newPush(f.entity, t0), t0, t0.Add(time.Minute))
	tok := &verify.AccessToken{Sid: newSid(t, verify.PrefixAccessToken), AccountSid: f.account.Sid,
		ServiceSid: f.service.Sid, Identity: f.entity.Identity, FactorType: verify.FactorPush, TTL: 60, DateCreated: t0}
	if err := db.CreateAccessToken(f.ctx, tok); err != nil {
		t.Fatal(err)
	}
	n := &verify.Notification{Sid: newSid(t, verify.PrefixNotification), AccountSid: f.account.Sid,
		ServiceSid: f.service.Sid, EntitySid: f.entity.Sid, Identity: f.entity.Identity,
		ChallengeSid: c.Sid, Priority: "high", TTL: 300, DateCreated: t0}
	if err := db.CreateNotification(f.ctx, n, 3); err != nil {
		t.Fatal(err)
	}
	k := &verify.APIKey{Sid: newSid(t, verify.PrefixAPIKey), AccountSid: f.account.Sid,
		SecretHash: verify.HashToken("k"), DateCreated: t0, DateUpdated: t0}
	if err := db.CreateAPIKey(f.ctx, k); err != nil {
		t.Fatal(err)
	}
	newCredential(t, db, f.account.Sid, "populate", t0)
	wh := &verify.Webhook{Sid: newSid(t, verify.PrefixWebhook), AccountSid: f.account.Sid, ServiceSid: f.service.Sid,
		FriendlyName: "hook", EventTypes: []string{"*"}, URL: "https://example.com/h", Status: verify.WebhookEnabled, Version: "v2",
		DateCreated: t0, DateUpdated: t0}
	if err := db.CreateWebhook(f.ctx, wh); err != nil {
		t.Fatal(err)
	}
	vsid := newSid(t, "VE")
	ver := &verify.Verification{Sid: vsid, AccountSid: f.account.Sid, ServiceSid: f.service.Sid, To: "+14155552671",
		Key: "+14155552671", Channel: "sms", Status: verify.VerificationPending, CodeHash: []byte("hash"), CodeLength: 6,
		Sends: 1, ExpiresAt: t0.Add(10 * time.Minute), DateCreated: t0, DateUpdated: t0,
		Attempts: []*verify.SendAttempt{{Sid: newSid(t, "VL"), VerificationSid: vsid, AccountSid: f.account.Sid,
			ServiceSid: f.service.Sid, Channel: "sms", To: "+14155552671", Country: "US", Locale: "en",
			MessageStatus: verify.MessageQueued, DateCreated: t0, DateUpdated: t0}}}
	if err := db.CreateVerification(f.ctx, ver); err != nil {
		t.Fatal(err)
	}
	mc := &verify.MessagingConfiguration{AccountSid: f.account.Sid, ServiceSid: f.service.Sid, Country: verify.CountryAll,
		MessagingServiceSid: verify.Sid("MG" + repeat('f', 32)), DateCreated: t0, DateUpdated: t0}
	if err := db.CreateMessagingConfiguration(f.ctx, mc); err != nil {
		t.Fatal(err)
	}
	rl, b := f.newRateLimit("ip", 3, 60)
	if refused, err := db.TakeBuckets(f.ctx, []verify.RateTake{{Bucket: b.Sid, Limit: rl.UniqueName, Key: "k", Max: 3, Interval: 60}}, t0); err != nil || refused != nil {
		t.Fatalf("take: %v, %v", refused, err)
	}
	f.newPasskeyLogin(f.entity, t0.Add(time.Minute))
	sn := &verify.SafeNumber{Sid: newSid(t, verify.PrefixSafeNumber), AccountSid: f.account.Sid, PhoneNumber: "+14155552671", DateCreated: t0}
	if err := db.AddSafeNumber(f.ctx, sn); err != nil {
		t.Fatal(err)
	}
	enqueueFor(t, db, string(newSid(t, "XX")), verify.OutboxWebhook, f.account.Sid, t0)
	return f.account.Sid
}

// accountTables lists the tables of db's schema that have an account_sid
// column.
func accountTables(t *testing.T, db *DB) []string {
	t.Helper()
	q := `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p
WHERE m.type = 'table' AND p.name = 'account_sid' ORDER BY m.name`
	if db.d == postgres {
		q = `SELECT table_name FROM information_schema.columns
WHERE column_name = 'account_sid' AND table_schema = current_schema() ORDER BY table_name`
	}
	rows, err := db.rdb.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}
