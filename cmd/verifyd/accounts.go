package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/sqlstore"
)

const accountsUsage = `usage: verifyd accounts [--db DSN] COMMAND

Operator commands on the accounts of a verifyd database. They never print a
token: only hashes are stored.

Commands:
  list          every account: SID, creation date, whether it has a secondary auth token
  remove AC…    delete the account and everything it owns (services with their entities,
                factors, challenges, notifications and access tokens; API keys; push
                credentials); its credentials stop working

--db (VERIFYD_DB, default ./verifyd.db) is a SQLite file or a postgres:// URL, as for
serve. On SQLite, remove needs the file to itself: stop the server first (list can run
beside it). On PostgreSQL both run beside the nodes, which stop accepting a removed
account's credentials within 10 s.

Auth tokens are rotated through the API, as on Twilio: POST /v1/AuthTokens/Secondary,
then POST /v1/AuthTokens/Promote (twilio-go rest/accounts/v1). An operator who lost an
account's tokens starts serve with VERIFYD_ACCOUNT_SID and a new VERIFYD_AUTH_TOKEN.
`

// accountsCommand runs "verifyd accounts". Flags may come before or after
// the subcommand.
func accountsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, dsnp := dbCommandFlags("accounts", getenv, stderr)
	pos, help, err := parseCommand(fs, args, accountsUsage, stdout, stderr)
	if help || err != nil {
		return err
	}
	dsn := *dsnp
	if err := checkAccountsArgs(pos, dsn); err != nil {
		fmt.Fprint(stderr, accountsUsage)
		return err
	}
	switch pos[0] {
	case "list":
		return listAccounts(ctx, dsn, stdout)
	default: // "remove", checked above
		return removeAccount(ctx, dsn, verify.Sid(pos[1]), stdout)
	}
}

// checkAccountsArgs returns a usageError unless pos is a whole command.
func checkAccountsArgs(pos []string, dsn string) error {
	if dsn == "" {
		return usagef("accounts: --db must not be empty")
	}
	if len(pos) == 0 {
		return usagef("accounts: missing command")
	}
	switch pos[0] {
	case "list":
		if len(pos) > 1 {
			return usagef("accounts list: unexpected argument %q", pos[1])
		}
	case "remove":
		if len(pos) != 2 {
			return usagef("accounts remove: give exactly one account SID")
		}
		if !validAccountSid(pos[1]) {
			return usagef("accounts remove: %q is not an account SID (AC followed by 32 hex characters)", pos[1])
		}
	default:
		return usagef("accounts: unknown command %q", pos[0])
	}
	return nil
}

// openCommandDB opens the database for an operator command (accounts,
// deliveries). The commands never read a sealed secret, so they need no
// secret key and open the store with a throwaway one, as migrate does. A
// SQLite file must exist:
// opening a mistyped path would create an empty database. With exclusive
// set, the SQLite file is claimed as serve claims it, so that no server
// keeps serving cached rows of what the command deletes.
func openCommandDB(ctx context.Context, dsn string, exclusive bool) (*sqlstore.DB, error) {
	if !sqlstore.IsPostgres(dsn) && !strings.HasPrefix(dsn, "file:") {
		if _, err := os.Stat(dsn); err != nil {
			return nil, fmt.Errorf("no verifyd database at %s (set --db or VERIFYD_DB): %w", dsn, err)
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, dsn, key)
	if err != nil {
		return nil, err
	}
	if exclusive {
		if err := db.Claim(); err != nil {
			db.Close()
			if errors.Is(err, sqlstore.ErrInUse) {
				return nil, fmt.Errorf("a verifyd server is serving %s (it holds %s.lock): stop it, then run this command again", dsn, dsn)
			}
			return nil, err
		}
	}
	return db, nil
}

// listAccounts prints every account, a page at a time from the store.
func listAccounts(ctx context.Context, dsn string, stdout io.Writer) error {
	db, err := openCommandDB(ctx, dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	v := &verify.Verifier{Store: db, Now: time.Now, Rand: rand.Reader}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT SID\tCREATED\tSECONDARY TOKEN")
	p := verify.Page{Size: verify.MaxPageSize}
	for {
		items, more, err := v.ListAccounts(ctx, p)
		if err != nil {
			return err
		}
		for _, a := range items {
			secondary := "no"
			if a.SecondaryHash != nil {
				secondary = "yes, since " + a.SecondaryCreated.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Sid, a.DateCreated.Format(time.RFC3339), secondary)
		}
		if !more {
			break
		}
		last := items[len(items)-1]
		p.After = &verify.Cursor{Time: last.DateCreated, Sid: last.Sid}
	}
	return tw.Flush()
}

// removeAccount deletes the account and all it owns, in one transaction
// (Store.DeleteAccount).
func removeAccount(ctx context.Context, dsn string, sid verify.Sid, stdout io.Writer) error {
	db, err := openCommandDB(ctx, dsn, true)
	if err != nil {
		return err
	}
	defer db.Close()
	v := &verify.Verifier{Store: db, Now: time.Now, Rand: rand.Reader}
	if err := v.DeleteAccount(ctx, sid); err != nil {
		if verify.IsCode(err, verify.ENotFound) {
			return fmt.Errorf("accounts remove: there is no account %s in %s", sid, displayDB(dsn))
		}
		return err
	}
	fmt.Fprintf(stdout, "removed account %s and everything it owned\n", sid)
	return nil
}
