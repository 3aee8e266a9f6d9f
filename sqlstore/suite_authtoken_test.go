package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// rawTokens reads an account's sealed token columns as stored.
func rawTokens(t *testing.T, db *DB, sid verify.Sid) (primary, secondary []byte) {
	t.Helper()
	if err := db.rdb.QueryRow(db.d.rebind(`SELECT sealed_token, sealed_secondary_token FROM accounts WHERE sid = ?`),
		string(sid)).Scan(&primary, &secondary); err != nil {
		t.Fatal(err)
	}
	return primary, secondary
}

// wantSigning fails unless the account's signing token is want.
func wantSigning(t *testing.T, db verify.Store, sid verify.Sid, want string) {
	t.Helper()
	got, err := db.SigningToken(context.Background(), sid)
	if err != nil || got != want {
		t.Fatalf("SigningToken = %q, %v; want %q", got, err, want)
	}
}

// wantNoSigning fails unless the account has no signing token, reported as
// ErrNoSigningToken inside an internal (20500) error.
func wantNoSigning(t *testing.T, db verify.Store, sid verify.Sid) {
	t.Helper()
	got, err := db.SigningToken(context.Background(), sid)
	if got != "" || !errors.Is(err, verify.ErrNoSigningToken) || !verify.IsCode(err, verify.EInternal) {
		t.Fatalf("SigningToken = %q, %v; want ErrNoSigningToken", got, err)
	}
}

func mustSealToken(t *testing.T, db *DB, sid verify.Sid, role verify.TokenRole, token string, want bool) {
	t.Helper()
	got, err := db.SealToken(context.Background(), sid, role, token)
	if err != nil || got != want {
		t.Fatalf("SealToken(%v, %q) = %v, %v; want %v", role, token, got, err, want)
	}
}

