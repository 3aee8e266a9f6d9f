package cache

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/passkey"
	"github.com/verifyd/verify/sqlstore"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// world is a real database with one service, entity and verified TOTP and
// push factors, seen through a cache (c) and directly (db), the way another
// node sharing the database would write it.
type world struct {
	t       *testing.T
	ctx     context.Context
	db      *sqlstore.DB
	c       *Store
	clock   time.Time
	service *verify.Service
	entity  *verify.Entity
	totp    *verify.Factor
	push    *verify.Factor
}

func newWorld(t *testing.T, dsn string) *world {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{t: t, ctx: ctx, db: db, clock: t0}
	w.c = New(db, db.Shared(), func() time.Time { return w.clock })
	acct := &verify.Account{Sid: w.sid(verify.PrefixAccount), TokenHash: []byte("h"), DateCreated: t0}
	w.must(db.PutAccount(ctx, acct))
	w.service = &verify.Service{Sid: w.sid(verify.PrefixService), AccountSid: acct.Sid, FriendlyName: "App", CodeLength: 6,
		Totp:        verify.TotpSettings{Issuer: "Acme", TimeStep: 30, CodeLength: 6, Skew: 1},
		Passkeys:    verify.PasskeySettings{RelyingPartyOrigins: []string{"https://a.example"}},
		DateCreated: t0, DateUpdated: t0}
	w.must(db.CreateService(ctx, w.service))
	w.entity = &verify.Entity{Sid: w.sid(verify.PrefixEntity), AccountSid: acct.Sid, ServiceSid: w.service.Sid,
		Identity: "user-00000001", DateCreated: t0, DateUpdated: t0}
	w.must(db.CreateEntity(ctx, w.entity))
	w.totp = w.factor(verify.FactorTotp)
	w.push = w.factor(verify.FactorPush)
	return w
}

func (w *world) sid(prefix string) verify.Sid {
	s, err := verify.NewSid(rand.Reader, prefix)
	w.must(err)
	return s
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// factor creates a factor of type typ and verifies it directly.
func (w *world) factor(typ verify.FactorType) *verify.Factor {
	f := &verify.Factor{Sid: w.sid(verify.PrefixFactor), AccountSid: w.entity.AccountSid, ServiceSid: w.service.Sid,
		EntitySid: w.entity.Sid, Identity: w.entity.Identity, FriendlyName: "f", Type: typ,
		Status: verify.FactorUnverified, Metadata: map[string]string{"k": "v"}, DateCreated: t0, DateUpdated: t0}
	if typ == verify.FactorTotp {
		f.Totp = &verify.TotpFactor{Secret: []byte("12345678901234567890"), Alg: "sha1", CodeLength: 6, TimeStep: 30, Skew: 1}
	} else {
		f.Push = &verify.PushFactor{PublicKey: []byte("key-" + string(f.Sid)), Alg: "ES256", CredentialSid: w.sid("YX"),
			SdkVersion: "1", AppID: "app", NotificationPlatform: verify.PlatformNone}
	}
	w.must(w.db.CreateFactor(w.ctx, f))
	w.must(w.db.VerifyFactor(w.ctx, f.Sid, t0))
	f.Status = verify.FactorVerified
	return f
}

func (w *world) findFactor() *verify.Factor {
	w.t.Helper()
	f, err := w.c.FindFactor(w.ctx, w.entity.Sid, w.totp.Sid)
	w.must(err)
	return f
}

func isNotFound(err error) bool { return verify.IsCode(err, verify.ENotFound) }

// TestServesFromMemory shows each cached lookup answering without the
// database: after a first read, another node's change is not seen until the
// entry expires, and then it is.
func TestServesFromMemory(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		svc, err := w.c.FindService(w.ctx, w.service.AccountSid, w.service.Sid)
		w.must(err)
		_, err = w.c.FindEntity(w.ctx, w.service.Sid, w.entity.Identity)
		w.must(err)
		w.findFactor()
		_, err = w.c.FindFactorByCredential(w.ctx, w.push.Push.CredentialSid)
		w.must(err)

		// Another node renames the service and the factor.
		svc.FriendlyName = "Renamed"
		w.must(w.db.UpdateService(w.ctx, svc))
		f := w.findFactor()
		f.FriendlyName = "renamed"
		w.must(w.db.UpdateFactor(w.ctx, f))

		got, err := w.c.FindService(w.ctx, w.service.AccountSid, w.service.Sid)
		w.must(err)
		if got.FriendlyName != "App" {
			t.Errorf("service read %q: not served from memory", got.FriendlyName)
		}
		if f := w.findFactor(); f.FriendlyName != "f" {
			t.Errorf("factor read %q: not served from memory", f.FriendlyName)
		}

		ttl := ExclusiveTTL
		if w.db.Shared() {
			ttl = SharedTTL
		}
		w.clock = w.clock.Add(ttl)
		got, err = w.c.FindService(w.ctx, w.service.AccountSid, w.service.Sid)
		w.must(err)
		if got.FriendlyName != "Renamed" {
			t.Errorf("after the TTL the service reads %q, want the database's", got.FriendlyName)
		}
		if f := w.findFactor(); f.FriendlyName != "renamed" {
			t.Errorf("after the TTL the factor reads %q, want the database's", f.FriendlyName)
		}
	})
}

