package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/cache"
	"github.com/verifyd/verify/sqlstore"
)

// config is the server's whole configuration, read once from flags and
// VERIFYD_* environment variables (flags win) and passed down by value.
type config struct {
	Addr      string // listen address
	DB        string // SQLite file path, or a postgres:// (postgresql://) URL
	PublicURL string // base of the absolute URLs in responses; derived from Addr if empty

	AccountSid string // with AuthToken: make this account exist at start-up
	AuthToken  string
	SecretKey  string // hex or base64 of 32 bytes; else a key file beside the database
	// PreviousKeys are keys that no longer seal but still open, comma
	// separated, during a rotation (README, "Rotating the master key").
	PreviousKeys string

	TLSCert, TLSKey  string // PEM files: serve HTTPS
	TLSSelfSigned    bool   // development: make (once) and use a self-signed certificate
	TLSSelfSignedDir string // where to keep it; default beside the SQLite file, or "." with PostgreSQL

	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client for the failed-login throttle; none by default.
	TrustedProxies []netip.Prefix

	SweepInterval       time.Duration // how often background clean-up runs; 0 turns it off
	UnverifiedFactorTTL time.Duration // unverified factors older than this are deleted
	// KeyCheckInterval is how often a SQLite server re-reads its key file
	// and re-seals secrets not under the primary key (rekey.go); 0: never.
	KeyCheckInterval time.Duration

	// WebhookPublicOnly refuses webhook targets on loopback, private and
	// other non-public addresses; link-local and cloud metadata addresses
	// are refused whatever it says.
	WebhookPublicOnly bool

	// Push delivery (push.go): APNsURL replaces both Apple hosts when set
	// (else each credential's Sandbox picks); FCMURL is FCM's base URL.
	APNsURL, FCMURL string
	// SSLCertFile is SSL_CERT_FILE as run's getenv sees it: the roots that
	// outgoing push connections trust. See pushTLS.
	SSLCertFile string

	// Classic Verify senders (codes.go). Dev sends every channel that has
	// no real sender to the development inbox, which shows the codes.
	Dev bool
	// Console serves the web console at /console/ (always with Dev).
	Console            bool
	SMTPURL, EmailFrom string
	EmailTemplates     string // directory of e-mail templates
	GatewayURL         string
	GatewaySecret      string
	GatewayTemplate    string // file: call a provider's API directly
	GatewayIncludeCode bool
	GatewayChannels    string // comma-separated channels routed to the gateway

	// Abuse controls: the geo permissions file, and the built-in limits
	// (0: Twilio's values, verify.Verifier's defaults).
	GeoPermissions string
	// devConstants: --dev without credentials, so the dev ones (dev.go).
	devConstants                                   bool
	LogFormat, LogLevel, PprofAddr, MetricsAddr    string
	AccessLog                                      bool
	AttemptRetention                               time.Duration
	Limits                                         verify.Limits
	MaxSends, MaxChecks, MaxRateLimits, MaxBuckets int
	// CacheMB is the in-memory cache's budget in MiB (cache.NewSized).
	CacheMB int
}

// parseBool reads a boolean setting as strconv.ParseBool does (1, t,
// true, TRUE, 0, f, false, …), plus yes, no, on and off in any case;
// anything else is an error, never a silent false.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "on":
		return true, nil
	case "no", "off":
		return false, nil
	}
	return strconv.ParseBool(strings.TrimSpace(v))
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	return parseServeTo(args, getenv, io.Discard, stderr)
}

