package main

import (
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/verifyd/verify/api"
	"github.com/verifyd/verify/console"
	"github.com/verifyd/verify/notify/inbox"
)

// withConsole serves the console under /console/ in front of the API
// handler; every other path goes to the API untouched. The console signs
// in through the API server's login, with its throttle of failures, and
// its requests pass the API's access log, metrics and panic recovery
// (api.Server.Observed).
func withConsole(next http.Handler, s *api.Server, box *inbox.Inbox, secure bool, logger *slog.Logger) http.Handler {
	c := console.New(console.Config{Verifier: s.Verifier, SignIn: s.SignIn, KeyRevoked: s.KeyRevoked, Secure: secure, Inbox: box, Logger: logger})
	redirect := http.RedirectHandler(console.Prefix+"/", http.StatusMovedPermanently)
	return mount(next, console.Prefix, s.Observed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == console.Prefix {
			redirect.ServeHTTP(w, r)
			return
		}
		c.ServeHTTP(w, r)
	})))
}

// mount serves prefix and the paths below it with h, in front of next,
// which gets every other path untouched (no ServeMux in between, which
// would clean and redirect paths the API answers itself).
func mount(next http.Handler, prefix string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == prefix || strings.HasPrefix(p, prefix+"/") {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// displayAddr is addr as a browser on this machine opens it: a wildcard
// listen address is named localhost.
func displayAddr(addr net.Addr) string {
	a, ok := addr.(*net.TCPAddr)
	if !ok || !a.IP.IsUnspecified() && !a.IP.IsLoopback() {
		return addr.String()
	}
	return net.JoinHostPort("localhost", strconv.Itoa(a.Port))
}
