package sqlstore

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/passkey"
)

// newPasskey stores an unverified passkeys factor of e.
func (f *fixture) newPasskey(e *verify.Entity) *verify.Factor {
	f.t.Helper()
	fa := &verify.Factor{
		Sid: newSid(f.t, verify.PrefixFactor), AccountSid: e.AccountSid, ServiceSid: e.ServiceSid,
		EntitySid: e.Sid, Identity: e.Identity, FriendlyName: "Laptop",
		Type: verify.FactorPasskeys, Status: verify.FactorUnverified,
		Passkey: &verify.PasskeyFactor{Config: verify.PasskeyConfig{
			RelyingParty:            passkey.RP{ID: "example.com", Name: "Example", Origins: []string{"https://example.com"}},
			AuthenticatorAttachment: "any", DiscoverableCredentials: "preferred", UserVerification: "preferred",
		}},
		DateCreated: t0, DateUpdated: t0,
	}
	if err := f.db.CreateFactor(f.ctx, fa); err != nil {
		f.t.Fatal(err)
	}
	return fa
}

// newPasskeyLogin stores a login waiting for a passkey of e (any
// passkey of the service if e is nil).
func (f *fixture) newPasskeyLogin(e *verify.Entity, expires time.Time) *verify.Challenge {
	f.t.Helper()
	c := &verify.Challenge{Sid: newSid(f.t, verify.PrefixChallenge), AccountSid: f.account.Sid, ServiceSid: f.service.Sid,
		FactorType: verify.FactorPasskeys, Status: verify.ChallengePending, RespondedReason: verify.ReasonNone,
		ExpirationDate: expires, DateCreated: t0, DateUpdated: t0}
	if e != nil {
		c.EntitySid, c.Identity = e.Sid, e.Identity
	}
	if err := f.db.CreatePasskeyLogin(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// testPasskeys: a registration verifies once and keeps its credential; a
// credential ID is unique within a service; the passkey document changes
// only by compare-and-swap, exactly once when swaps race.
func testPasskeys(t *testing.T, db *DB) {
	f := setup(t, db)
	fa := f.newPasskey(f.entity)
	got, err := db.FindServiceFactor(f.ctx, f.service.Sid, fa.Sid)
	if err != nil {
		t.Fatal(err)
	}
	// The read keeps the text it came from, for SwapPasskey.
	if got.Passkey.Stored == "" {
		t.Fatal("the passkey document as read is not kept")
	}
	fa.Passkey.Stored = got.Passkey.Stored
	wantEqual(t, fa, got)
	fa.Passkey.Credential = &passkey.Credential{ID: []byte("credential-1"), PublicKey: []byte("cose"), SignCount: 3,
		Transports: []string{"internal"}, BackupEligible: true}
	if err := db.RegisterPasskey(f.ctx, fa, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterPasskey(f.ctx, fa, t0.Add(time.Second)); !verify.IsCode(err, verify.EFactorState) {
		t.Fatalf("second registration: %v", err)
	}
	byCred, err := db.FindPasskeyFactor(f.ctx, f.service.Sid, []byte("credential-1"))
	if err != nil {
		t.Fatal(err)
	}
	if byCred.Sid != fa.Sid || byCred.Status != verify.FactorVerified || byCred.Passkey.Credential.SignCount != 3 {
		t.Fatalf("by credential: %+v", byCred)
	}
	if _, err := db.FindPasskeyFactor(f.ctx, f.service.Sid, []byte("credential-2")); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("unknown credential: %v", err)
	}
	list, _, err := db.ListFactors(f.ctx, f.entity.Sid, verify.Page{Size: 10})
	if err != nil || len(list) != 1 || list[0].Passkey == nil || list[0].Passkey.Credential == nil {
		t.Fatalf("list: %+v %v", list, err)
	}

	// The same credential ID on another factor of the service is refused,
	// and that factor stays unverified.
	dup := f.newPasskey(f.newEntity(f.service, "user-0002", t0))
	dup.Passkey.Credential = &passkey.Credential{ID: []byte("credential-1"), PublicKey: []byte("other")}
	if err := db.RegisterPasskey(f.ctx, dup, t0); !verify.IsCode(err, verify.EBindingExists) {
		t.Fatalf("duplicate credential: %v", err)
	}
	if again, err := db.FindServiceFactor(f.ctx, f.service.Sid, dup.Sid); err != nil || again.Status != verify.FactorUnverified {
		t.Fatalf("after the refusal: %+v %v", again, err)
	}

	// A document another version wrote (here without backup_state) is
	// swapped all the same: the swap compares with the text as read.
	older := strings.Replace(byCred.Passkey.Stored, `,"backup_state":false`, "", 1)
	if older == byCred.Passkey.Stored {
		t.Fatalf("no backup_state in %s", older)
	}
	if _, err := db.exec(f.ctx, `UPDATE factors SET passkey = ? WHERE sid = ?`, older, string(fa.Sid)); err != nil {
		t.Fatal(err)
	}
	if byCred, err = db.FindPasskeyFactor(f.ctx, f.service.Sid, []byte("credential-1")); err != nil {
		t.Fatal(err)
	}
	same := *byCred.Passkey
	if ok, err := db.SwapPasskey(f.ctx, fa.Sid, byCred.Passkey, &same); err != nil || !ok {
		t.Fatalf("swap from a document of another version: %v %v", ok, err)
	}
	if byCred, err = db.FindPasskeyFactor(f.ctx, f.service.Sid, []byte("credential-1")); err != nil {
		t.Fatal(err)
	}

	// Racing swaps from the same old document: one wins.
	old := byCred.Passkey
	var wg sync.WaitGroup
	wins := make(chan uint32, 8)
	for i := range 8 {
		wg.Go(func() {
			next := *old
			cred := *old.Credential
			cred.SignCount = uint32(10 + i)
			next.Credential = &cred
			ok, err := db.SwapPasskey(f.ctx, fa.Sid, old, &next)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins <- cred.SignCount
			}
		})
	}
	wg.Wait()
	close(wins)
	var won []uint32
	for w := range wins {
		won = append(won, w)
	}
	if len(won) != 1 {
		t.Fatalf("%d swaps won, want 1", len(won))
	}
	after, err := db.FindServiceFactor(f.ctx, f.service.Sid, fa.Sid)
	if err != nil || after.Passkey.Credential.SignCount != won[0] {
		t.Fatalf("stored counter %+v, winner %d, %v", after.Passkey.Credential, won[0], err)
	}
}

// testPasskeyLogins: a login is found in its service only, closes once and
// not after its expiry, and the sweep's purge takes the expired ones.
func testPasskeyLogins(t *testing.T, db *DB) {
	f := setup(t, db)
	anyone := f.newPasskeyLogin(nil, t0.Add(time.Minute))
	named := f.newPasskeyLogin(f.entity, t0.Add(time.Minute))
	got, err := db.FindPasskeyLogin(f.ctx, f.service.Sid, anyone.Sid)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, anyone, got)
	if got, err = db.FindPasskeyLogin(f.ctx, f.service.Sid, named.Sid); err != nil || got.EntitySid != f.entity.Sid || got.Identity != f.entity.Identity {
		t.Fatalf("named login: %+v %v", got, err)
	}
	other := f.newService(t0)
	if _, err := db.FindPasskeyLogin(f.ctx, other.Sid, anyone.Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("another service's login: %v", err)
	}
	if err := db.ClosePasskeyLogin(f.ctx, named.Sid, t0.Add(time.Minute)); !verify.IsCode(err, verify.EChallengeDone) {
		t.Fatalf("close at expiry: %v", err)
	}
	var wg sync.WaitGroup
	closed := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			err := db.ClosePasskeyLogin(f.ctx, anyone.Sid, t0)
			if err != nil && !verify.IsCode(err, verify.EChallengeDone) {
				t.Error(err)
			}
			closed <- err == nil
		})
	}
	wg.Wait()
	close(closed)
	n := 0
	for ok := range closed {
		if ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d closes succeeded, want 1", n)
	}
	if purged, err := db.PurgePasskeyLogins(f.ctx, t0, 10); err != nil || purged != 0 {
		t.Fatalf("purge before expiry: %d %v", purged, err)
	}
	if purged, err := db.PurgePasskeyLogins(f.ctx, t0.Add(time.Minute), 10); err != nil || purged != 1 {
		t.Fatalf("purge at expiry: %d %v", purged, err)
	}
	if _, err := db.FindPasskeyLogin(f.ctx, f.service.Sid, named.Sid); !verify.IsCode(err, verify.ENotFound) {
		t.Fatalf("purged login: %v", err)
	}
}
