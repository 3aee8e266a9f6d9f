package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"syscall"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/api"
	"github.com/verifyd/verify/cache"
	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/sqlstore"
)

// serve opens the store, makes sure an account exists, and serves the API
// until ctx is cancelled, then shuts down gracefully.
func serve(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	if err := cfg.checkKey(); err != nil {
		return err
	}
	keys, err := loadKeys(cfg)
	if err != nil {
		return err
	}
	// Opening migrates; on PostgreSQL nodes starting together take turns.
	sealKey, sealPrevious := keys.sealing()
	db, err := sqlstore.Open(ctx, cfg.DB, sealKey, sealPrevious...)
	if err != nil {
		return openHint(cfg.DB, err)
	}
	defer db.Close()
	if err := db.Claim(); err != nil {
		return err
	}
	if err := db.CheckWritable(ctx); err != nil {
		return err
	}
	privateFiles(cfg, db, logger)
	if n, err := db.ReleaseOutboxClaims(ctx, time.Now()); err != nil {
		return err
	} else if n > 0 {
		logger.Info("outbox: deliveries interrupted by the last stop are due again", "rows", n)
	}
	if err := db.CheckKeys(ctx); err != nil {
		return wrongKey(cfg, err)
	}

	tlsCfg, err := tlsConfig(selfSignedAt(cfg), stdout)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return listenHint(cfg.Addr, err)
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsCfg)
	}
	base := cfg.PublicURL
	if base == "" {
		base = scheme + "://" + ln.Addr().String()
	}
	if err := ensureAccount(ctx, db, cfg, base, stdout); err != nil {
		ln.Close()
		return err
	}
	tokenKey, tokenPrevious := keys.tokenKeys()
	cached := cache.NewSized(db, db.Shared(), int64(cfg.CacheMB)<<20, time.Now)
	// The push sender goes through the cache, so that a token it marks
	// dead is not served stale to the next challenge.
	sender, err := pushSender(cached, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	geo, err := loadGeo(cfg.GeoPermissions)
	if err != nil {
		ln.Close()
		return err
	}
	v := &verify.Verifier{Now: time.Now, Rand: rand.Reader,
		TokenKey: tokenKey, PreviousTokenKeys: tokenPrevious, WebhookPublicOnly: cfg.WebhookPublicOnly,
		Geo: geo, Limits: &cfg.Limits, AttemptRetention: cfg.AttemptRetention, MaxSends: cfg.MaxSends, MaxChecks: cfg.MaxChecks, MaxRateLimits: cfg.MaxRateLimits, MaxBuckets: cfg.MaxBuckets}
	codes, err := newCodeSenders(cfg, v, db, logger)
	if err != nil {
		ln.Close()
		return err
	}
	v.CodeChannels = codes.channels
	if cfg.Dev {
		logger.Warn("DEVELOPMENT MODE (--dev): codes of channels without a sender are logged and shown at /_verifyd/dev/inbox; never run --dev in production")
	}
	logger.Info("classic Verify channels", "senders", codes.describe())
	outbox := deliveryWorker(v, db, logger, sender, codes.sender)
	reg := newMetrics(db, cached, v, outbox)
	// Every commit that enqueued a row wakes the worker: a push leaves as
	// soon as its challenge is committed, not at the next poll.
	v.Store = notify.Waking(cached, outbox.Wake)
	if cfg.devConstants {
		if err := ensureDevService(ctx, v, stdout); err != nil {
			ln.Close()
			return err
		}
		announcePasskeyDemo(stdout, scheme, ln.Addr())
	}
	apiServer := &api.Server{Verifier: v, BaseURL: base, Now: time.Now, Logger: logger, TrustedProxies: cfg.TrustedProxies,
		Inbox: codes.inbox, Ready: db.Ready, AccessLog: accessLogger(cfg, logger),
		Metrics: reg, ServeMetrics: cfg.MetricsAddr == ""}
	srv := apiServer.HTTPServer()
	if cfg.Console || cfg.Dev {
		srv.Handler = withConsole(srv.Handler, apiServer, codes.inbox, tlsCfg != nil, logger)
		fmt.Fprintf(stdout, "  console: %s://%s/console/\n", scheme, displayAddr(ln.Addr()))
	}
	if cfg.devConstants {
		srv.Handler = withPasskeyDemo(srv.Handler, apiServer, scheme, ln.Addr(), tlsCfg)
	}
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, reg, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopMetrics()
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopPprof()
	}
	fmt.Fprintf(stdout, "verifyd listening on %s://%s (database %s)\n", scheme, ln.Addr(), displayDB(cfg.DB))

	// Deferred after db.Close, so it runs first: the sweeper stops, on
	// shutdown or on a failed Serve, before the store closes.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	waitSweep := startSweeper(sweepCtx, v, cfg.SweepInterval, cfg.UnverifiedFactorTTL, logger)
	waitRekey := startRekeyer(sweepCtx, db, cfg, logger)
	waitDeliver := startDeliveries(sweepCtx, outbox)
	defer func() { stopSweep(); waitSweep(); waitRekey(); waitDeliver() }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("verifyd stopped")
	return nil
}

