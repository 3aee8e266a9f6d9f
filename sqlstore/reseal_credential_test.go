package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestResealCredentials rotates a database holding TOTP secrets and push
// credentials from key A to key B on every backend, in batches smaller
// than either table so that one run crosses from one table to the other:
// the status counts both, every credential ends under B's key id and opens
// to its secret with B alone, and A alone is refused by CheckKeys because
// of a credential when no factor is sealed at all.
func TestResealCredentials(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dbA := mustOpenFile(t, dsn, keyA)
		f := setup(t, dbA)
		totp := totpFactors(f, 3)
		creds := map[verify.Sid]*verify.PushCredential{}
		for i := range 4 {
			c := newCredential(t, dbA, f.account.Sid, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second))
			creds[c.Sid] = c
		}
		if err := dbA.Close(); err != nil {
			t.Fatal(err)
		}

		db := mustOpenFile(t, dsn, keyB, keyA)
		wantStatus(t, db, KeyStatus{Total: 7, Primary: 0})
		after, n, batches := "", 0, 0
		for {
			r, err := db.ResealBatch(ctx, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			n, after, batches = n+r.Resealed, r.Next, batches+1
			if r.Done {
				break
			}
		}
		if n != 7 || batches != 4 {
			t.Fatalf("re-sealed %d rows in %d batches, want 7 in 4", n, batches)
		}
		wantStatus(t, db, KeyStatus{Total: 7, Primary: 7})
		idB := KeyID(keyB)
		rows, err := db.rdb.Query(`SELECT sid, secret FROM push_credentials`)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for rows.Next() {
			var sid string
			var b []byte
			if err := rows.Scan(&sid, &b); err != nil {
				t.Fatal(err)
			}
			if b[0] != sealVersion || !bytes.Equal(b[1:headerLen], idB[:]) {
				t.Fatalf("credential %s is stored as %x, not under B's key id %x", sid, b[:headerLen], idB)
			}
			seen++
		}
		rows.Close()
		if seen != 4 {
			t.Fatalf("%d credentials, want 4", seen)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		onlyB := mustOpenFile(t, dsn, keyB)
		for sid, c := range creds {
			got, err := onlyB.OpenPushCredential(ctx, sid)
			if err != nil {
				t.Fatalf("OpenPushCredential(%s) with B alone: %v", sid, err)
			}
			wantEqual(t, c.Secret, got.Secret)
		}
		wantSecrets(t, onlyB, f.entity.Sid, totp)
		// With the factors gone, a credential alone tells a wrong key.
		if _, err := onlyB.wdb.Exec(`DELETE FROM factors`); err != nil {
			t.Fatal(err)
		}
		onlyA := mustOpenFile(t, dsn, keyA)
		err = onlyA.CheckKeys(ctx)
		if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "credential CR") {
			t.Fatalf("CheckKeys with A alone over credentials: %v; want ErrWrongKey naming a credential", err)
		}
	})
}

// TestSealedTablesInSIDOrder: ResealBatch walks sealedTables with one SID
// cursor, which visits every row only if the tables come in the order of
// their SID prefixes (AC… < CR… < YF…).
func TestSealedTablesInSIDOrder(t *testing.T) {
	for i, tb := range sealedTables {
		if len(tb.prefix) != 2 || len(tb.cols) == 0 {
			t.Fatalf("%s: prefix %q, %d sealed columns", tb.name, tb.prefix, len(tb.cols))
		}
		if i > 0 && sealedTables[i-1].prefix >= tb.prefix {
			t.Fatalf("%s (%s…) comes after %s (%s…)", tb.name, tb.prefix, sealedTables[i-1].name, sealedTables[i-1].prefix)
		}
	}
}