// TestOwnWritesInvalidate: a write through the cache is seen by the next
// read at once, and deletions, including cascades, are not-founds.
func TestOwnWritesInvalidate(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		f := w.findFactor()
		f.FriendlyName = "renamed"
		w.must(w.c.UpdateFactor(w.ctx, f))
		if got := w.findFactor(); got.FriendlyName != "renamed" {
			t.Errorf("after UpdateFactor the factor reads %q", got.FriendlyName)
		}

		svc, err := w.c.FindService(w.ctx, w.service.AccountSid, w.service.Sid)
		w.must(err)
		svc.FriendlyName = "Renamed"
		w.must(w.c.UpdateService(w.ctx, svc))
		if got, err := w.c.FindService(w.ctx, w.service.AccountSid, w.service.Sid); err != nil || got.FriendlyName != "Renamed" {
			t.Errorf("after UpdateService: %v, %v", got, err)
		}

		p, err := w.c.FindFactorByCredential(w.ctx, w.push.Push.CredentialSid)
		w.must(err)
		w.must(w.c.DeleteFactor(w.ctx, p.EntitySid, p.Sid))
		if _, err := w.c.FindFactorByCredential(w.ctx, w.push.Push.CredentialSid); !isNotFound(err) {
			t.Errorf("deleted push factor by credential: %v, want not found", err)
		}

		// Deleting the entity cascades to its factors, which the cache
		// holds under their own SIDs.
		w.must(w.c.DeleteEntity(w.ctx, w.service.Sid, w.entity.Identity))
		if _, err := w.c.FindEntity(w.ctx, w.service.Sid, w.entity.Identity); !isNotFound(err) {
			t.Errorf("deleted entity: %v, want not found", err)
		}
		if _, err := w.c.FindFactor(w.ctx, w.entity.Sid, w.totp.Sid); !isNotFound(err) {
			t.Errorf("factor of a deleted entity: %v, want not found", err)
		}
		w.must(w.c.DeleteService(w.ctx, w.service.AccountSid, w.service.Sid))
		if _, err := w.c.FindService(w.ctx, w.service.AccountSid, w.service.Sid); !isNotFound(err) {
			t.Errorf("deleted service: %v, want not found", err)
		}
	})
}

// TestCopies: what a caller changes on a value it got never reaches the
// cache.
func TestCopies(t *testing.T) {
	w := newWorld(t, verifytest.DSN(t, verifytest.SQLite))
	f := w.findFactor()
	f.FriendlyName = "scribbled"
	f.Metadata["k"] = "scribbled"
	f.Totp.Secret[0] = 'X'
	f.Totp.LastUsedEnd = 999
	got := w.findFactor()
	if got.FriendlyName != "f" || got.Metadata["k"] != "v" || got.Totp.Secret[0] != '1' || got.Totp.LastUsedEnd != 0 {
		t.Errorf("cached factor changed through a copy: %+v %+v", got, got.Totp)
	}
	s, err := w.c.FindService(w.ctx, w.service.AccountSid, w.service.Sid)
	w.must(err)
	s.Passkeys.RelyingPartyOrigins[0] = "scribbled"
	s, err = w.c.FindService(w.ctx, w.service.AccountSid, w.service.Sid)
	w.must(err)
	if s.Passkeys.RelyingPartyOrigins[0] != "https://a.example" {
		t.Errorf("cached service changed through a copy: %v", s.Passkeys.RelyingPartyOrigins)
	}
}

