package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves Go's profiles on their own listener (--pprof-addr),
// never on the API's: they show internals and cost CPU, so an operator
// opens them on a private address on purpose.
func servePprof(addr string, logger *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return serveAside("pprof", addr, mux, logger)
}

// serveAside serves h on a listener of its own beside the API (pprof,
// metrics) until stop.
func serveAside(name, addr string, h http.Handler, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, listenHint(addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(name, "err", err)
		}
	}()
	logger.Info(name+" listening", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

// accessLogger is the access log of --access-log, on the server's logger.
func accessLogger(cfg config, logger *slog.Logger) *slog.Logger {
	if !cfg.AccessLog {
		return nil
	}
	return logger.With("component", "access")
}
