package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// ServerSetting returns the value of a PostgreSQL server's setting (what
// SHOW name answers) at dsn, over a connection of its own that it closes:
// for diagnostics outside the store, such as the bench's warning that
// autovacuum is off, which should not need a driver of their own.
func ServerSetting(ctx context.Context, dsn, name string) (string, error) {
	if !IsPostgres(dsn) {
		return "", fmt.Errorf("sqlstore: server settings are PostgreSQL's, and %q is not a postgres:// URL", dsn)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", fmt.Errorf("sqlstore: setting %s: %w", name, err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
		return "", fmt.Errorf("sqlstore: setting %s: %w", name, err)
	}
	return v, nil
}