// TestCloneFactorPasskey: a copy of a passkey factor shares none of its
// credential's slices, so writing into the copy's cannot change the cached
// factor.
func TestCloneFactorPasskey(t *testing.T) {
	orig := &verify.Factor{Passkey: &verify.PasskeyFactor{
		Config: verify.PasskeyConfig{RelyingParty: passkey.RP{Origins: []string{"https://a.example"}}},
		Credential: &passkey.Credential{
			ID:         []byte{1, 2, 3},
			PublicKey:  []byte{4, 5, 6},
			AAGUID:     []byte{7, 8, 9},
			Transports: []string{"usb"},
		},
	}}
	c := cloneFactor(orig)
	c.Passkey.Config.RelyingParty.Origins[0] = "scribbled"
	cred := c.Passkey.Credential
	cred.ID[0], cred.PublicKey[0], cred.AAGUID[0] = 0, 0, 0
	cred.Transports[0] = "scribbled"
	o := orig.Passkey.Credential
	if o.ID[0] != 1 || o.PublicKey[0] != 4 || o.AAGUID[0] != 7 || o.Transports[0] != "usb" ||
		orig.Passkey.Config.RelyingParty.Origins[0] != "https://a.example" {
		t.Errorf("original changed through its clone: %+v %v", o, orig.Passkey.Config.RelyingParty.Origins)
	}
}

// TestUnverifiedNotCached: a factor is cached only once verified, so a
// verification made by another node is seen at once.
func TestUnverifiedNotCached(t *testing.T) {
	w := newWorld(t, verifytest.DSN(t, verifytest.SQLite))
	f := &verify.Factor{Sid: w.sid(verify.PrefixFactor), AccountSid: w.entity.AccountSid, ServiceSid: w.service.Sid,
		EntitySid: w.entity.Sid, Identity: w.entity.Identity, FriendlyName: "new", Type: verify.FactorTotp,
		Status: verify.FactorUnverified, DateCreated: t0, DateUpdated: t0,
		Totp: &verify.TotpFactor{Secret: []byte("12345678901234567890"), Alg: "sha1", CodeLength: 6, TimeStep: 30, Skew: 1}}
	w.must(w.db.CreateFactor(w.ctx, f))
	got, err := w.c.FindFactor(w.ctx, w.entity.Sid, f.Sid)
	w.must(err)
	if got.Status != verify.FactorUnverified {
		t.Fatalf("status %s", got.Status)
	}
	w.must(w.db.VerifyFactor(w.ctx, f.Sid, t0))
	got, err = w.c.FindFactor(w.ctx, w.entity.Sid, f.Sid)
	w.must(err)
	if got.Status != verify.FactorVerified {
		t.Errorf("verification by another node unseen: status %s", got.Status)
	}
	// A cached factor asked for under another entity is the store's
	// not-found, not the cached row.
	if _, err := w.c.FindFactor(w.ctx, w.sid(verify.PrefixEntity), f.Sid); !isNotFound(err) {
		t.Errorf("factor under another entity: %v, want not found", err)
	}
}

// TestTotpStepsInTx: a step used in a committed transaction moves the
// cached factor past it; one used in a rolled back transaction is free
// again, and the cache must not refuse it.
func TestTotpStepsInTx(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		w.findFactor()
		w.must(w.c.Tx(w.ctx, func(st verify.Store) error {
			ok, err := st.UseTotpStep(w.ctx, w.totp.Sid, 30, 60)
			if !ok {
				t.Error("first use of a step refused")
			}
			return err
		}))
		if got := w.findFactor().Totp.LastUsedEnd; got != 60 {
			t.Errorf("after a committed step LastUsedEnd = %d, want 60", got)
		}
		refused := errors.New("refused")
		err := w.c.Tx(w.ctx, func(st verify.Store) error {
			if ok, err := st.UseTotpStep(w.ctx, w.totp.Sid, 90, 120); !ok || err != nil {
				t.Errorf("UseTotpStep: %v %v", ok, err)
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Fatalf("Tx: %v", err)
		}
		if got := w.findFactor().Totp.LastUsedEnd; got != 60 {
			t.Errorf("after a rolled back step LastUsedEnd = %d, want 60", got)
		}
		// Outside a transaction the same holds.
		if ok, err := w.c.UseTotpStep(w.ctx, w.totp.Sid, 90, 120); !ok || err != nil {
			t.Fatalf("UseTotpStep: %v %v", ok, err)
		}
		if got := w.findFactor().Totp.LastUsedEnd; got != 120 {
			t.Errorf("LastUsedEnd = %d, want 120", got)
		}
	})
}

