// Command verifyd is a self-hosted server for the Twilio Verify v2 API.
//
// Usage:
//
//	verifyd serve   [--addr 127.0.0.1:4010] [--db ./verifyd.db] [--public-url URL]
//	verifyd migrate [--db ./verifyd.db]
//	verifyd rotate-key [--db ./verifyd.db] [--new-key] [--status] [--batch 500]
//	verifyd totp    [--alg sha1] [--digits 6] [--period 30] SECRET
//	verifyd bench   [--target URL | --db DSN] [--workloads ...] [--duration 10s] [--concurrency 16]
//	verifyd accounts [--db ./verifyd.db] list | remove AC…
//	verifyd deliveries [--db ./verifyd.db] list [--status pending|delivered|dead] [--limit N]
//	verifyd version
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		var u usageError
		if !errors.As(err, &u) || !u.printed {
			fmt.Fprintln(os.Stderr, "verifyd:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a command line that cannot run as written; main exits 2.
// printed says the message was already written (by parseFlags, with the
// usage), so that main does not write it twice.
type usageError struct {
	err     error
	printed bool
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{err: fmt.Errorf(format, args...)} }

// dbCommandFlags is the flag set of an operator command on the database
// ("accounts", "deliveries"): --db, defaulting to VERIFYD_DB or
// ./verifyd.db. The caller adds its own flags and calls parseCommand.
func dbCommandFlags(name string, getenv func(string) string, stderr io.Writer) (*flag.FlagSet, *string) {
	dsn := getenv("VERIFYD_DB")
	if dsn == "" {
		dsn = "./verifyd.db"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	fs.StringVar(&dsn, "db", dsn, "SQLite database file, or a postgres:// URL (VERIFYD_DB)")
	return fs, &dsn
}

// parseCommand parses args, whose flags may come before, between or after
// the positional words, and returns the words. -h, --help or a first word
// "help" prints usage on stdout and sets help (exit 0); a bad flag prints
// usage on stderr and returns a usageError (exit 2).
func parseCommand(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (pos []string, help bool, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, usage)
				return nil, true, nil
			}
			fmt.Fprint(stderr, usage)
			return nil, false, usageError{err: fmt.Errorf("%s: %w", fs.Name(), err)}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > 0 && pos[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil, true, nil
	}
	return pos, false, nil
}

// exitCode is 2 for a command line that cannot run as written, as flag
// packages and most tools do, and 1 for any other failure.
func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// run is the whole program: main only wires it to the process, and the
// end-to-end tests call it directly, so they exercise the binary we ship.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, helpShown) {
		return nil
	}
	return err
}

// dispatch runs the command args names.
func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("missing command")
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServeTo(args[1:], getenv, stdout, stderr)
		if err != nil {
			return err
		}
		oneMoreProc(getenv)
		startGCTuner(getenv)
		return serve(ctx, cfg, stdout, stderr)
	case "migrate":
		cfg, err := parseServeTo(args[1:], getenv, stdout, stderr)
		if err != nil {
			return err
		}
		return migrate(ctx, cfg, stdout)
	case "rotate-key":
		return rotateKey(ctx, args[1:], getenv, stdout, stderr)
	case "totp":
		return totpCode(args[1:], stdout, stderr)
	case "bench":
		oneMoreProc(getenv) // as serve does: the in-process server is measured as it runs
		startGCTuner(getenv)
		return bench(ctx, args[1:], getenv, stdout, stderr)
	case "device":
		return deviceCommand(ctx, args[1:], stdout, stderr)
	case "accounts":
		return accountsCommand(ctx, args[1:], getenv, stdout, stderr)
	case "deliveries":
		return deliveriesCommand(ctx, args[1:], getenv, stdout, stderr)
	case "inbox":
		return inboxCommand(ctx, args[1:], getenv, stdout, stderr)
	case "geo":
		return geoCommand(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return backupCommand(ctx, args[1:], getenv, stdout, stderr)
	case "json":
		return jsonCommand(args[1:], stdout, stderr)
	case "version", "-v", "--version":
		fmt.Fprintln(stdout, "verifyd", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

const usage = `verifyd: a self-hosted server for the Twilio Verify v2 API

Commands:
  serve     run the server (SQLite by default, no configuration needed)
  migrate   apply database migrations and exit
  rotate-key  re-seal the sealed secrets under a new master key, online (run "verifyd rotate-key -h")
  totp      print the current TOTP code of a base32 secret (a development aid)
  bench     measure: provision, drive loopback load, report req/s and latency
  device    a virtual Verify Push device: enroll, verify, approve, deny (run "verifyd device -h")
  accounts  list or remove the accounts of a database (run "verifyd accounts -h")
  deliveries  list the webhook deliveries of the outbox (run "verifyd deliveries -h")
  inbox     the codes a "serve --dev" server sent, from its development inbox (run "verifyd inbox -h")
  backup    copy a live SQLite database consistently (run "verifyd backup -h")
  json      print one value of a JSON answer, for shell scripts (run "verifyd json -h")
  geo       check a geo permissions file and what it decides for a number (run "verifyd geo -h")
  version   print the version

Run "verifyd serve -h" for the server's flags.
`

// version reports the module version the binary was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// helpShown is the "error" of a command whose -h printed its usage on
// stdout: run returns nil for it, so the exit status is 0.
var helpShown = errors.New("help shown")

// parseFlags parses args with fs as the Go convention wants it for a
// command: -h or --help prints the usage on stdout and returns helpShown
// (exit 0); a bad flag prints the error and the usage once, on fs's
// output (stderr), and returns a usageError (exit 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	out := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(buf.Bytes())
		return helpShown
	default:
		_, _ = out.Write(buf.Bytes())
		return usageError{err: fmt.Errorf("%s: %w", fs.Name(), err), printed: true}
	}
}