// testSealedTokens: every write that sets a token hash keeps the sealed
// token consistent with it: SealToken seals only a matching token and only
// once, a replaced or deleted secondary loses its sealed value, promotion
// moves it to the primary, and a new configured token clears both.
func testSealedTokens(t *testing.T, db *DB) {
	ctx := context.Background()
	sid := newSid(t, verify.PrefixAccount)
	find := func() *verify.Account {
		t.Helper()
		a, err := db.FindAccount(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: verify.HashToken("primary"), DateCreated: t0}); err != nil {
		t.Fatal(err)
	}
	wantNoSigning(t, db, sid)
	_, err := db.SigningToken(ctx, newSid(t, verify.PrefixAccount))
	wantCode(t, err, verify.ENotFound)

	mustSealToken(t, db, sid, verify.TokenPrimary, "wrong", false)
	mustSealToken(t, db, sid, verify.TokenSecondary, "primary", false) // no secondary hash to match
	if a := find(); a.TokenSealed || a.SecondarySealed {
		t.Fatalf("a wrong token sealed something: %+v", a)
	}
	mustSealToken(t, db, sid, verify.TokenPrimary, "primary", true)
	sealed, _ := rawTokens(t, db, sid)
	mustSealToken(t, db, sid, verify.TokenPrimary, "primary", false) // already sealed: no write
	if again, _ := rawTokens(t, db, sid); string(again) != string(sealed) {
		t.Fatal("a second SealToken rewrote the sealed primary")
	}
	if a := find(); !a.TokenSealed || a.SecondarySealed {
		t.Fatalf("after sealing the primary: %+v", a)
	}
	wantSigning(t, db, sid, "primary")

	// A secondary: sealed by its caller, cleared when replaced or deleted.
	if err := db.SetSecondaryToken(ctx, sid, verify.HashToken("s1"), t0); err != nil {
		t.Fatal(err)
	}
	mustSealToken(t, db, sid, verify.TokenSecondary, "s1", true)
	if !find().SecondarySealed {
		t.Fatal("the secondary is not sealed")
	}
	if err := db.SetSecondaryToken(ctx, sid, verify.HashToken("s2"), t0); err != nil {
		t.Fatal(err)
	}
	if _, s := rawTokens(t, db, sid); s != nil || find().SecondarySealed {
		t.Fatal("replacing the secondary kept the old one sealed")
	}
	mustSealToken(t, db, sid, verify.TokenSecondary, "s1", false) // the replaced token
	mustSealToken(t, db, sid, verify.TokenSecondary, "s2", true)
	if err := db.DeleteSecondaryToken(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if _, s := rawTokens(t, db, sid); s != nil {
		t.Fatal("deleting the secondary kept it sealed")
	}
	wantSigning(t, db, sid, "primary")

	// Promotion moves the sealed secondary to the primary.
	if err := db.SetSecondaryToken(ctx, sid, verify.HashToken("s3"), t0); err != nil {
		t.Fatal(err)
	}
	mustSealToken(t, db, sid, verify.TokenSecondary, "s3", true)
	if _, err := db.PromoteSecondaryToken(ctx, sid); err != nil {
		t.Fatal(err)
	}
	wantSigning(t, db, sid, "s3")
	if a := find(); !a.TokenSealed || a.SecondarySealed {
		t.Fatalf("after promotion: %+v", a)
	}
	if _, s := rawTokens(t, db, sid); s != nil {
		t.Fatal("the promoted secondary is still sealed as a secondary")
	}

	// A secondary never sealed (made before migration 0008) promotes to an
	// unsealed primary, which its next login seals.
	if err := db.SetSecondaryToken(ctx, sid, verify.HashToken("s4"), t0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PromoteSecondaryToken(ctx, sid); err != nil {
		t.Fatal(err)
	}
	wantNoSigning(t, db, sid)
	mustSealToken(t, db, sid, verify.TokenPrimary, "s3", false) // the old primary
	mustSealToken(t, db, sid, verify.TokenPrimary, "s4", true)
	wantSigning(t, db, sid, "s4")

	// A new configured token clears both sealed values, which were the old
	// tokens'; serve then seals the new one.
	if err := db.SetSecondaryToken(ctx, sid, verify.HashToken("s5"), t0); err != nil {
		t.Fatal(err)
	}
	mustSealToken(t, db, sid, verify.TokenSecondary, "s5", true)
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: verify.HashToken("reset"), DateCreated: t0}); err != nil {
		t.Fatal(err)
	}
	if p, s := rawTokens(t, db, sid); p != nil || s != nil {
		t.Fatal("a new configured token kept the old tokens sealed")
	}
	wantNoSigning(t, db, sid)
	mustSealToken(t, db, sid, verify.TokenPrimary, "reset", true)
	wantSigning(t, db, sid, "reset")
}

// testSealTokenRace: of parallel SealToken calls for a token not sealed
// yet exactly one writes, and the value it wrote stays.
func testSealTokenRace(t *testing.T, db *DB) {
	ctx := context.Background()
	sid := newSid(t, verify.PrefixAccount)
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: verify.HashToken("tok"), DateCreated: t0}); err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wrote atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ok, err := db.SealToken(ctx, sid, verify.TokenPrimary, "tok")
			if err != nil {
				t.Error(err)
			}
			if ok {
				wrote.Add(1)
			}
		})
	}
	wg.Wait()
	if got := wrote.Load(); got != 1 {
		t.Fatalf("%d of %d parallel SealToken calls wrote, want 1", got, n)
	}
	wantSigning(t, db, sid, "tok")
}

