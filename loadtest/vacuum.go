package loadtest

import (
	"context"
	"time"

	"github.com/verifyd/verify/sqlstore"
)

// vacuumNote is what the report adds to a PostgreSQL database's name when
// the server runs with autovacuum off, as the development machine of
// BENCHMARKS.md does: nothing then removes the dead rows that every TOTP
// check (an update of its factor) and push answer leave, so a database
// used for several runs is slower in each, and runs on it are not
// comparable with runs on a new one. Empty for SQLite, for autovacuum on,
// and when the setting cannot be read (the run itself will say why).
func vacuumNote(ctx context.Context, dsn string) string {
	if !sqlstore.IsPostgres(dsn) {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if on, err := sqlstore.ServerSetting(ctx, dsn, "autovacuum"); err != nil || on != "off" {
		return ""
	}
	return " (autovacuum is off: dead rows stay from run to run, so compare runs on new databases)"
}