// slowReads is the real store with a FindFactor that can be held half way,
// after it has read the row, to stage the race between a read and a write.
type slowReads struct {
	*sqlstore.DB
	read, release chan struct{}
}

func (s *slowReads) FindFactor(ctx context.Context, entity, sid verify.Sid) (*verify.Factor, error) {
	f, err := s.DB.FindFactor(ctx, entity, sid)
	if s.read != nil {
		s.read <- struct{}{}
		<-s.release
	}
	return f, err
}

// writeDuringRead reads w's TOTP factor through a cache over slowReads,
// runs write between the database's answer and the cache storing it, and
// returns the cache.
func writeDuringRead(t *testing.T, w *world, write func(c *Store)) *Store {
	slow := &slowReads{DB: w.db, read: make(chan struct{}), release: make(chan struct{})}
	c := New(slow, false, func() time.Time { return w.clock })
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := c.FindFactor(w.ctx, w.entity.Sid, w.totp.Sid); err != nil {
			t.Error(err)
		}
	})
	<-slow.read // the row is read, not yet stored
	write(c)
	close(slow.release)
	wg.Wait()
	slow.read = nil
	return c
}

// TestStaleReadNotStored: a read that fetched the row before a write
// dropped it must not put the old row back.
func TestStaleReadNotStored(t *testing.T) {
	w := newWorld(t, verifytest.DSN(t, verifytest.SQLite))
	c := writeDuringRead(t, w, func(c *Store) {
		f, err := w.db.FindFactor(w.ctx, w.entity.Sid, w.totp.Sid)
		w.must(err)
		f.FriendlyName = "renamed"
		w.must(c.UpdateFactor(w.ctx, f))
	})
	got, err := c.FindFactor(w.ctx, w.entity.Sid, w.totp.Sid)
	w.must(err)
	if got.FriendlyName != "renamed" {
		t.Errorf("factor reads %q: a read from before the write was cached after it", got.FriendlyName)
	}
}

// TestOtherWriteKeepsRead: a write of another table's rows while a factor
// is read (a push answer, many a second) does not keep the factor out of
// the cache, while a write of the factor still does (TestStaleReadNotStored).
func TestOtherWriteKeepsRead(t *testing.T) {
	w := newWorld(t, verifytest.DSN(t, verifytest.SQLite))
	ch := w.newChallenge()
	c := writeDuringRead(t, w, func(c *Store) {
		w.must(c.RespondChallenge(w.ctx, ch.Sid, verify.ChallengeApproved, verify.ReasonNone, nil, t0))
	})
	hits, _ := c.Stats()
	if _, err := c.FindFactor(w.ctx, w.entity.Sid, w.totp.Sid); err != nil {
		t.Fatal(err)
	}
	if after, _ := c.Stats(); after != hits+1 {
		t.Error("a factor read during a challenge's answer was not remembered")
	}
}

// TestBounded: the tables never hold more than max entries.
func TestBounded(t *testing.T) {
	tb := newTables(time.Minute, DefaultBytes, func() time.Time { return t0 })
	tb.bServices.entries = 3
	for i := range 10 {
		s := verify.Sid(string(rune('a' + i)))
		put(tb, tb.services, &tb.bServices, serviceKey{"AC", s}, &verify.Service{Sid: s}, tb.generation(&tb.bServices))
	}
	if n := len(tb.services); n != 3 {
		t.Errorf("%d services cached, want at most 3", n)
	}
}

