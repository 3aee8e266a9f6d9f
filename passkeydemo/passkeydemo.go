// Package passkeydemo is a development-only demo of Verify's passkeys: a
// page that registers a passkey and logs in with it, with the browser it
// is opened in, and the small backend a customer writes around the four
// Passkeys endpoints. verifyd serves it at /dev/passkeys in --dev mode with
// the well-known credentials only. The backend calls verifyd's own Verify
// API over HTTP with them, as a customer's server calls Twilio's, so the
// demo proves nothing a customer could not do: it uses the public API and
// nothing else.
package passkeydemo

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"time"
)

// Prefix is where the demo lives; the page links its files and calls its
// backend by absolute paths under it.
const Prefix = "/dev/passkeys"

// Config says which Verify API the backend calls, and as whom.
type Config struct {
	// APIBase is the Verify API's scheme://host:port, without a trailing
	// slash: verifyd's own listen address.
	APIBase    string
	AccountSid string
	AuthToken  string
	// ServiceSid is the Verify service the passkeys are registered in.
	ServiceSid string
	// Client makes the calls to the Verify API; nil is a client with a
	// 10-second timeout.
	Client *http.Client
}

//go:embed page.html demo.js demo.css
var files embed.FS

var page = template.Must(template.ParseFS(files, "page.html"))

// contentSecurityPolicy allows the page its own script, style and
// backend, and nothing else: no inline script, no other origin, no
// framing. A demo that handles credentials should show the policy a real
// login page wants.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the page at Prefix, its script and style beside it, and
// the backend under Prefix/api/. Everything else under Prefix is a 404.
func Handler(cfg Config) http.Handler {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	b := &backend{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix, servePage(cfg))
	mux.HandleFunc("GET "+Prefix+"/demo.js", serveFile("demo.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET "+Prefix+"/demo.css", serveFile("demo.css", "text/css; charset=utf-8"))
	mux.HandleFunc(Prefix+"/api/register/start", b.registerStart)
	mux.HandleFunc(Prefix+"/api/register/finish", b.registerFinish)
	mux.HandleFunc(Prefix+"/api/login/start", b.loginStart)
	mux.HandleFunc(Prefix+"/api/login/finish", b.loginFinish)
	mux.HandleFunc(Prefix+"/api/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "no such demo call: "+r.URL.Path)
	})
	return mux
}

// securityHeaders are sent with the page and its files.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
}

// servePage renders the page, into a buffer first so that a template
// error is a 500 and not half a page.
func servePage(cfg Config) http.HandlerFunc {
	data := struct{ Prefix, ServiceSid string }{Prefix, cfg.ServiceSid}
	return func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := page.Execute(&buf, data); err != nil {
			http.Error(w, "the demo page did not render: "+err.Error(), http.StatusInternalServerError)
			return
		}
		securityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(buf.Bytes())
	}
}

// serveFile serves one embedded file with its type, which nosniff makes
// the browser hold to.
func serveFile(name, contentType string) http.HandlerFunc {
	body, err := files.ReadFile(name)
	if err != nil {
		panic(err) // embedded above: missing is a build mistake
	}
	return func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}
}
