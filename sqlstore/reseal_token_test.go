package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestRotateResealsTokens rotates from key A to key B a database holding
// sealed auth tokens (a primary and a secondary, and a primary alone)
// besides TOTP secrets, on every backend, one row per batch so that the
// scan steps from accounts to factors. KeyStatus counts the tokens; after
// the run they carry B's key id, B alone opens them (to sign, and to
// promote the secondary), and CheckKeys refuses a key that opens none.
func TestRotateResealsTokens(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbA := mustOpenFile(t, dsn, keyA)
		f := setup(t, dbA)
		x, y := newSid(t, verify.PrefixAccount), newSid(t, verify.PrefixAccount)
		for _, sid := range []verify.Sid{x, y} {
			if err := dbA.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: verify.HashToken("p-" + string(sid)), DateCreated: t0}); err != nil {
				t.Fatal(err)
			}
			mustSealToken(t, dbA, sid, verify.TokenPrimary, "p-"+string(sid), true)
		}
		if err := dbA.SetSecondaryToken(ctx, x, verify.HashToken("s-x"), t0); err != nil {
			t.Fatal(err)
		}
		mustSealToken(t, dbA, x, verify.TokenSecondary, "s-x", true)
		if err := dbA.Close(); err != nil {
			t.Fatal(err)
		}

		// Tokens alone are enough for CheckKeys to refuse a wrong key.
		wrong := mustOpenFile(t, dsn, keyB)
		err := wrong.CheckKeys(ctx)
		if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "account ") {
			t.Fatalf("CheckKeys with only B over tokens sealed by A: %v; want ErrWrongKey naming an account", err)
		}
		if err := wrong.Close(); err != nil {
			t.Fatal(err)
		}

		dbA = mustOpenFile(t, dsn, keyA)
		f.db = dbA
		want := totpFactors(f, 3)
		if err := dbA.Close(); err != nil {
			t.Fatal(err)
		}

		db := mustOpenFile(t, dsn, keyB, keyA)
		if err := db.CheckKeys(ctx); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, db, KeyStatus{Total: 6, Primary: 0})
		n := 0
		for r, after := (Reseal{}), ""; !r.Done; after = r.Next {
			if r, err = db.ResealBatch(ctx, after, 1); err != nil {
				t.Fatal(err)
			}
			n += r.Resealed
		}
		if n != 6 {
			t.Fatalf("re-sealed %d values, want 6", n)
		}
		wantStatus(t, db, KeyStatus{Total: 6, Primary: 6})
		idB := KeyID(keyB)
		for _, sid := range []verify.Sid{x, y} {
			p, s := rawTokens(t, db, sid)
			for _, v := range [][]byte{p, s} {
				if v != nil && (v[0] != sealVersion || !bytes.Equal(v[1:headerLen], idB[:])) {
					t.Fatalf("account %s holds a token sealed as %x, not under B", sid, v[:headerLen])
				}
			}
		}

		onlyB := mustOpenFile(t, dsn, keyB)
		if err := onlyB.CheckKeys(ctx); err != nil {
			t.Fatalf("CheckKeys with B alone: %v", err)
		}
		wantSecrets(t, onlyB, f.entity.Sid, want)
		wantSigning(t, onlyB, y, "p-"+string(y))
		wantSigning(t, onlyB, x, "p-"+string(x))
		if _, err := onlyB.PromoteSecondaryToken(ctx, x); err != nil {
			t.Fatal(err)
		}
		wantSigning(t, onlyB, x, "s-x")
	})
}
