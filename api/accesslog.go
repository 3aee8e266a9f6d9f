package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/verifyd/verify"
)

// observe logs one line per request on AccessLog, and counts it in
// Metrics by its route pattern. The line has the method, the route
// pattern (not the path, whose identities and phone numbers are personal
// data), the status and Twilio error code, bytes, duration, the peer and
// the account; never a query, body, token, code or identity. With neither
// set it costs nothing.
func (s *Server) observe(next http.Handler) http.Handler {
	if s.AccessLog == nil && s.Metrics == nil {
		return next
	}
	log, reg := s.AccessLog, s.Metrics
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		route := r.Pattern // set by the route table's ServeMux
		if route == "" {
			route = "unmatched"
		}
		if reg != nil {
			reg.Request(route, rec.status, d)
			if rec.code != 0 {
				reg.Error(route, rec.code)
			}
		}
		if log == nil {
			return
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Int("code", rec.code),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("ms", float64(d.Microseconds())/1000),
			slog.String("peer", r.RemoteAddr),
			slog.String("account", string(rec.account)),
		)
	})
}

// statusRecorder remembers what a handler answered, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	code    int        // the Twilio error code of an error answer (s.error)
	account verify.Sid // the authenticated account (s.with)
	bytes   int64
	wrote   bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
