package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// config is the server's whole configuration, read once from flags and
// VERIFYD_* environment variables (flags win) and passed down by value.
type config struct {
	Addr      string // listen address
	DB        string // SQLite file path (postgres:// is reserved)
	PublicURL string // base of the absolute URLs in responses; derived from Addr if empty

	AccountSid string // with AuthToken: make this account exist at start-up
	AuthToken  string
	SecretKey  string // hex or base64 of 32 bytes; else a key file beside the database

	TLSCert, TLSKey string // PEM files: serve HTTPS
	TLSSelfSigned   bool   // development: make (once) and use a self-signed certificate
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	cfg := config{
		AccountSid: getenv("VERIFYD_ACCOUNT_SID"),
		AuthToken:  getenv("VERIFYD_AUTH_TOKEN"),
		SecretKey:  getenv("VERIFYD_SECRET_KEY"),
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", env("VERIFYD_ADDR", "127.0.0.1:4010"), "listen address (VERIFYD_ADDR)")
	fs.StringVar(&cfg.DB, "db", env("VERIFYD_DB", "./verifyd.db"), "SQLite database file (VERIFYD_DB)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("VERIFYD_PUBLIC_URL", ""), "public base URL used in response links, e.g. https://verify.example.com (VERIFYD_PUBLIC_URL; default http://ADDR)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", env("VERIFYD_TLS_CERT", ""), "PEM certificate (chain) file: serve HTTPS (VERIFYD_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", env("VERIFYD_TLS_KEY", ""), "PEM private key file for --tls-cert (VERIFYD_TLS_KEY)")
	fs.BoolVar(&cfg.TLSSelfSigned, "tls-self-signed", env("VERIFYD_TLS_SELF_SIGNED", "") == "true", "development only: serve HTTPS with a self-signed certificate kept beside the database, and print it (VERIFYD_TLS_SELF_SIGNED=true)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	if c.DB == "" {
		return fmt.Errorf("--db must not be empty")
	}
	if strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://") {
		return fmt.Errorf("PostgreSQL is not supported yet: use a SQLite file path for --db")
	}
	if (c.AccountSid == "") != (c.AuthToken == "") {
		return fmt.Errorf("VERIFYD_ACCOUNT_SID and VERIFYD_AUTH_TOKEN must be set together")
	}
	if c.AccountSid != "" && !validAccountSid(c.AccountSid) {
		return fmt.Errorf("VERIFYD_ACCOUNT_SID must be AC followed by 32 hex characters")
	}
	if c.AuthToken != "" && !alnum(c.AuthToken) {
		// twilio-go refuses credentials that are not alphanumeric.
		return fmt.Errorf("VERIFYD_AUTH_TOKEN must be letters and digits only")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key must be given together")
	}
	if c.TLSCert != "" && c.TLSSelfSigned {
		return fmt.Errorf("--tls-self-signed and --tls-cert exclude each other")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url must be an absolute http(s) URL")
		}
	}
	return nil
}

func alnum(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