// privateFiles makes the files beside the database that hold secrets
// readable by this user only (sqlstore.PrivateMode): the database, its -wal
// and -shm and the lock file (which Open and Claim see to), the key file and
// the self-signed certificate's key. verifyd creates them so; a file found
// looser, from an older release or a copy, is tightened and logged, because
// what was readable may have been read and the operator should know.
func privateFiles(cfg config, db *sqlstore.DB, logger *slog.Logger) {
	changes := db.ModeChanges()
	var paths []string
	if cfg.SecretKey == "" && !sqlstore.IsPostgres(cfg.DB) {
		paths = append(paths, cfg.DB+".key")
	}
	if cfg.TLSSelfSigned {
		paths = append(paths, selfSignedAt(cfg).DB+".tls-key.pem")
	}
	for _, p := range paths {
		if c, ok := sqlstore.TightenMode(p); ok {
			changes = append(changes, c)
		}
	}
	for _, c := range changes {
		if c.Err != nil {
			logger.Warn("file readable by other users, and its mode could not be changed", "file", c.Path, "mode", fmt.Sprintf("%#o", c.Was), "err", c.Err)
			continue
		}
		logger.Warn("file was readable by other users: mode changed to 0600", "file", c.Path, "was", fmt.Sprintf("%#o", c.Was))
	}
}

// wrongKey explains a failed CheckKeys: the server refuses to start rather
// than answer every TOTP request with an internal error.
func wrongKey(cfg config, err error) error {
	where := "VERIFYD_SECRET_KEY"
	if cfg.SecretKey == "" && !sqlstore.IsPostgres(cfg.DB) {
		where = "the key file " + keyFilePath(cfg.DB) + ", or VERIFYD_SECRET_KEY"
	}
	return fmt.Errorf("%w. Give the key it was sealed with (%s); during a rotation give the previous keys too (VERIFYD_PREVIOUS_SECRET_KEYS)", err, where)
}

// ensureAccount makes the configured account exist with its token, or, on a
// database with no account and nothing configured, creates one and prints
// its credentials once: the token is stored as a hash, to log in, and
// sealed with the secret key, to sign webhooks; neither shows it again. The first-start
// case runs under a lock, so that of several nodes starting together on an
// empty PostgreSQL database one creates the account and the others, finding
// the lock taken or the account there, print nothing.
func ensureAccount(ctx context.Context, db *sqlstore.DB, cfg config, base string, stdout io.Writer) error {
	if cfg.AccountSid != "" {
		sid := verify.Sid(cfg.AccountSid)
		if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: verify.HashToken(cfg.AuthToken), DateCreated: time.Now().UTC().Truncate(time.Second)}); err != nil {
			return err
		}
		// Seals the configured token if it is still the primary and not
		// sealed yet: after a new configuration, and on the first start
		// after migration 0008. A token rotated through the API since is
		// not the primary any more, and is left alone.
		_, err := db.SealToken(ctx, sid, verify.TokenPrimary, cfg.AuthToken)
		return err
	}
	_, err := db.TryLock(ctx, "first account", func(st verify.Store) error {
		return firstAccount(ctx, st, base, stdout)
	})
	return err
}

