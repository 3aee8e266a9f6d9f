package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

func testAccounts(t *testing.T, db *DB) {
	ctx := context.Background()
	sid := newSid(t, verify.PrefixAccount)
	_, err := db.FindAccount(ctx, sid)
	wantCode(t, err, verify.ENotFound)
	if n, err := db.CountAccounts(ctx); err != nil || n != 0 {
		t.Fatalf("CountAccounts = %d, %v; want 0", n, err)
	}

	a := &verify.Account{Sid: sid, TokenHash: []byte{1, 2, 3}, DateCreated: t0}
	if err := db.PutAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindAccount(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, a, got)

	// Replacing the hash keeps the creation date.
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: []byte{9}, DateCreated: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err = db.FindAccount(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, &verify.Account{Sid: sid, TokenHash: []byte{9}, DateCreated: t0}, got)

	if err := db.PutAccount(ctx, &verify.Account{Sid: newSid(t, "AC"), TokenHash: []byte{4}, DateCreated: t0}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountAccounts(ctx); err != nil || n != 2 {
		t.Fatalf("CountAccounts = %d, %v; want 2", n, err)
	}
}

func testServices(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	s := &verify.Service{
		Sid: newSid(t, verify.PrefixService), AccountSid: f.account.Sid,
		FriendlyName: "Full", CodeLength: 8,
		LookupEnabled: true, SkipSmsToLandlines: true, DtmfInputRequired: true, TtsName: "alice",
		Psd2Enabled: true, DoNotShareWarningEnabled: true, CustomCodeEnabled: true,
		DefaultTemplateSid: "HJ123", VerifyEventSubscriptionEnabled: true,
		Push:     verify.PushSettings{IncludeDate: true, ApnCredentialSid: "CRa", FcmCredentialSid: "CRf"},
		Totp:     verify.TotpSettings{Issuer: "Acme", TimeStep: 60, CodeLength: 8, Skew: 2},
		Whatsapp: verify.WhatsappSettings{MsgServiceSid: "MG1", From: "+15005550006"},
		Passkeys: verify.PasskeySettings{
			RelyingPartyID: "example.com", RelyingPartyName: "Example",
			RelyingPartyOrigins:     []string{"https://example.com", "https://www.example.com"},
			AuthenticatorAttachment: "platform", DiscoverableCredentials: "preferred",
			UserVerification: "required",
		},
		DateCreated: t0, DateUpdated: t0.Add(time.Second),
	}
	if err := db.CreateService(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindService(ctx, f.account.Sid, s.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, s, got)

	_, err = db.FindService(ctx, newSid(t, "AC"), s.Sid)
	wantCode(t, err, verify.ENotFound)
	_, err = db.FindService(ctx, f.account.Sid, newSid(t, "VA"))
	wantCode(t, err, verify.ENotFound)

	up := *s
	up.FriendlyName, up.CodeLength, up.LookupEnabled, up.TtsName = "Renamed", 4, false, ""
	up.Totp = verify.TotpSettings{Issuer: "Other", TimeStep: 30, CodeLength: 6, Skew: 0}
	up.Passkeys.RelyingPartyOrigins = nil
	up.DateCreated = t0.Add(time.Hour) // not updatable
	up.DateUpdated = t0.Add(2 * time.Hour)
	if err := db.UpdateService(ctx, &up); err != nil {
		t.Fatal(err)
	}
	got, err = db.FindService(ctx, f.account.Sid, s.Sid)
	if err != nil {
		t.Fatal(err)
	}
	up.DateCreated = t0
	wantEqual(t, &up, got)

	missing := up
	missing.Sid = newSid(t, "VA")
	wantCode(t, db.UpdateService(ctx, &missing), verify.ENotFound)

	wantCode(t, db.DeleteService(ctx, newSid(t, "AC"), s.Sid), verify.ENotFound)
	if err := db.DeleteService(ctx, f.account.Sid, s.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = db.FindService(ctx, f.account.Sid, s.Sid)
	wantCode(t, err, verify.ENotFound)
	wantCode(t, db.DeleteService(ctx, f.account.Sid, s.Sid), verify.ENotFound)

	// The fixture's service is the only one left.
	list, more, err := db.ListServices(ctx, f.account.Sid, verify.Page{Size: 10})
	if err != nil || more || len(list) != 1 {
		t.Fatalf("ListServices = %d items, more %v, %v; want 1, false", len(list), more, err)
	}
	wantEqual(t, f.service, list[0])
}

func testEntities(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	got, err := db.FindEntity(ctx, f.service.Sid, f.entity.Identity)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, f.entity, got)

	_, err = db.FindEntity(ctx, f.service.Sid, "nobody-here")
	wantCode(t, err, verify.ENotFound)

	dup := *f.entity
	dup.Sid = newSid(t, verify.PrefixEntity)
	wantCode(t, db.CreateEntity(ctx, &dup), verify.EEntityExists)

	// The same identity in another service is another entity.
	other := f.newService(t0)
	f.newEntity(other, f.entity.Identity, t0)

	wantCode(t, db.DeleteEntity(ctx, f.service.Sid, "nobody-here"), verify.ENotFound)
	if err := db.DeleteEntity(ctx, f.service.Sid, f.entity.Identity); err != nil {
		t.Fatal(err)
	}
	_, err = db.FindEntity(ctx, f.service.Sid, f.entity.Identity)
	wantCode(t, err, verify.ENotFound)
	if _, err := db.FindEntity(ctx, other.Sid, f.entity.Identity); err != nil {
		t.Fatalf("entity of the other service: %v", err)
	}
}

// testPaging walks 7 entities (pairs sharing a creation second, so that the
// SID breaks ties) in pages of 3, forward and backward, in both orders.
func testPaging(t *testing.T, db *DB) {
	f := setup(t, db)
	svc := f.newService(t0)
	var all []*verify.Entity
	for i := range 7 {
		all = append(all, f.newEntity(svc, fmt.Sprintf("user-%04d", i), t0.Add(time.Duration(i/2)*time.Second)))
	}
	slices.SortFunc(all, func(a, b *verify.Entity) int {
		if c := a.DateCreated.Compare(b.DateCreated); c != 0 {
			return c
		}
		return strings.Compare(string(a.Sid), string(b.Sid))
	})
	list := func(p verify.Page) ([]*verify.Entity, bool, error) {
		return db.ListEntities(f.ctx, svc.Sid, p)
	}
	cursor := func(e *verify.Entity) *verify.Cursor {
		return &verify.Cursor{Time: e.DateCreated, Sid: e.Sid}
	}
	for _, desc := range []bool{false, true} {
		t.Run(fmt.Sprintf("desc=%v", desc), func(t *testing.T) {
			want := slices.Clone(all)
			if desc {
				slices.Reverse(want)
			}
			pages := walkForward(t, list, cursor, verify.Page{Size: 3, Desc: desc})
			wantEqual(t, [][]*verify.Entity{want[0:3], want[3:6], want[6:7]}, pages)

			// Back from the last page.
			p := verify.Page{Size: 3, Desc: desc, Before: cursor(want[6])}
			got, more, err := list(p)
			if err != nil || !more {
				t.Fatalf("before last: more %v, %v", more, err)
			}
			wantEqual(t, want[3:6], got)
			p.Before = cursor(got[0])
			got, more, err = list(p)
			if err != nil || more {
				t.Fatalf("before middle: more %v, %v", more, err)
			}
			wantEqual(t, want[0:3], got)

			// After and Before together bound the page on both sides.
			got, _, err = list(verify.Page{Size: 10, Desc: desc, After: cursor(want[1]), Before: cursor(want[5])})
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, want[2:5], got)
		})
	}

	// An exact fit has no more; one short has more.
	got, more, err := list(verify.Page{Size: 7})
	if err != nil || more || len(got) != 7 {
		t.Fatalf("size 7: %d items, more %v, %v", len(got), more, err)
	}
	if _, more, _ = list(verify.Page{Size: 6}); !more {
		t.Fatal("size 6: more = false")
	}
	got, more, err = list(verify.Page{Size: 3, After: cursor(all[6])})
	if err != nil || more || got == nil || len(got) != 0 {
		t.Fatalf("after the end: %v, more %v, %v; want an empty non-nil slice", got, more, err)
	}
}

// walkForward follows After cursors from p to the end and returns the pages.
func walkForward[T any](t *testing.T, list func(verify.Page) ([]T, bool, error),
	cursor func(T) *verify.Cursor, p verify.Page) [][]T {
	t.Helper()
	var pages [][]T
	for range 100 {
		items, more, err := list(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > p.Size {
			t.Fatalf("page of %d items, size %d", len(items), p.Size)
		}
		pages = append(pages, items)
		if !more {
			return pages
		}
		p.After = cursor(items[len(items)-1])
	}
	t.Fatal("paging does not end")
	return nil
}

func testCascadeService(t *testing.T, db *DB) {
	f := setup(t, db)
	fa := f.newPush(f.entity, t0)
	c := f.newChallenge(fa, t0, t0.Add(time.Minute))
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
	// Another service must be untouched.
	other := f.newService(t0)
	otherEntity := f.newEntity(other, "user-keep", t0)
	otherFactor := f.newTotp(otherEntity, t0)

	if err := db.DeleteService(f.ctx, f.account.Sid, f.service.Sid); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"entities", "factors", "challenges", "access_tokens", "notifications"} {
		if got := countRows(t, db, table, "service_sid = ?", string(f.service.Sid)); got != 0 {
			t.Errorf("%s: %d rows of the deleted service left", table, got)
		}
	}
	_, err := db.FindEntity(f.ctx, f.service.Sid, f.entity.Identity)
	wantCode(t, err, verify.ENotFound)
	_, err = db.FindFactorByCredential(f.ctx, fa.Push.CredentialSid)
	wantCode(t, err, verify.ENotFound)
	_, err = db.FindChallenge(f.ctx, f.entity.Sid, c.Sid)
	wantCode(t, err, verify.ENotFound)
	_, err = db.FindAccessToken(f.ctx, f.service.Sid, tok.Sid)
	wantCode(t, err, verify.ENotFound)
	if _, err := db.FindFactor(f.ctx, otherEntity.Sid, otherFactor.Sid); err != nil {
		t.Fatalf("factor of the other service: %v", err)
	}
}

func testCascadeEntity(t *testing.T, db *DB) {
	f := setup(t, db)
	fa := f.newTotp(f.entity, t0)
	c := f.newChallenge(fa, t0, t0.Add(time.Minute))
	n := &verify.Notification{Sid: newSid(t, verify.PrefixNotification), AccountSid: f.account.Sid,
		ServiceSid: f.service.Sid, EntitySid: f.entity.Sid, Identity: f.entity.Identity,
		ChallengeSid: c.Sid, Priority: "high", TTL: 300, DateCreated: t0}
	if err := db.CreateNotification(f.ctx, n, 3); err != nil {
		t.Fatal(err)
	}
	keep := f.newEntity(f.service, "user-keep", t0)
	keepFactor := f.newTotp(keep, t0)

	if err := db.DeleteEntity(f.ctx, f.service.Sid, f.entity.Identity); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"factors", "challenges", "notifications"} {
		if got := countRows(t, db, table, "entity_sid = ?", string(f.entity.Sid)); got != 0 {
			t.Errorf("%s: %d rows of the deleted entity left", table, got)
		}
	}
	_, err := db.FindFactor(f.ctx, f.entity.Sid, fa.Sid)
	wantCode(t, err, verify.ENotFound)
	if _, err := db.FindFactor(f.ctx, keep.Sid, keepFactor.Sid); err != nil {
		t.Fatalf("factor of the other entity: %v", err)
	}
}

