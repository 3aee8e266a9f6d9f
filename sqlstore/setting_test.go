package sqlstore

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// TestServerSetting: a setting reads as PostgreSQL's own SHOW answers it;
// a SQLite path, an unknown setting and an unreachable server are errors.
func TestServerSetting(t *testing.T) {
	ctx := context.Background()
	if v, err := ServerSetting(ctx, filepath.Join(t.TempDir(), "verifyd.db"), "autovacuum"); err == nil {
		t.Errorf("SQLite: %q, want an error", v)
	}
	if v, err := ServerSetting(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", "autovacuum"); err == nil {
		t.Errorf("unreachable server: %q, want an error", v)
	}
	dsn := os.Getenv("VERIFYD_TEST_POSTGRES")
	if dsn == "" {
		return // the cases above are the test without PostgreSQL
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{"autovacuum", "max_connections"} {
		var want string
		if err := db.QueryRowContext(ctx, "SHOW "+name).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got, err := ServerSetting(ctx, dsn, name); err != nil || got != want {
			t.Errorf("%s: %q, %v; SHOW says %q", name, got, err, want)
		}
	}
	if v, err := ServerSetting(ctx, dsn, "no_such_setting"); err == nil {
		t.Errorf("an unknown setting: %q, want an error", v)
	}
}
