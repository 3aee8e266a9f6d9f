package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/verifyd/verify/sqlstore"
)

const rotateKeyUsage = `usage: verifyd rotate-key [--db ./verifyd.db] [--new-key] [--status] [--batch 500]

Re-seals every sealed secret of the database (auth tokens, push credential
secrets, TOTP secrets) under the primary master key, in batches, while servers
go on serving. It can be interrupted and run again: it picks up the rows still
under an old key.

PostgreSQL: first give every node the new key as VERIFYD_PREVIOUS_SECRET_KEYS
(rolling restart), then make it VERIFYD_SECRET_KEY with the old one in
VERIFYD_PREVIOUS_SECRET_KEYS (rolling restart), then run rotate-key with that
same environment. Remove the old key once it reports nothing left.

SQLite with a key file: rotate-key --new-key writes a new primary key to
<db>.key and keeps the old ones there as previous keys. A running server
reads the file within its --key-check-interval and re-seals by itself; with
no server running, rotate-key re-seals here.

Flags:
`

// rotateKey is "verifyd rotate-key".
func rotateKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		rotateKeyFlags(new(rotateOpts), getenv, stdout).Usage()
		return nil
	}
	var o rotateOpts
	fs := rotateKeyFlags(&o, getenv, stderr)
	if err := fs.Parse(args); err != nil {
		return usageError{err: err}
	}
	cfg := config{DB: o.db, SecretKey: getenv("VERIFYD_SECRET_KEY"), PreviousKeys: getenv("VERIFYD_PREVIOUS_SECRET_KEYS")}
	switch {
	case fs.NArg() > 0:
		return usageError{err: fmt.Errorf("rotate-key: unexpected argument %q", fs.Arg(0))}
	case o.batch <= 0:
		return usageError{err: fmt.Errorf("rotate-key: --batch must be positive")}
	case o.newKey && o.status:
		return usageError{err: fmt.Errorf("rotate-key: --new-key and --status exclude each other")}
	case o.newKey && (sqlstore.IsPostgres(o.db) || cfg.SecretKey != ""):
		return usageError{err: fmt.Errorf("rotate-key: --new-key manages the key file of a SQLite database; with VERIFYD_SECRET_KEY, set the new key there and the old one in VERIFYD_PREVIOUS_SECRET_KEYS (run \"verifyd rotate-key -h\")")}
	}
	if err := cfg.checkKey(); err != nil {
		return usageError{err: err}
	}
	if o.newKey {
		if err := newPrimaryKey(o.db, stdout); err != nil {
			return err
		}
	}
	keys, err := loadKeys(cfg)
	if err != nil {
		return err
	}
	primary, previous := keys.sealing()
	db, err := sqlstore.Open(ctx, o.db, primary, previous...)
	if err != nil {
		return err
	}
	defer db.Close()
	id := db.PrimaryKeyID()
	if err := db.CheckKeys(ctx); err != nil {
		return wrongKey(cfg, err)
	}
	st, err := db.KeyStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d sealed secrets (auth tokens, push credentials, TOTP secrets), %d under the primary key %x, %d to re-seal\n", st.Total, st.Primary, id, st.Left())
	if o.status {
		return nil
	}
	if err := db.Claim(); errors.Is(err, sqlstore.ErrInUse) {
		// Its server re-seals: it alone may write the file (sqlstore.Claim).
		fmt.Fprintf(stdout, "A server is serving %s: it re-seals in the background, after reading a changed key file within its --key-check-interval. Follow with: verifyd rotate-key --status --db %s\n", o.db, o.db)
		return nil
	} else if err != nil {
		return err
	}
	n, err := resealAll(ctx, db, o.batch, func(n int) {
		fmt.Fprintf(stdout, "re-sealed %d, %d left\n", n, max(st.Left()-n, 0))
	})
	if err != nil {
		st, serr := db.KeyStatus(context.WithoutCancel(ctx))
		if serr != nil {
			return fmt.Errorf("rotate-key: %w (after re-sealing %d)", err, n)
		}
		return fmt.Errorf("rotate-key: %w: re-sealed %d, %d left; run verifyd rotate-key again to resume", err, n, st.Left())
	}
	fmt.Fprintf(stdout, "done: every sealed secret is under the primary key %x; the previous keys may go once no backup from before needs them\n", id)
	return nil
}

// rotateOpts are rotate-key's flags.
type rotateOpts struct {
	db             string
	newKey, status bool
	batch          int
}

func rotateKeyFlags(o *rotateOpts, getenv func(string) string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	fs.SetOutput(out)
	db := getenv("VERIFYD_DB")
	if db == "" {
		db = "./verifyd.db"
	}
	fs.StringVar(&o.db, "db", db, "SQLite database file, or a postgres:// URL (VERIFYD_DB)")
	fs.BoolVar(&o.newKey, "new-key", false, "SQLite key file only: write a new primary key to <db>.key, keeping the old ones as previous keys, then re-seal")
	fs.BoolVar(&o.status, "status", false, "only print how many secrets are left to re-seal")
	fs.IntVar(&o.batch, "batch", 500, "secrets re-sealed per transaction")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), rotateKeyUsage)
		fs.PrintDefaults()
	}
	return fs
}

// newPrimaryKey puts a fresh key at the head of the SQLite database's key
// file, keeping the keys it held as previous keys. The database and its key
// file must exist: a key made for a database that does not exist yet would
// only be a first key, which serve makes itself.
func newPrimaryKey(db string, stdout io.Writer) error {
	if _, err := os.Stat(keyFilePath(db)); err != nil {
		return fmt.Errorf("rotate-key: no key file to rotate (start the server once to create the database and its key): %w", err)
	}
	k, err := keyFile(db)
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	k.previous = append([][]byte{k.primary}, k.previous...)
	k.primary = key
	if err := writeKeyFile(db, k); err != nil {
		return err
	}
	id := sqlstore.KeyID(subkey(key, sealLabel))
	fmt.Fprintf(stdout, "wrote a new primary key (id %s) to %s; the %d older keys stay as previous keys\n",
		hex.EncodeToString(id[:]), keyFilePath(db), len(k.previous))
	return nil
}

// resealAll re-seals batch by batch until no secret is left under an old
// key, calling progress with the total so far after each batch that
// changed something, and returns the total. It stops at ctx's end between
// batches or inside one (which then rolls back). Callers count what is
// left from one KeyStatus before: counting after every batch would scan the
// table once a batch.
func resealAll(ctx context.Context, db *sqlstore.DB, batch int, progress func(n int)) (int, error) {
	n, after := 0, ""
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		r, err := db.ResealBatch(ctx, after, batch)
		if err != nil {
			return n, err
		}
		n += r.Resealed
		after = r.Next
		if r.Resealed > 0 {
			progress(n)
		}
		if r.Done {
			return n, nil
		}
	}
}
