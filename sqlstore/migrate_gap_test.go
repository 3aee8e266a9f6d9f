package sqlstore

import (
	"context"
	"strings"
	"testing"

	"github.com/verifyd/verify/internal/verifytest"
)

// TestMigrateFillsGap: a migration numbered below one already applied (a
// branch merged after a later-numbered one, as 0007 after 0008) still
// runs, once, on every backend; a database newer than every migration
// known is still refused.
func TestMigrateFillsGap(t *testing.T) {
	verifytest.ForEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := mustOpenFile(t, dsn, testKey)
		ms, err := loadMigrations(db.d)
		if err != nil {
			t.Fatal(err)
		}
		early := migration{version: 900, name: "0900_early.sql", sql: `CREATE TABLE gap_early (x INTEGER)`}
		late := migration{version: 901, name: "0901_late.sql", sql: `CREATE TABLE gap_late (x INTEGER)`}
		if err := db.migrate(ctx, append(ms[:len(ms):len(ms)], late)); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second run finds nothing to do
			if err := db.migrate(ctx, append(ms[:len(ms):len(ms)], early, late)); err != nil {
				t.Fatal(err)
			}
		}
		if got := countRows(t, db, "gap_early", "1 = 1"); got != 0 {
			t.Fatalf("gap_early has %d rows", got)
		}
		if got := countRows(t, db, "schema_migrations", "version IN (900, 901)"); got != 2 {
			t.Fatalf("%d of the two migrations recorded", got)
		}
		err = db.migrate(ctx, ms)
		if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
			t.Fatalf("migrate with a database ahead of the binary: %v", err)
		}
	})
}
