// Package console is verifyd's web console at /console/: pages that show
// an account's services, entities, factors, challenges, API keys and
// deliveries, forms that change them, TOTP enrollment with a QR code, and a
// page that makes the browser a Verify Push device.
//
// It is a second front end of the same use cases: every page reads and
// every form writes through verify.Verifier, scoped to the signed-in
// account, with the checks and limits the API applies. It renders on the
// server with html/template; the few scripts are files of its own (no
// inline script, so the Content-Security-Policy forbids all others), and
// nothing needs a build step.
package console

import (
	"embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify/inbox"
)

// Prefix is where the console lives.
const Prefix = "/console"

// Config is what the console needs from the server.
type Config struct {
	Verifier *verify.Verifier
	// SignIn checks an account SID and auth token, or an API key SID
	// and secret, and returns the account: the API's own login, with its
	// throttle of failed logins, so that the sign-in form is no faster a
	// way to guess a token than the API.
	SignIn func(r *http.Request, user, secret string) (verify.Sid, error)
	// KeyRevoked is told of an API key the console revoked, so that the
	// API's login cache forgets it as the API's own delete does; nil if
	// there is no such cache.
	KeyRevoked func(verify.Sid)
	// Secure marks the session cookie Secure: the server runs TLS.
	Secure bool
	// Inbox is the development inbox of codes sent (serve --dev); nil
	// hides its page.
	Inbox *inbox.Inbox
	// Now is the clock of sessions; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

//go:embed templates static
var files embed.FS

// Console serves the console's pages.
type Console struct {
	cfg      Config
	sessions *sessions
	pages    *pages
	mux      *http.ServeMux
}

// New returns the console; mount it at Prefix + "/".
func New(cfg Config) *Console {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{cfg: cfg, sessions: newSessions(cfg.Now), pages: mustParsePages(), mux: http.NewServeMux()}
	c.routes()
	return c
}

// ServeHTTP answers every request with the console's security headers:
// no framing, no referrer to other sites, no script but the console's own.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}