// firstAccount creates and prints an account if there is none.
func firstAccount(ctx context.Context, db verify.Store, base string, stdout io.Writer) error {
	n, err := db.CountAccounts(ctx)
	if err != nil || n > 0 {
		return err
	}
	sid, err := verify.NewSid(rand.Reader, verify.PrefixAccount)
	if err != nil {
		return err
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	token := hex.EncodeToString(tok)
	if err := db.PutAccount(ctx, &verify.Account{Sid: sid, TokenHash: verify.HashToken(token), DateCreated: time.Now().UTC().Truncate(time.Second)}); err != nil {
		return err
	}
	if _, err := db.SealToken(ctx, sid, verify.TokenPrimary, token); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `Created account (shown once; the token is stored hashed, and sealed with the secret key to sign webhooks):
  VERIFYD_ACCOUNT_SID=%s
  VERIFYD_AUTH_TOKEN=%s
Try it:
  curl -u %s:%s -X POST %s/v2/Services -d FriendlyName=MyApp
`, sid, token, sid, token, base)
	return nil
}

// migrate applies the migrations (opening the store does) and exits. It is
// safe to run while nodes serve, or on several machines at once. Migrations
// never touch a sealed secret, so on PostgreSQL it runs without
// VERIFYD_SECRET_KEY, on a throwaway key; on SQLite it keeps the key file
// rules of serve.
func migrate(ctx context.Context, cfg config, stdout io.Writer) error {
	key := make([]byte, 32)
	if sqlstore.IsPostgres(cfg.DB) && cfg.SecretKey == "" {
		if _, err := rand.Read(key); err != nil {
			return err
		}
	} else {
		var err error
		if key, err = loadKey(cfg); err != nil {
			return err
		}
	}
	db, err := sqlstore.Open(ctx, cfg.DB, subkey(key, sealLabel))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s is up to date\n", displayDB(cfg.DB))
	return db.Close()
}

// displayDB is the database as logs may show it: a PostgreSQL URL without
// its password.
func displayDB(dsn string) string {
	if !sqlstore.IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// selfSignedAt returns cfg with DB set to the path prefix under which
// tlsConfig keeps the development certificate (DB+".tls-cert.pem"): beside
// a SQLite file as before, or verifyd.* in --tls-self-signed-dir, which
// defaults to the working directory for a PostgreSQL URL (not a path).
func selfSignedAt(cfg config) config {
	switch {
	case cfg.TLSSelfSignedDir != "":
		cfg.DB = filepath.Join(cfg.TLSSelfSignedDir, "verifyd")
	case sqlstore.IsPostgres(cfg.DB):
		cfg.DB = "verifyd"
	}
	return cfg
}

func validAccountSid(s string) bool { return verify.Sid(s).Valid(verify.PrefixAccount) }

// listenHint names the fix when the listen address cannot be used.
func listenHint(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s is in use (another verifyd?): choose another address with --addr or VERIFYD_ADDR: %w", addr, err)
	}
	if errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("no permission to listen on %s (a port below 1024?): choose another with --addr: %w", addr, err)
	}
	return err
}

// openHint names the fix when a SQLite database cannot be created or
// opened for lack of permission: the directory it lives in.
func openHint(db string, err error) error {
	if !sqlstore.IsPostgres(db) && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)) {
		return fmt.Errorf("cannot write the database's directory %s: choose a writable one with --db or VERIFYD_DB: %w", filepath.Dir(db), err)
	}
	return err
}
