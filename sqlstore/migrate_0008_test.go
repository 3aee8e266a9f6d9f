package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// TestMigration0008SealsOnLogin upgrades a database at the schema before
// migration 0008, holding an account whose tokens are only hashed, on
// every backend. After the migration the account still logs in, has no
// signing token until it does, and then has one; its secondary token is
// sealed by its own login.
func TestMigration0008SealsOnLogin(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		d, driver := sqlite, "sqlite"
		if IsPostgres(dsn) {
			d, driver = postgres, "pgx"
		}
		raw, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		ms, err := loadMigrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, d.schemaMigrationsDDL()); err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.version >= 8 {
				break
			}
			if _, err := raw.ExecContext(ctx, m.sql); err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			if _, err := raw.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`), m.version); err != nil {
				t.Fatal(err)
			}
		}
		const (
			sid       = verify.Sid("AC00000000000000000000000000000008")
			primary   = "0123456789abcdef0123456789abcdef"
			secondary = "fedcba9876543210fedcba9876543210"
		)
		if _, err := raw.ExecContext(ctx, d.rebind(`INSERT INTO accounts (sid, token_hash, secondary_token_hash, secondary_token_date, date_created)
VALUES (?, ?, ?, 0, 0)`), string(sid), verify.HashToken(primary), verify.HashToken(secondary)); err != nil {
			t.Fatal(err)
		}
		if err := raw.Close(); err != nil {
			t.Fatal(err)
		}

		db := mustOpenFile(t, dsn, testKey)
		if got := countRows(t, db, "schema_migrations", "version = 8"); got != 1 {
			t.Fatal("migration 8 not recorded")
		}
		a, err := db.FindAccount(ctx, sid)
		if err != nil || a.TokenSealed || a.SecondarySealed {
			t.Fatalf("after the migration: %+v, %v; want an account with nothing sealed", a, err)
		}
		wantNoSigning(t, db, sid)
		wantStatus(t, db, KeyStatus{})

		v := &verify.Verifier{Store: db, Now: time.Now, Rand: rand.Reader}
		if _, err := v.Login(ctx, string(sid), "not the token"); !verify.IsCode(err, verify.EAuthenticate) {
			t.Fatalf("a wrong token: %v", err)
		}
		wantNoSigning(t, db, sid)
		if _, err := v.Login(ctx, string(sid), primary); err != nil {
			t.Fatal(err)
		}
		wantSigning(t, db, sid, primary)
		if a, _ := db.FindAccount(ctx, sid); !a.TokenSealed || a.SecondarySealed {
			t.Fatalf("after the primary's login: %+v", a)
		}
		if _, err := v.Login(ctx, string(sid), secondary); err != nil {
			t.Fatal(err)
		}
		if a, _ := db.FindAccount(ctx, sid); !a.SecondarySealed {
			t.Fatal("the secondary's login did not seal it")
		}
		wantSigning(t, db, sid, primary)
		wantStatus(t, db, KeyStatus{Total: 2, Primary: 2})
	})
}