// parseServeTo is parseServe with -h's usage printed on stdout.
func parseServeTo(args []string, getenv func(string) string, stdout, stderr io.Writer) (config, error) {
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

		PreviousKeys: getenv("VERIFYD_PREVIOUS_SECRET_KEYS"),
	}
	cfg.SSLCertFile = getenv("SSL_CERT_FILE")
	// The boolean environment values, read before the flags that they
	// default; a value that is not a boolean stops the start.
	bools := map[string]bool{}
	bools["VERIFYD_ACCESS_LOG"] = true
	for _, name := range []string{"VERIFYD_TLS_SELF_SIGNED", "VERIFYD_WEBHOOK_PUBLIC_ONLY", "VERIFYD_DEV", "VERIFYD_GATEWAY_INCLUDE_CODE", "VERIFYD_ACCESS_LOG"} {
		if v := getenv(name); v != "" {
			b, err := parseBool(v)
			if err != nil {
				return cfg, usagef("%s=%q: want true or false (1, t, yes, on / 0, f, no, off)", name, v)
			}
			bools[name] = b
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.APNsURL, "apns-url", env("VERIFYD_APNS_URL", ""), "base URL replacing both APNs hosts, e.g. a proxy (VERIFYD_APNS_URL; default: api.push.apple.com, or api.sandbox.push.apple.com for a Sandbox credential)")
	fs.StringVar(&cfg.FCMURL, "fcm-url", env("VERIFYD_FCM_URL", "https://fcm.googleapis.com"), "base URL of FCM HTTP v1 (VERIFYD_FCM_URL); the OAuth token endpoint is the service account's token_uri")
	fs.StringVar(&cfg.Addr, "addr", env("VERIFYD_ADDR", "127.0.0.1:4010"), "listen address (VERIFYD_ADDR)")
	fs.StringVar(&cfg.DB, "db", env("VERIFYD_DB", "./verifyd.db"), "SQLite database file, or a postgres:// URL shared by several nodes (VERIFYD_DB)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("VERIFYD_PUBLIC_URL", ""), "public base URL used in response links, e.g. https://verify.example.com (VERIFYD_PUBLIC_URL; default http://ADDR)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", env("VERIFYD_TLS_CERT", ""), "PEM certificate (chain) file: serve HTTPS (VERIFYD_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", env("VERIFYD_TLS_KEY", ""), "PEM private key file for --tls-cert (VERIFYD_TLS_KEY)")
	fs.BoolVar(&cfg.TLSSelfSigned, "tls-self-signed", bools["VERIFYD_TLS_SELF_SIGNED"], "development only: serve HTTPS with a self-signed certificate kept beside the database, and print it (VERIFYD_TLS_SELF_SIGNED=true)")
	fs.StringVar(&cfg.TLSSelfSignedDir, "tls-self-signed-dir", env("VERIFYD_TLS_SELF_SIGNED_DIR", ""), "directory of the --tls-self-signed certificate (VERIFYD_TLS_SELF_SIGNED_DIR; default beside the SQLite database, or the working directory with PostgreSQL)")
	fs.BoolVar(&cfg.WebhookPublicOnly, "webhook-public-only", bools["VERIFYD_WEBHOOK_PUBLIC_ONLY"], "refuse webhook URLs whose host is, or resolves to, a loopback, private or other non-public address (VERIFYD_WEBHOOK_PUBLIC_ONLY=true); link-local and cloud metadata addresses are always refused")
	fs.BoolVar(&cfg.Console, "console", bools["VERIFYD_CONSOLE"], "serve the web console at /console/ (VERIFYD_CONSOLE=true); on by default with --dev")
	fs.BoolVar(&cfg.Dev, "dev", bools["VERIFYD_DEV"], "development mode: channels without a configured sender deliver codes to the development inbox (logged, and readable at /_verifyd/dev/inbox and with verifyd inbox) (VERIFYD_DEV=true)")
	fs.StringVar(&cfg.SMTPURL, "smtp-url", env("VERIFYD_SMTP_URL", ""), "SMTP server for the email channel: smtp://user:pass@host:port?tls=none|starttls|tls (VERIFYD_SMTP_URL)")
	fs.StringVar(&cfg.EmailFrom, "email-from", env("VERIFYD_EMAIL_FROM", ""), "From address of code e-mails, e.g. \"MyApp <no-reply@example.com>\" (VERIFYD_EMAIL_FROM)")
	fs.StringVar(&cfg.EmailTemplates, "email-templates", env("VERIFYD_EMAIL_TEMPLATES", ""), "directory of e-mail templates (*.json), chosen by ChannelConfiguration.template_id (VERIFYD_EMAIL_TEMPLATES)")
	fs.StringVar(&cfg.GatewayURL, "gateway-url", env("VERIFYD_GATEWAY_URL", ""), "HTTP gateway for sms, call and whatsapp codes (and email without --smtp-url): signed JSON POSTs (VERIFYD_GATEWAY_URL)")
	fs.StringVar(&cfg.GatewaySecret, "gateway-secret", env("VERIFYD_GATEWAY_SECRET", ""), "HMAC key of the gateway's X-Verifyd-Signature, at least 16 bytes (VERIFYD_GATEWAY_SECRET)")
	fs.StringVar(&cfg.GatewayTemplate, "gateway-template", env("VERIFYD_GATEWAY_TEMPLATE", ""), "JSON file of a request template that calls a provider's HTTP API directly instead of --gateway-url (VERIFYD_GATEWAY_TEMPLATE)")
	fs.BoolVar(&cfg.GatewayIncludeCode, "gateway-include-code", bools["VERIFYD_GATEWAY_INCLUDE_CODE"], "also send the bare code to the gateway, e.g. for WhatsApp templates (VERIFYD_GATEWAY_INCLUDE_CODE=true)")
	fs.StringVar(&cfg.GatewayChannels, "gateway-channels", env("VERIFYD_GATEWAY_CHANNELS", ""), "channels the gateway serves, comma-separated (VERIFYD_GATEWAY_CHANNELS; default sms,call,whatsapp, plus email without --smtp-url)")
	proxies := fs.String("trusted-proxies", env("VERIFYD_TRUSTED_PROXIES", ""), "comma-separated IPs or CIDRs of the proxies in front of verifyd, whose X-Forwarded-For names the client for the failed-login throttle (VERIFYD_TRUSTED_PROXIES; default none)")
	for _, d := range []struct {
		p          *time.Duration
		name, envv string
		def        time.Duration
		usage      string
	}{
		{&cfg.SweepInterval, "sweep-interval", "VERIFYD_SWEEP_INTERVAL", 30 * time.Second,
			"how often to mark expired challenges and delete stale factors and tokens; 0 turns it off (VERIFYD_SWEEP_INTERVAL)"},
		{&cfg.UnverifiedFactorTTL, "unverified-factor-ttl", "VERIFYD_UNVERIFIED_FACTOR_TTL", verify.DefaultUnverifiedFactorTTL,
			"delete factors still unverified this long after creation (VERIFYD_UNVERIFIED_FACTOR_TTL)"},
		{&cfg.AttemptRetention, "attempts-retention", "VERIFYD_ATTEMPTS_RETENTION", verify.DefaultAttemptRetention,
			"keep verifications and their attempts (the Attempts API) this long (VERIFYD_ATTEMPTS_RETENTION)"},
		{&cfg.KeyCheckInterval, "key-check-interval", "VERIFYD_KEY_CHECK_INTERVAL", 10 * time.Second,
			"SQLite: how often to re-read the key file and re-seal secrets not under the primary key; 0 turns it off (VERIFYD_KEY_CHECK_INTERVAL)"},
	} {
		def := d.def
		if v := getenv(d.envv); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil {
				return cfg, fmt.Errorf("%s: %w", d.envv, err)
			}
			def = x
		}
		fs.DurationVar(d.p, d.name, def, d.usage)
	}
	fs.StringVar(&cfg.LogFormat, "log-format", env("VERIFYD_LOG_FORMAT", "text"), "log lines as text (key=value) or json (VERIFYD_LOG_FORMAT)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("VERIFYD_LOG_LEVEL", "info"), "debug, info, warn or error (VERIFYD_LOG_LEVEL)")
	fs.BoolVar(&cfg.AccessLog, "access-log", bools["VERIFYD_ACCESS_LOG"], "log one line per request at info: method, route pattern, status, Twilio code, bytes, ms, peer, account; never a path, query or secret (VERIFYD_ACCESS_LOG; default true)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", env("VERIFYD_METRICS_ADDR", ""), "serve GET /metrics (Prometheus) on this address only, e.g. 127.0.0.1:9464 (VERIFYD_METRICS_ADDR; default: on the API's address)")
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", env("VERIFYD_PPROF_ADDR", ""), "serve Go's /debug/pprof on this address, e.g. 127.0.0.1:6060; keep it private (VERIFYD_PPROF_ADDR; default off)")
	fs.StringVar(&cfg.GeoPermissions, "geo-permissions", env("VERIFYD_GEO_PERMISSIONS", ""), "JSON file of geo permissions: which countries sms, call and whatsapp codes may go to (VERIFYD_GEO_PERMISSIONS; default all; see verifyd geo -h)")
	for _, d := range []struct {
		p          *int
		name, envv string
		def        int
		usage      string
	}{
		{&cfg.MaxSends, "max-sends", "VERIFYD_MAX_SENDS", verify.MaxVerificationSends, "sends of one verification before 60203 (VERIFYD_MAX_SENDS)"},
		{&cfg.MaxChecks, "max-checks", "VERIFYD_MAX_CHECKS", verify.MaxVerificationChecks, "wrong checks of one verification before 60202 (VERIFYD_MAX_CHECKS)"},
		{&cfg.MaxRateLimits, "max-rate-limits", "VERIFYD_MAX_RATE_LIMITS", verify.DefaultMaxRateLimits, "rate limits per service before 60207 (VERIFYD_MAX_RATE_LIMITS)"},
		{&cfg.MaxBuckets, "max-buckets", "VERIFYD_MAX_BUCKETS", verify.DefaultMaxBuckets, "buckets per rate limit before 60210 (VERIFYD_MAX_BUCKETS)"},
		{&cfg.CacheMB, "cache-mb", "VERIFYD_CACHE_MB", cache.DefaultBytes >> 20, "MiB of rows kept in memory (services, entities, factors, challenges), 1 to 65536; more reads fewer rows cold and uses more memory (VERIFYD_CACHE_MB)"},
	} {
		def := d.def
		if v := getenv(d.envv); v != "" {
			x, err := strconv.Atoi(v)
			if err != nil || x < 1 {
				return cfg, fmt.Errorf("%s: must be a positive integer", d.envv)
			}
			def = x
		}
		fs.IntVar(d.p, d.name, def, d.usage)
	}
	cfg.Limits = verify.DefaultLimits
	for _, d := range []struct {
		p          *[]verify.Rate
		name, envv string
		usage      string
	}{
		{&cfg.Limits.StatusPolls, "status-poll-limit", "VERIFYD_STATUS_POLL_LIMIT", "fetches of one verification (VERIFYD_STATUS_POLL_LIMIT)"},
		{&cfg.Limits.AttemptsAPI, "attempts-api-limit", "VERIFYD_ATTEMPTS_API_LIMIT", "an account's Attempts API requests (VERIFYD_ATTEMPTS_API_LIMIT)"},
		{&cfg.Limits.SummaryAPI, "summary-api-limit", "VERIFYD_SUMMARY_API_LIMIT", "an account's Attempts Summary requests (VERIFYD_SUMMARY_API_LIMIT)"},
		{&cfg.Limits.SafeListAPI, "safelist-api-limit", "VERIFYD_SAFELIST_API_LIMIT", "an account's Safe List API requests (VERIFYD_SAFELIST_API_LIMIT)"},
	} {
		if v := getenv(d.envv); v != "" {
			r, err := verify.ParseRates(v)
			if err != nil {
				return cfg, fmt.Errorf("%s: %w", d.envv, err)
			}
			*d.p = r
		}
		fs.Var(ratesFlag{d.p}, d.name, "requests/duration, comma-separated, or none: "+d.usage)
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.Dev && cfg.AccountSid == "" && cfg.AuthToken == "" {
		cfg.AccountSid, cfg.AuthToken, cfg.devConstants = DevAccountSid, DevAuthToken, true
	}
	for _, n := range []int{cfg.MaxSends, cfg.MaxChecks, cfg.MaxRateLimits, cfg.MaxBuckets} {
		if n < 1 {
			return cfg, fmt.Errorf("--max-sends, --max-checks, --max-rate-limits and --max-buckets must be at least 1")
		}
	}
	if mb := int64(cfg.CacheMB); mb < cache.MinBytes>>20 || mb > cache.MaxBytes>>20 {
		return cfg, fmt.Errorf("--cache-mb must be from %d to %d", cache.MinBytes>>20, cache.MaxBytes>>20)
	}
	var err error
	if cfg.TrustedProxies, err = parsePrefixes(*proxies); err != nil {
		return cfg, fmt.Errorf("--trusted-proxies: %w", err)
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	if c.DB == "" {
		return fmt.Errorf("--db must not be empty")
	}
	if c.SweepInterval < 0 {
		return fmt.Errorf("--sweep-interval must not be negative")
	}
	if c.KeyCheckInterval < 0 {
		return fmt.Errorf("--key-check-interval must not be negative")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return usagef("--log-format must be text or json")
	}
	if _, err := logLevel(c.LogLevel); err != nil {
		return err
	}
	if c.AttemptRetention <= 0 {
		return fmt.Errorf("--attempts-retention must be positive")
	}
	if c.UnverifiedFactorTTL <= 0 {
		return fmt.Errorf("--unverified-factor-ttl must be positive")
	}
	if (c.AccountSid == "") != (c.AuthToken == "") {
		return fmt.Errorf("VERIFYD_ACCOUNT_SID and VERIFYD_AUTH_TOKEN must be set together")
	}
	if c.AccountSid != "" && !validAccountSid(c.AccountSid) {
		return fmt.Errorf("VERIFYD_ACCOUNT_SID must be AC followed by 32 hex characters")
	}
	if c.AccountSid != "" {
		if err := checkAuthToken(c.AuthToken); err != nil {
			return err
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key must be given together")
	}
	if c.TLSCert != "" && c.TLSSelfSigned {
		return fmt.Errorf("--tls-self-signed and --tls-cert exclude each other")
	}
	if c.TLSSelfSignedDir != "" && !c.TLSSelfSigned {
		return fmt.Errorf("--tls-self-signed-dir needs --tls-self-signed")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url must be an absolute http(s) URL")
		}
	}
	return nil
}

// checkKey is the check serve adds to validate: on PostgreSQL there is no
// key file beside the database, and every node must seal and open TOTP
// secrets and derive access tokens with the same key, so it must be given.
// migrate needs no key, since migrations never touch a secret.
func (c config) checkKey() error {
	if sqlstore.IsPostgres(c.DB) && c.SecretKey == "" {
		return fmt.Errorf("VERIFYD_SECRET_KEY must be set with a PostgreSQL --db: every node needs the same key (32 bytes, hex or base64; e.g. openssl rand -hex 32), and there is no key file beside a PostgreSQL database")
	}
	return nil
}

// checkAuthToken refuses a VERIFYD_AUTH_TOKEN that is short or not
// alphanumeric. It is the one check for every token the binary sets (serve
// and migrate read it from the environment; the tokens serve and the load
// tool generate are 32 hex characters already).
func checkAuthToken(token string) error {
	if len(token) < verify.MinAuthTokenLen {
		return fmt.Errorf("VERIFYD_AUTH_TOKEN must be at least %d characters (it has %d), letters and digits only, as Twilio's are: e.g. openssl rand -hex 16", verify.MinAuthTokenLen, len(token))
	}
	if !alnum(token) {
		// twilio-go refuses credentials that are not alphanumeric.
		return fmt.Errorf("VERIFYD_AUTH_TOKEN must be letters and digits only (and at least %d of them)", verify.MinAuthTokenLen)
	}
	return nil
}

// parsePrefixes parses a comma-separated list of IP addresses and CIDR
// prefixes; an address is a prefix of its full length.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", f)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func alnum(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// ratesFlag is a flag of built-in limits: "60/1m,180/1h" or "none".
type ratesFlag struct{ p *[]verify.Rate }

func (f ratesFlag) String() string {
	if f.p == nil || len(*f.p) == 0 {
		return "none"
	}
	parts := make([]string, len(*f.p))
	for i, r := range *f.p {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

func (f ratesFlag) Set(s string) error {
	r, err := verify.ParseRates(s)
	if err != nil {
		return err
	}
	*f.p = r
	return nil
}

// logLevel reads --log-level.
func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, usagef("--log-level must be debug, info, warn or error")
	}
	return l, nil
}

// newLogger is the server's logger, as --log-format and --log-level say.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	level, _ := logLevel(cfg.LogLevel) // checked by validate
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
