package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/verifyd/verify/loadtest"
	"github.com/verifyd/verify/sqlstore"
)

// bench is "verifyd bench": flags in, loadtest.Run, table (and JSON) out.
// All of the tool lives in package loadtest; this only maps flags.
func bench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := loadtest.Config{Log: stderr}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Target, "target", "", "base URL of a running verifyd on this machine (loopback only); default: serve one in-process")
	serveLocal := fs.Bool("serve", true, "run verifyd in this process on 127.0.0.1:0 (ignored with --target)")
	fs.StringVar(&cfg.Account, "account", getenv("VERIFYD_ACCOUNT_SID"), "account SID for --target (VERIFYD_ACCOUNT_SID)")
	fs.StringVar(&cfg.Token, "token", getenv("VERIFYD_AUTH_TOKEN"), "auth token for --target (VERIFYD_AUTH_TOKEN)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "with --target: report this process's RSS and CPU per operation (/proc/PID)")
	fs.StringVar(&cfg.PeerURL, "peer-url", "", "peer-totp: base URL of an OpenBao (or Vault) with the TOTP engine at totp/, on this machine (loopback only)")
	fs.StringVar(&cfg.PeerToken, "peer-token", getenv("BAO_TOKEN"), "peer-totp: the peer's token (BAO_TOKEN)")
	fs.IntVar(&cfg.PeerKeys, "peer-keys", 0, "peer-totp: TOTP keys to create on the peer, each good for 3 fresh codes plus 1 per minute (0: max(2000, 2500 per second of --duration))")
	fs.IntVar(&cfg.PeerPID, "peer-pid", 0, "peer-totp: report this process's CPU per check (/proc/PID/stat)")
	fs.StringVar(&cfg.DB, "db", "", "in-process database: SQLite file or postgres:// DSN (default: a temporary SQLite file)")
	workloads := fs.String("workloads", "all", "comma-separated workloads, or all, or none: "+fmt.Sprint(loadtest.DefaultWorkloads)+
		"; or deliveries: "+fmt.Sprint(loadtest.DeliveryWorkloads)+"; or classic: "+fmt.Sprint(loadtest.ClassicWorkloads)+"; outbox-drain runs only when named (minutes); peer-totp only when named, with --peer-url")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "timed window per workload")
	fs.IntVar(&cfg.Rounds, "rounds", 5, "split each --duration into this many slices, interleaved with the other workloads' (1: one piece each)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 16, "closed-loop workers (= keep-alive connections)")
	fs.IntVar(&cfg.Factors, "factors", 0, "TOTP factors to provision, each good for about 4 fresh codes plus 1 per minute (0: max(2000, 500 per second of --duration))")
	fs.IntVar(&cfg.PushFactors, "push-factors", 0, "push factors (devices) to enroll; raised to what the push workloads need at 50 challenges per factor per hour (0: just that)")
	fs.IntVar(&cfg.PushChallenges, "push-challenges", 0, "challenges pre-created for push-approve (0: sized from --duration)")
	fs.IntVar(&cfg.Rate, "rate", 0, "open loop: operations per second of each workload, latency measured from when each fell due (0: closed loop of --concurrency workers)")
	fs.IntVar(&cfg.RateValues, "rate-values", 0, "verify-create-limited: distinct RateLimits values, taken in turn (0: each create's To, a new value each)")
	fs.IntVar(&cfg.Verifications, "verifications", 0, "verify-create: numbers to send to; verify-check: verifications made in setup (0: sized from --duration)")
	fs.IntVar(&cfg.NotifyRate, "notify-rate", 500, "push-notify: challenge creates per second, open loop")
	fs.DurationVar(&cfg.Outage, "outage", time.Minute, "outbox-drain: length of each outage (receiver down, then worker down)")
	fs.IntVar(&cfg.DrainRate, "drain-rate", 100, "outbox-drain: webhook events made per second during each outage")
	fs.IntVar(&cfg.PreloadFactors, "preload-factors", 0, "extra TOTP factors bulk-loaded through the store before the run (in-process only)")
	fs.Int64Var(&cfg.MaxRequests, "max-requests", 1000000, "at most this many operations per workload")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Minute, "bound on the whole run, setup included")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file (- for stdout)")
	fs.StringVar(&cfg.Trace, "trace", "", "write an execution trace of each workload's window (of this process) to this file, the workload name inserted before the extension (go tool trace); implies --rounds 1")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of each workload's window (of this process) to this file, the workload name inserted before the extension; implies --rounds 1")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.Target == "" && !*serveLocal {
		return errors.New("bench: give --target URL, or leave --serve on")
	}
	var err error
	if cfg.Workloads, err = loadtest.Workloads(*workloads); err != nil {
		return err
	}
	if cfg.Target == "" {
		if cfg.SecretKey, cfg.TokenKey, err = benchKeys(cfg.DB, getenv); err != nil {
			return err
		}
	}
	rep, err := loadtest.Run(ctx, cfg)
	if rep != nil {
		if terr := rep.WriteTable(stdout); terr != nil && err == nil {
			err = terr
		}
		if *jsonOut != "" {
			if jerr := writeJSONReport(rep, *jsonOut, stdout); jerr != nil && err == nil {
				err = jerr
			}
		}
	}
	return err
}

// benchKeys returns the in-process server's keys. For a SQLite file named
// with --db they come from VERIFYD_SECRET_KEY or the key file beside it,
// derived as serve derives them, so that "verifyd serve --db FILE" can
// serve the same database afterwards (say, one preloaded with a million
// factors, measured as its own process). A temporary or PostgreSQL
// database gets random keys unless VERIFYD_SECRET_KEY is set.
func benchKeys(db string, getenv func(string) string) ([]byte, []byte, error) {
	secret := getenv("VERIFYD_SECRET_KEY")
	if secret == "" && (db == "" || sqlstore.IsPostgres(db)) {
		return nil, nil, nil
	}
	key, err := loadKey(config{DB: db, SecretKey: secret})
	if err != nil {
		return nil, nil, err
	}
	return subkey(key, sealLabel), subkey(key, tokenLabel), nil
}

func writeJSONReport(rep *loadtest.Report, path string, stdout io.Writer) error {
	if path == "-" {
		return rep.WriteJSON(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
