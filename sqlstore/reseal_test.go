package sqlstore

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// keyA and keyB are the old and the new key of the rotation tests.
var (
	keyA = bytes.Repeat([]byte{0xa1}, 32)
	keyB = bytes.Repeat([]byte{0xb2}, 32)
)

// rawSecrets reads every sealed TOTP secret as stored, by factor SID.
func rawSecrets(t *testing.T, db *DB) map[string][]byte {
	t.Helper()
	rows, err := db.rdb.Query(`SELECT sid, totp_secret FROM factors WHERE totp_secret IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var sid string
		var b []byte
		if err := rows.Scan(&sid, &b); err != nil {
			t.Fatal(err)
		}
		out[sid] = b
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// totpFactors makes n TOTP factors with distinct secrets (and one push
// factor, which has nothing sealed) and returns the secrets by SID.
func totpFactors(f *fixture, n int) map[verify.Sid][]byte {
	f.t.Helper()
	out := map[verify.Sid][]byte{}
	for i := range n {
		fa := f.newTotp(f.entity, t0)
		secret := fmt.Appendf(nil, "secret-%02d-%s", i, fa.Sid)
		if _, err := f.db.wdb.Exec(f.db.d.rebind(`UPDATE factors SET totp_secret = ? WHERE sid = ?`),
			mustSeal(f.t, f.db, fa.Sid, secret), string(fa.Sid)); err != nil {
			f.t.Fatal(err)
		}
		out[fa.Sid] = secret
	}
	f.newPush(f.entity, t0)
	return out
}

func mustSeal(t *testing.T, db *DB, sid verify.Sid, secret []byte) []byte {
	t.Helper()
	b, err := db.seal(sid, secret)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantSecrets fails unless every factor opens to its secret on db.
func wantSecrets(t *testing.T, db *DB, entity verify.Sid, want map[verify.Sid][]byte) {
	t.Helper()
	for sid, secret := range want {
		fa, err := db.FindFactor(context.Background(), entity, sid)
		if err != nil {
			t.Fatalf("FindFactor(%s): %v", sid, err)
		}
		if !bytes.Equal(fa.Totp.Secret, secret) {
			t.Fatalf("factor %s opened to %q, want %q", sid, fa.Totp.Secret, secret)
		}
	}
}

// TestRotateResumes rotates a database from key A to key B on every
// backend: the first batches stop half way, a cancelled batch writes
// nothing, and a second run finishes the rest. Afterwards every value
// carries B's key id, B alone opens them all, and A alone is refused by
// CheckKeys.
func TestRotateResumes(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbA := mustOpenFile(t, dsn, keyA)
		f := setup(t, dbA)
		want := totpFactors(f, 10)
		if err := dbA.Close(); err != nil {
			t.Fatal(err)
		}

		db := mustOpenFile(t, dsn, keyB, keyA)
		if err := db.CheckKeys(ctx); err != nil {
			t.Fatalf("CheckKeys with B and A: %v", err)
		}
		wantStatus(t, db, KeyStatus{Total: 10, Primary: 0})
		wantSecrets(t, db, f.entity.Sid, want) // A's values open while B is primary

		// Interrupted: one batch of 4 and stop, as a run whose context ends.
		r, err := db.ResealBatch(ctx, "", 4)
		if err != nil || r.Resealed != 4 || r.Done {
			t.Fatalf("first batch: %+v, %v; want 4 re-sealed and more to do", r, err)
		}
		wantStatus(t, db, KeyStatus{Total: 10, Primary: 4})
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.ResealBatch(cancelled, "", 4); err == nil {
			t.Fatal("a batch with a cancelled context succeeded")
		}
		wantStatus(t, db, KeyStatus{Total: 10, Primary: 4})

		// Resumed by a new run, from the start: it finds what is left.
		after, n := "", 0
		for {
			r, err := db.ResealBatch(ctx, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			n += r.Resealed
			if r.Skipped != 0 {
				t.Fatalf("skipped %d rows with nothing else writing", r.Skipped)
			}
			after = r.Next
			if r.Done {
				break
			}
		}
		if n != 6 {
			t.Fatalf("the resumed run re-sealed %d rows, want 6", n)
		}
		wantStatus(t, db, KeyStatus{Total: 10, Primary: 10})
		idB := KeyID(keyB)
		for sid, b := range rawSecrets(t, db) {
			if b[0] != sealVersion || !bytes.Equal(b[1:headerLen], idB[:]) {
				t.Fatalf("factor %s is stored as %x, not under B's key id %x", sid, b[:headerLen], idB)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		onlyB := mustOpenFile(t, dsn, keyB)
		if err := onlyB.CheckKeys(ctx); err != nil {
			t.Fatalf("CheckKeys with B alone: %v", err)
		}
		wantSecrets(t, onlyB, f.entity.Sid, want)

		onlyA := mustOpenFile(t, dsn, keyA)
		err = onlyA.CheckKeys(ctx)
		if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), fmt.Sprintf("%x", idB)) {
			t.Fatalf("CheckKeys with A alone: %v; want ErrWrongKey naming B's key id %x", err, idB)
		}
	})
}

func wantStatus(t *testing.T, db *DB, want KeyStatus) {
	t.Helper()
	got, err := db.KeyStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("KeyStatus = %+v, want %+v", got, want)
	}
}

// legacySeal seals as verifyd did before key ids: nonce ‖ ciphertext, the
// SID as additional data.
func legacySeal(t *testing.T, key []byte, sid verify.Sid, secret []byte) []byte {
	t.Helper()
	nonce := make([]byte, 12) // GCM's standard nonce
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	return resealWithNonce(t, key, sid, secret, nonce)
}

// TestLegacySealedValues checks that values sealed in the format without a
// header still open, under the key alone and as a previous key, and that a
// rotation turns them into the new format. One of them starts with the
// version byte and B's key id, as a random nonce can, and still opens.
func TestLegacySealedValues(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := mustOpenFile(t, dsn, keyA)
		f := setup(t, db)
		want := map[verify.Sid][]byte{}
		idB := KeyID(keyB)
		for i := range 3 {
			fa := f.newTotp(f.entity, t0)
			secret := fmt.Appendf(nil, "legacy-%d", i)
			sealed := legacySeal(t, keyA, fa.Sid, secret)
			if i == 0 { // a nonce that looks like a header of B
				nonce := append([]byte{sealVersion}, idB[:]...)
				nonce = append(nonce, 7, 7, 7, 7, 7, 7, 7)
				sealed = resealWithNonce(t, keyA, fa.Sid, secret, nonce)
			}
			if _, err := db.wdb.Exec(db.d.rebind(`UPDATE factors SET totp_secret = ? WHERE sid = ?`),
				sealed, string(fa.Sid)); err != nil {
				t.Fatal(err)
			}
			want[fa.Sid] = secret
		}
		if err := db.CheckKeys(ctx); err != nil {
			t.Fatalf("CheckKeys on legacy values: %v", err)
		}
		wantSecrets(t, db, f.entity.Sid, want)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		db = mustOpenFile(t, dsn, keyB, keyA)
		wantSecrets(t, db, f.entity.Sid, want)
		// The value that looks like B's header is not counted as B's.
		wantStatus(t, db, KeyStatus{Total: 3, Primary: 1})
		for r, after := (Reseal{}), ""; !r.Done; after = r.Next {
			var err error
			if r, err = db.ResealBatch(ctx, after, 10); err != nil {
				t.Fatal(err)
			}
		}
		// It is not re-sealed (its first five bytes are B's header), and
		// it still opens; every other value is now in the new format.
		wantStatus(t, db, KeyStatus{Total: 3, Primary: 3})
		wantSecrets(t, db, f.entity.Sid, want)
	})
}

// resealWithNonce seals in the legacy format with the given nonce.
func resealWithNonce(t *testing.T, key []byte, sid verify.Sid, secret, nonce []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	n := bytes.Clone(nonce)
	return aead.Seal(n, n, secret, []byte(sid))
}

// TestWrongKeyRefused checks that CheckKeys refuses a key that did not seal
// the database, naming the key ids, and accepts an empty database.
func TestWrongKeyRefused(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := mustOpenFile(t, dsn, keyA)
		if err := db.CheckKeys(ctx); err != nil {
			t.Fatalf("CheckKeys on an empty database: %v", err)
		}
		f := setup(t, db)
		f.newTotp(f.entity, t0)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		wrong := mustOpenFile(t, dsn, keyB)
		err := wrong.CheckKeys(ctx)
		idA, idB := KeyID(keyA), KeyID(keyB)
		if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), fmt.Sprintf("%x", idA)) ||
			!strings.Contains(err.Error(), fmt.Sprintf("%x", idB)) {
			t.Fatalf("CheckKeys with the wrong key: %v; want ErrWrongKey naming %x and %x", err, idA, idB)
		}
		if _, err := wrong.ResealBatch(ctx, "", 10); err == nil {
			t.Fatal("ResealBatch with the wrong key succeeded")
		}
	})
}

// TestKeyringRefusesBadKeys checks the ring's own rules.
func TestKeyringRefusesBadKeys(t *testing.T) {
	if _, err := newKeyring(keyA, make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte previous key was accepted")
	}
	r, err := newKeyring(keyA, keyB, keyA)
	if err != nil || len(r.all) != 2 {
		t.Fatalf("a repeated key: %v, %d keys", err, len(r.all))
	}
}
