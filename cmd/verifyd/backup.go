package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/verifyd/verify/sqlstore"
)

const backupUsage = `usage: verifyd backup [--db ./verifyd.db] FILE

Writes a consistent copy of a SQLite database to FILE, which must not
exist, while the server runs. The copy's secrets are sealed with the
master key: keep the key (the key file <db>.key, or VERIFYD_SECRET_KEY)
with the backup. To restore, stop the server and put FILE where the
database was, with the key file beside it as <db>.key.
PostgreSQL: use pg_dump or your base backups.
`

// backupCommand is "verifyd backup".
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, dsn := dbCommandFlags("backup", getenv, stderr)
	pos, help, err := parseCommand(fs, args, backupUsage, stdout, stderr)
	if help || err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, backupUsage)
		return usagef("backup: want one FILE")
	}
	if err := sqlstore.Backup(ctx, *dsn, pos[0]); err != nil {
		return err
	}
	info, err := os.Stat(pos[0])
	if err != nil {
		return err
	}
	key := keyFilePath(*dsn)
	if getenv("VERIFYD_SECRET_KEY") != "" {
		key = "VERIFYD_SECRET_KEY"
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (%d bytes); its secrets open only with the master key in %s: keep it with the backup\n",
		*dsn, pos[0], info.Size(), key)
	return nil
}
