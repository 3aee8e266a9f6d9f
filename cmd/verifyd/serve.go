package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/api"
	"github.com/verifyd/verify/sqlstore"
)

// serve opens the store, makes sure an account exists, and serves the API
// until ctx is cancelled, then shuts down gracefully.
func serve(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	key, err := loadKey(cfg)
	if err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, cfg.DB, subkey(key, "secrets at rest"))
	if err != nil {
		return err
	}
	defer db.Close()

	tlsCfg, err := tlsConfig(cfg, stdout)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
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
	v := &verify.Verifier{Store: db, Now: time.Now, Rand: rand.Reader, TokenKey: subkey(key, "access tokens")}
	srv := &http.Server{
		Handler:           (&api.Server{Verifier: v, BaseURL: base, Now: time.Now, Logger: logger}).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	fmt.Fprintf(stdout, "verifyd listening on %s://%s (database %s)\n", scheme, ln.Addr(), cfg.DB)

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

// ensureAccount makes the configured account exist with its token, or, on a
// database with no account and nothing configured, creates one and prints
// its credentials once: the token is stored only as a hash.
func ensureAccount(ctx context.Context, db *sqlstore.DB, cfg config, base string, stdout io.Writer) error {
	if cfg.AccountSid != "" {
		return db.PutAccount(ctx, &verify.Account{Sid: verify.Sid(cfg.AccountSid), TokenHash: verify.HashToken(cfg.AuthToken), DateCreated: time.Now().UTC().Truncate(time.Second)})
	}
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
	fmt.Fprintf(stdout, `Created account (shown once; the token is stored only as a hash):
  VERIFYD_ACCOUNT_SID=%s
  VERIFYD_AUTH_TOKEN=%s
Try it:
  curl -u %s:%s -X POST %s/v2/Services -d FriendlyName=MyApp
`, sid, token, sid, token, base)
	return nil
}

// migrate applies the migrations (opening the store does) and exits.
func migrate(ctx context.Context, cfg config, stdout io.Writer) error {
	key, err := loadKey(cfg)
	if err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, cfg.DB, subkey(key, "secrets at rest"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s is up to date\n", cfg.DB)
	return db.Close()
}

func validAccountSid(s string) bool { return verify.Sid(s).Valid(verify.PrefixAccount) }