// testSealedTokenBinding: a sealed token opens only in its own row and
// column. Copied into another account, or from the secondary column into
// the primary one, it does not open, so a database writer cannot make one
// account's token (or a token not yet promoted) sign another's webhooks.
func testSealedTokenBinding(t *testing.T, db *DB) {
	ctx := context.Background()
	a, b := newSid(t, verify.PrefixAccount), newSid(t, verify.PrefixAccount)
	for _, sid := range []verify.Sid{a, b} {
		if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: verify.HashToken("p-" + string(sid)), DateCreated: t0}); err != nil {
			t.Fatal(err)
		}
		mustSealToken(t, db, sid, verify.TokenPrimary, "p-"+string(sid), true)
	}
	if err := db.SetSecondaryToken(ctx, a, verify.HashToken("secondary"), t0); err != nil {
		t.Fatal(err)
	}
	mustSealToken(t, db, a, verify.TokenSecondary, "secondary", true)
	aPrimary, aSecondary := rawTokens(t, db, a)
	set := func(sid verify.Sid, v []byte) {
		t.Helper()
		if _, err := db.wdb.Exec(db.d.rebind(`UPDATE accounts SET sealed_token = ? WHERE sid = ?`), v, string(sid)); err != nil {
			t.Fatal(err)
		}
	}
	set(b, aPrimary) // a's primary in b's row
	if tok, err := db.SigningToken(ctx, b); err == nil || errors.Is(err, verify.ErrNoSigningToken) {
		t.Fatalf("a's sealed token opened in b's row: %q, %v", tok, err)
	}
	set(a, aSecondary) // a's secondary in a's primary column
	if tok, err := db.SigningToken(ctx, a); err == nil || errors.Is(err, verify.ErrNoSigningToken) {
		t.Fatalf("a's sealed secondary opened as its primary: %q, %v", tok, err)
	}
	set(a, aPrimary)
	wantSigning(t, db, a, "p-"+string(a))
	// Nor does a factor's identity open it: the purpose is in the data.
	if _, err := db.unseal(a, aPrimary); err == nil {
		t.Fatal("a sealed token opened with the bare account SID as additional data")
	}
}

// countingStore counts the SealToken calls that wrote.
type countingStore struct {
	verify.Store
	wrote atomic.Int32
}

func (s *countingStore) SealToken(ctx context.Context, sid verify.Sid, role verify.TokenRole, token string) (bool, error) {
	ok, err := s.Store.SealToken(ctx, sid, role, token)
	if ok {
		s.wrote.Add(1)
	}
	return ok, err
}

// testLoginSeals: Verifier.Login seals a token that is not sealed yet,
// exactly once under a parallel burst of logins; a wrong token seals
// nothing; the secondary is sealed by its own login, and after promotion
// the signing token is the new primary.
func testLoginSeals(t *testing.T, db *DB) {
	ctx := context.Background()
	sid := newSid(t, verify.PrefixAccount)
	const token = "0123456789abcdef0123456789abcdef"
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: verify.HashToken(token), DateCreated: t0}); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: db}
	v := &verify.Verifier{Store: cs, Now: time.Now, Rand: rand.Reader}
	for _, wrong := range []string{"", "wrong", token[1:]} {
		if _, err := v.Login(ctx, string(sid), wrong); !verify.IsCode(err, verify.EAuthenticate) {
			t.Fatalf("Login with %q: %v", wrong, err)
		}
	}
	wantNoSigning(t, db, sid)

	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if got, err := v.Login(ctx, string(sid), token); err != nil || got != sid {
				t.Errorf("Login = %s, %v", got, err)
			}
		})
	}
	wg.Wait()
	if got := cs.wrote.Load(); got != 1 {
		t.Fatalf("%d parallel logins sealed the token %d times, want once", n, got)
	}
	wantSigning(t, db, sid, token)
	if _, err := v.Login(ctx, string(sid), token); err != nil {
		t.Fatal(err)
	}
	if got := cs.wrote.Load(); got != 1 {
		t.Fatal("a login with the token sealed wrote again")
	}

	// The secondary, made through the Verifier, is sealed at once; a
	// secondary whose sealed value is missing is sealed by its login.
	_, secondary, err := v.CreateSecondaryToken(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := db.FindAccount(ctx, sid); !a.SecondarySealed {
		t.Fatal("CreateSecondaryToken left the secondary unsealed")
	}
	if _, err := db.wdb.Exec(db.d.rebind(`UPDATE accounts SET sealed_secondary_token = NULL WHERE sid = ?`), string(sid)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Login(ctx, string(sid), secondary); err != nil {
		t.Fatal(err)
	}
	if a, _ := db.FindAccount(ctx, sid); !a.SecondarySealed {
		t.Fatal("a login with the secondary did not seal it")
	}
	wantSigning(t, db, sid, token) // the primary signs, not the secondary
	if _, err := v.PromoteSecondaryToken(ctx, sid); err != nil {
		t.Fatal(err)
	}
	got, err := v.SigningToken(ctx, sid)
	if err != nil || got != secondary {
		t.Fatalf("SigningToken after promotion = %q, %v; want the promoted token", got, err)
	}
}
