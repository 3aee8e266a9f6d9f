// Package api is the HTTP transport of verifyd: it speaks the Twilio Verify
// v2 wire format (form-encoded PascalCase requests, snake_case JSON
// responses, Twilio error bodies and keyset paging) over net/http, so that
// the official Twilio libraries and Verify Push SDKs work against it with
// only the base URL changed.
//
// Handlers only parse, call verify.Verifier and encode; every business rule
// lives in the root package.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"runtime/debug"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/metrics"
	"github.com/verifyd/verify/notify/inbox"
)

// Server serves the Verify v2 API over HTTP. The zero value is not usable:
// Verifier and BaseURL must be set.
type Server struct {
	// Verifier runs every use case; the server adds no rule of its own.
	Verifier *verify.Verifier
	// BaseURL is the public base of the API as clients reach it, for
	// example http://127.0.0.1:4010, without a trailing slash. Resource
	// urls, links and paging urls are built from it, because both Twilio
	// libraries need absolute next_page_url values.
	BaseURL string
	// Now returns the current time. It stamps the Date header of 401
	// answers, which the Push SDKs use to correct their clock, and runs
	// the failed-login throttle; nil means time.Now.
	Now func() time.Time
	// TrustedProxies are the proxies and load balancers in front of the
	// server: from a peer in one of them, the failed-login throttle counts
	// the client address in X-Forwarded-For instead of the peer's. Empty,
	// the header is never read, since any client can write it.
	TrustedProxies []netip.Prefix
	// Logger receives internal errors and recovered panics; nil discards.
	Logger *slog.Logger
	// Inbox is the development inbox of classic Verify codes (serve
	// --dev); nil, and /_verifyd/dev/inbox does not exist.
	Inbox *inbox.Inbox
	// AccessLog receives one line per request (accesslog.go); nil logs
	// none.
	AccessLog *slog.Logger
	// Metrics counts requests by route and status (observe); with
	// ServeMetrics, GET /metrics serves them on the API's own address.
	Metrics      *metrics.Registry
	ServeMetrics bool
	// Ready reports whether this node can serve (GET /readyz): nil, or an
	// error that says why not. Nil Ready is always ready.
	Ready func(ctx context.Context) error

	logins   loginCache    // recent account logins (auth.go)
	throttle loginThrottle // failed logins per address and SID (throttle.go)
}

// HTTPServer returns an http.Server for the API with the timeouts verifyd
// serves with: a slow or stalled client cannot hold a connection for long,
// while keep-alive connections (how the SDKs and helper libraries talk)
// stay open between requests. `verifyd serve` and the load tool's
// in-process server both take it, so the tool measures what is served.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
}

// Handler returns the http.Handler that serves the whole API: CORS headers
// and preflight, panic recovery, Twilio-shaped 404 and 405 answers, and the
// route table of routes.go.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	return s.Observed(s.cors(s.dispatch(mux)))
}

// Observed serves h with what the API's own routes have around them: the
// access log and the request metrics (under the route pattern that h's
// own ServeMux sets, or "unmatched"), and panic recovery, which answers a
// panic with a logged 500. It is for the front ends that cmd/verifyd
// mounts beside the API, such as the console, so that their requests are
// logged and counted as the API's are.
func (s *Server) Observed(h http.Handler) http.Handler {
	return s.observe(s.recoverPanics(h))
}

// dispatch answers requests the route table does not know with Twilio error
// bodies instead of ServeMux's plain-text ones, which the clients cannot
// parse, and never redirects (twilio-go decodes a 3xx body as a success).
func (s *Server) dispatch(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "" || path.Clean(p) != p {
			s.error(w, r, notFound(r))
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			if allow := allowedMethods(mux, r); allow != "" {
				w.Header().Set("Allow", allow)
				s.error(w, r, verify.Errorf(eMethod, "Method %s not allowed on %s", r.Method, r.URL.Path))
				return
			}
			s.error(w, r, notFound(r))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// allowedMethods lists the methods the route table serves for r's path, or
// "" if it serves none.
func allowedMethods(mux *http.ServeMux, r *http.Request) string {
	allow := ""
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" {
			if allow != "" {
				allow += ", "
			}
			allow += m
		}
	}
	if allow != "" {
		allow += ", " + http.MethodOptions
	}
	return allow
}

func notFound(r *http.Request) error {
	return verify.Errorf(verify.ENotFound, "The requested resource %s was not found", r.URL.Path)
}

// recoverPanics turns a panic in a handler into a logged 500 with a Twilio
// body, so one bad request cannot take the server down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger().Error("api: panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			s.error(w, r, verify.Errorf(verify.EInternal, "panic"))
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
