package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// TestMigration0003KeepsData upgrades a SQLite database written at schema
// version 2, with challenges and notifications in it, and checks that the
// rebuilt challenges table holds every row, that notifications survived the
// drop of the table they point to and still go with their challenge, and
// that the index by factor is gone.
func TestMigration0003KeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	ctx := context.Background()
	raw, err := sql.Open("sqlite", withParams(path, "_pragma=foreign_keys(1)", "_pragma=journal_mode(WAL)"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(sqlite)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, sqlite.schemaMigrationsDDL()); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:2] {
		if _, err := raw.ExecContext(ctx, m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, m.version); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	// Version 2 rows, written through the store of this binary minus the
	// last migration: opening it would migrate, so write with SQL.
	raw, err = sql.Open("sqlite", withParams(path, "_pragma=foreign_keys(1)"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO accounts VALUES ('AC00000000000000000000000000000001', x'00', 0)`,
		`INSERT INTO services VALUES ('VA00000000000000000000000000000001', 'AC00000000000000000000000000000001', 'App', 6, 'App', 30, 6, 1, '{}', 0, 0)`,
		`INSERT INTO entities VALUES ('YE00000000000000000000000000000001', 'AC00000000000000000000000000000001', 'VA00000000000000000000000000000001', 'user-0001', 0, 0)`,
		`INSERT INTO factors (sid, account_sid, service_sid, entity_sid, identity, friendly_name, factor_type, status, date_created, date_updated)
		 VALUES ('YF00000000000000000000000000000001', 'AC00000000000000000000000000000001', 'VA00000000000000000000000000000001', 'YE00000000000000000000000000000001', 'user-0001', 'p', 'push', 'verified', 0, 0)`,
		`INSERT INTO challenges VALUES ('YC00000000000000000000000000000001', 'AC00000000000000000000000000000001', 'VA00000000000000000000000000000001', 'YE00000000000000000000000000000001', 'user-0001', 'YF00000000000000000000000000000001', 'push', 'pending', 'none', '{"message":"m","fields":null}', '{"ip":"1"}', NULL, 4102444800, 10, 11, NULL, 2)`,
		`INSERT INTO challenges VALUES ('YC00000000000000000000000000000002', 'AC00000000000000000000000000000001', 'VA00000000000000000000000000000001', 'YE00000000000000000000000000000001', 'user-0001', 'YF00000000000000000000000000000001', 'push', 'approved', 'none', '{"message":"m","fields":null}', NULL, '{"a":"b"}', 4102444800, 12, 13, 13, 0)`,
		`INSERT INTO notifications VALUES ('NT00000000000000000000000000000001', 'AC00000000000000000000000000000001', 'VA00000000000000000000000000000001', 'YE00000000000000000000000000000001', 'user-0001', 'YC00000000000000000000000000000001', 'high', 300, 10)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db := mustOpenFile(t, path, testKey)
	if got := countRows(t, db, "schema_migrations", "version = 3"); got != 1 {
		t.Fatalf("migration 3 not recorded")
	}
	c, err := db.FindChallenge(ctx, "YE00000000000000000000000000000001", "YC00000000000000000000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != verify.ChallengePending || c.FailedAttempts != 2 || c.HiddenDetails["ip"] != "1" ||
		c.DateUpdated != time.Unix(11, 0).UTC() || c.Details.Message != "m" {
		t.Errorf("challenge after the migration: %+v", c)
	}
	if got := countRows(t, db, "challenges", "1 = 1"); got != 2 {
		t.Errorf("%d challenges after the migration, want 2", got)
	}
	if got := countRows(t, db, "notifications", "1 = 1"); got != 1 {
		t.Fatalf("%d notifications after the migration, want 1", got)
	}
	if got := countRows(t, db, "sqlite_master", "name = 'challenges_factor_list'"); got != 0 {
		t.Error("the index by factor is still there")
	}
	if got := countRows(t, db, "sqlite_master", "name IN ('challenges_entity_list', 'challenges_pending_expiry')"); got != 2 {
		t.Errorf("%d of the 2 kept indexes are there", got)
	}
	// The notifications' foreign key follows the new table.
	if err := db.DeleteFactor(ctx, "YE00000000000000000000000000000001", "YF00000000000000000000000000000001"); err != nil {
		t.Fatal(err)
	}
	if got := countRows(t, db, "notifications", "1 = 1"); got != 0 {
		t.Errorf("%d notifications left after their challenge was deleted", got)
	}
}