// TestBoundedInBytes: a table holds no more bytes than its budget, however
// large its rows (factors with the most metadata here); a row too large
// for a sixteenth of the budget is not cached at all; every way out of the
// table gives its bytes back, so the count matches what it holds.
func TestBoundedInBytes(t *testing.T) {
	tb := newTables(time.Minute, DefaultBytes, func() time.Time { return t0 })
	tb.bFactors.bytes = 64 << 10
	big := func(i int) *verify.Factor {
		md := map[string]string{}
		for k := range 20 {
			md[fmt.Sprintf("key-%02d", k)] = strings.Repeat("v", 40)
		}
		return &verify.Factor{Sid: verify.Sid(fmt.Sprintf("YF%032d", i)), Status: verify.FactorVerified, Metadata: md,
			Totp: &verify.TotpFactor{Secret: make([]byte, 20)}}
	}
	size := approxSize(big(0))
	if size < 20*(6+40) {
		t.Fatalf("approxSize %d misses the metadata", size)
	}
	for i := range 1000 {
		tb.putFactor(big(i), tb.generation(&tb.bFactors))
		if tb.bFactors.used > tb.bFactors.bytes {
			t.Fatalf("after %d factors the table holds %d bytes, over its %d", i+1, tb.bFactors.used, tb.bFactors.bytes)
		}
	}
	if n, want := int64(len(tb.factors)), tb.bFactors.bytes/size; n > want || n < want-1 {
		t.Errorf("%d factors of %d bytes cached in %d bytes, want %d", n, size, tb.bFactors.bytes, want)
	}
	if sum := sumSizes(tb.factors); sum != tb.bFactors.used {
		t.Errorf("the entries hold %d bytes, the budget counts %d", sum, tb.bFactors.used)
	}
	// Out by a delete, a used step (same size), and everything at once.
	var one verify.Sid
	for sid := range tb.factors {
		one = sid
		break
	}
	tb.usedStep(one, 90)
	tb.mu.Lock()
	tb.deleteFactor(one)
	tb.mu.Unlock()
	if sum := sumSizes(tb.factors); sum != tb.bFactors.used {
		t.Errorf("after a delete the entries hold %d bytes, the budget counts %d", sum, tb.bFactors.used)
	}
	tb.dropAll()
	if tb.bFactors.used != 0 || len(tb.factors) != 0 {
		t.Errorf("after dropAll: %d bytes, %d factors", tb.bFactors.used, len(tb.factors))
	}
	// A sixteenth of 64 KiB is 4 KiB: a factor with 5 KiB of metadata is
	// read from the database each time.
	huge := big(5000)
	huge.Metadata["blob"] = strings.Repeat("x", 5<<10)
	tb.putFactor(huge, tb.generation(&tb.bFactors))
	if _, ok := tb.factors[huge.Sid]; ok || tb.bFactors.used != 0 {
		t.Errorf("a factor of %d bytes was cached in a table of %d", approxSize(huge), tb.bFactors.bytes)
	}
}

// TestBudgetShares: a budget is split among the tables in the same
// proportions whatever its size, adding up to its total, with bounds in
// entries that grow with it; the default gives the sizes BENCHMARKS.md
// measured; a budget out of range is clamped. A larger budget holds
// proportionally more factors.
func TestBudgetShares(t *testing.T) {
	now := func() time.Time { return t0 }
	def := newTables(time.Minute, DefaultBytes, now)
	if def.bFactors.bytes != 4<<20 || def.bEntities.bytes != 2<<20 || def.bChallenges.bytes != 2<<20 ||
		def.bServices.bytes != 1<<20 || def.bWebhooks.bytes != 512<<10 || def.bRates.bytes != 512<<10 {
		t.Errorf("default budgets %+v", def)
	}
	if def.bFactors.entries != MaxEntries || def.bChallenges.entries != MaxChallenges {
		t.Errorf("default entries: factors %d, challenges %d", def.bFactors.entries, def.bChallenges.entries)
	}
	for _, total := range []int64{1 << 20, DefaultBytes, 64 << 20, 3<<20 + 7} {
		tb := newTables(time.Minute, total, now)
		if _, sum := (&Store{writer{c: tb}}).Sizes(); sum != total {
			t.Errorf("a budget of %d splits into %d", total, sum)
		}
		if want := int(int64(MaxEntries) * total / DefaultBytes); tb.bFactors.entries != want {
			t.Errorf("a budget of %d bounds factors at %d entries, want %d", total, tb.bFactors.entries, want)
		}
	}
	inner := verify.Store(nil)
	if _, b := NewSized(inner, false, 1, now).Sizes(); b != MinBytes || MinBytes != 1<<20 {
		t.Errorf("a budget of 1 byte was not raised to 1 MiB: %d", b)
	}
	if _, b := NewSized(inner, false, 1<<50, now).Sizes(); b != MaxBytes {
		t.Errorf("a budget of 1 PiB was not clamped to MaxBytes: %d", b)
	}

	fill := func(total int64) int {
		tb := newTables(time.Minute, total, now)
		for i := range 40000 {
			f := &verify.Factor{Sid: verify.Sid(fmt.Sprintf("YF%032d", i)), EntitySid: "YE0123456789abcdef0123456789abcdef",
				Status: verify.FactorVerified, Totp: &verify.TotpFactor{Secret: make([]byte, 20)}}
			tb.putFactor(f, tb.generation(&tb.bFactors))
		}
		return len(tb.factors)
	}
	small, large := fill(2<<20), fill(8<<20)
	if small < 1000 || large < 4*small-8 || large > 4*small+8 {
		t.Errorf("2 MiB held %d factors and 8 MiB %d, want four times as many", small, large)
	}
}