func testTx(t *testing.T, db *DB) {
	f := setup(t, db)
	ctx := f.ctx
	boom := errors.New("boom")
	var created *verify.Entity
	err := db.Tx(ctx, func(s verify.Store) error {
		created = &verify.Entity{Sid: newSid(t, "YE"), AccountSid: f.account.Sid, ServiceSid: f.service.Sid,
			Identity: "user-rolled-back", DateCreated: t0, DateUpdated: t0}
		if err := s.CreateEntity(ctx, created); err != nil {
			return err
		}
		// The transaction sees its own write, also through a nested Tx.
		return s.Tx(ctx, func(s verify.Store) error {
			if _, err := s.FindEntity(ctx, f.service.Sid, created.Identity); err != nil {
				return err
			}
			return boom
		})
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want fn's error", err)
	}
	_, err = db.FindEntity(ctx, f.service.Sid, created.Identity)
	wantCode(t, err, verify.ENotFound)

	// A panic rolls back too, and leaves the writer usable.
	func() {
		defer func() { _ = recover() }()
		_ = db.Tx(ctx, func(s verify.Store) error {
			if err := s.DeleteEntity(ctx, f.service.Sid, f.entity.Identity); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if _, err := db.FindEntity(ctx, f.service.Sid, f.entity.Identity); err != nil {
		t.Fatalf("entity deleted by a panicking Tx: %v", err)
	}

	// A committed transaction keeps everything, including a failure counter
	// and a notification, whose own transactions join the outer one.
	fa, fb := f.newTotp(f.entity, t0), f.newTotp(f.entity, t0)
	err = db.Tx(ctx, func(s verify.Store) error {
		for range 2 {
			if _, err := s.TakeFactorAttempt(ctx, fa.Sid, 5); err != nil {
				return err
			}
		}
		return s.VerifyFactor(ctx, fb.Sid, t0.Add(time.Minute))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.FindFactor(ctx, f.entity.Sid, fa.Sid)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != verify.FactorUnverified || got.FailedAttempts != 2 {
		t.Fatalf("after commit: status %s, failures %d", got.Status, got.FailedAttempts)
	}
	if got, err = db.FindFactor(ctx, f.entity.Sid, fb.Sid); err != nil || got.Status != verify.FactorVerified {
		t.Fatalf("after commit: %+v, %v", got, err)
	}
}
