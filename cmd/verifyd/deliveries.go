package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/verifyd/verify"
)

const deliveriesUsage = `usage: verifyd deliveries [--db DSN] list [--status pending|delivered|dead] [--limit N]

What the outbox did: one line per delivery (a webhook event sent to one webhook),
the most recently changed first, with its status, the attempts made, when it is due
next (pending) or was settled, the last error, and the target: a webhook's URL as
scheme://host/path (the query, which may carry a secret, and any user information are
not shown), a push's platform and app ID.

Each attempt is also logged by serve as one structured line ("outbox delivered",
"outbox attempt failed", "outbox delivery dead"). Delivered and dead rows are kept
7 days.

--db (VERIFYD_DB, default ./verifyd.db) is a SQLite file or a postgres:// URL, as for
serve. list only reads, so it runs beside a server, also on SQLite (WAL readers do not
disturb the server, which holds the file's lock).
`

// deliveriesCommand runs "verifyd deliveries". Flags may come before or
// after the subcommand.
func deliveriesCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, dsnp := dbCommandFlags("deliveries", getenv, stderr)
	status := fs.String("status", "", "pending, delivered or dead; all if empty")
	limit := fs.Int("limit", 50, "at most this many lines")
	pos, help, err := parseCommand(fs, args, deliveriesUsage, stdout, stderr)
	if help || err != nil {
		return err
	}
	dsn := *dsnp
	switch {
	case dsn == "":
		err = usagef("deliveries: --db must not be empty")
	case len(pos) == 0:
		err = usagef("deliveries: missing command")
	case pos[0] != "list":
		err = usagef("deliveries: unknown command %q", pos[0])
	case len(pos) > 1:
		err = usagef("deliveries list: unexpected argument %q", pos[1])
	case *status != "" && *status != "pending" && *status != "delivered" && *status != "dead":
		err = usagef("deliveries list: --status must be pending, delivered or dead")
	case *limit < 1 || *limit > 10000:
		err = usagef("deliveries list: --limit must be 1 to 10000")
	}
	if err != nil {
		fmt.Fprint(stderr, deliveriesUsage)
		return err
	}
	db, err := openCommandDB(ctx, dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.ListOutbox(ctx, verify.OutboxStatus(*status), *limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tREF\tSTATUS\tATTEMPTS\tNEXT/SETTLED\tTARGET\tLAST ERROR")
	for _, m := range rows {
		when := m.NextAttempt
		if m.Status != verify.OutboxPending {
			when = m.DateUpdated
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", m.ID, m.Kind, m.Ref, m.Status, m.Attempts,
			when.Format(time.RFC3339), target(m), strconv.Quote(m.LastError))
	}
	return tw.Flush()
}

// target is where a row goes (OutboxMessage.Target), "-" for a row
// without one.
func target(m *verify.OutboxMessage) string {
	if t := m.Target(); t != "" {
		return t
	}
	return "-"
}