func sumSizes[K comparable, T any](m map[K]entry[T]) int64 {
	var n int64
	for _, e := range m {
		n += e.size
	}
	return n
}

func (w *world) newChallenge() *verify.Challenge {
	c := &verify.Challenge{Sid: w.sid(verify.PrefixChallenge), AccountSid: w.push.AccountSid, ServiceSid: w.push.ServiceSid,
		EntitySid: w.entity.Sid, Identity: w.entity.Identity, FactorSid: w.push.Sid, FactorType: verify.FactorPush,
		Status: verify.ChallengePending, RespondedReason: verify.ReasonNone,
		Details:        verify.ChallengeDetails{Message: "Log in?", Fields: []verify.DetailField{{Label: "IP", Value: "1.2.3.4"}}},
		HiddenDetails:  map[string]string{"ip": "1.2.3.4"},
		ExpirationDate: t0.Add(5 * time.Minute), DateCreated: t0, DateUpdated: t0}
	w.must(w.c.CreateChallenge(w.ctx, c))
	return c
}

// TestChallenges: on a database only this process writes, a challenge
// created here is read from memory, and answering it here is seen at once;
// on a shared one challenges are never cached.
func TestChallenges(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c := w.newChallenge()
		// Another process answers it behind the cache's back.
		w.must(w.db.RespondChallenge(w.ctx, c.Sid, verify.ChallengeDenied, verify.ReasonNone, nil, t0))
		got, err := w.c.FindChallenge(w.ctx, w.entity.Sid, c.Sid)
		w.must(err)
		want := verify.ChallengePending // from memory
		if w.db.Shared() {
			want = verify.ChallengeDenied // never cached
		}
		if got.Status != want {
			t.Errorf("status %s, want %s", got.Status, want)
		}
		got.Details.Fields[0].Value = "scribbled"
		got.HiddenDetails["ip"] = "scribbled"

		c2 := w.newChallenge()
		if _, err := w.c.FindChallenge(w.ctx, w.entity.Sid, c2.Sid); err != nil {
			t.Fatal(err)
		}
		w.must(w.c.RespondChallenge(w.ctx, c2.Sid, verify.ChallengeApproved, verify.ReasonNone, map[string]string{"a": "b"}, t0))
		got, err = w.c.FindChallenge(w.ctx, w.entity.Sid, c2.Sid)
		w.must(err)
		if got.Status != verify.ChallengeApproved || got.Metadata["a"] != "b" {
			t.Errorf("after RespondChallenge: %s %v", got.Status, got.Metadata)
		}
		if got.Details.Fields[0].Value != "1.2.3.4" || got.HiddenDetails["ip"] != "1.2.3.4" {
			t.Errorf("cached challenge changed through a copy: %+v %v", got.Details, got.HiddenDetails)
		}
		if _, err := w.c.FindChallenge(w.ctx, w.sid(verify.PrefixEntity), c2.Sid); !isNotFound(err) {
			t.Errorf("challenge under another entity: %v, want not found", err)
		}

		// Deleting the factor deletes its challenges.
		w.must(w.c.DeleteFactor(w.ctx, w.entity.Sid, w.push.Sid))
		if _, err := w.c.FindChallenge(w.ctx, w.entity.Sid, c2.Sid); !isNotFound(err) {
			t.Errorf("challenge of a deleted factor: %v, want not found", err)
		}
	})
}
