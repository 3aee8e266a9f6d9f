package api

import (
	"log/slog"
	"net/http"
	"time"
)

// observe logs one line per request on AccessLog, and counts it in
// Metrics by its route pattern. The log line has the method, path (never
// the query, which may carry phone numbers), status, bytes, duration, the
// peer and the Basic auth user (an account or API key SID, never its
// secret). With neither set it costs nothing.
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
		if reg != nil {
			reg.Request(r.Pattern, rec.status, d) // set by the route table's ServeMux
		}
		if log == nil {
			return
		}
		user, _, _ := r.BasicAuth()
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("ms", float64(d.Microseconds())/1000),
			slog.String("peer", r.RemoteAddr),
			slog.String("user", user),
		)
	})
}

// statusRecorder remembers what a handler answered, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
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
