package loadtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verifyd/verify/sqlstore"
)

// TestVacuumNote: the report warns of a PostgreSQL server without
// autovacuum exactly when the server says it has none, and never for
// SQLite.
func TestVacuumNote(t *testing.T) {
	ctx := context.Background()
	if note := vacuumNote(ctx, filepath.Join(t.TempDir(), "verifyd.db")); note != "" {
		t.Errorf("SQLite: note %q", note)
	}
	if note := vacuumNote(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"); note != "" {
		t.Errorf("unreachable PostgreSQL: note %q", note)
	}
	dsn := os.Getenv("VERIFYD_TEST_POSTGRES")
	if dsn == "" {
		return // the SQLite and unreachable cases above are the test without PostgreSQL
	}
	on, err := sqlstore.ServerSetting(ctx, dsn, "autovacuum") // TestServerSetting holds it to SHOW's answer
	if err != nil {
		t.Fatal(err)
	}
	note := vacuumNote(ctx, dsn)
	if got, want := note != "", on == "off"; got != want || (got && !strings.Contains(note, "autovacuum is off")) {
		t.Errorf("autovacuum %s: note %q", on, note)
	}
}
