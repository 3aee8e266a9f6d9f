package api

import (
	"log/slog"
	"net/http"
	"time"
)

// accessLog logs one line per request on AccessLog: method, path (never
// the query, which may carry phone numbers), status, bytes, duration, the
// peer and the Basic auth user (an account or API key SID, never its
// secret). Nil AccessLog logs nothing and costs nothing.
func (s *Server) accessLog(next http.Handler) http.Handler {
	if s.AccessLog == nil {
		return next
	}
	log := s.AccessLog
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		user, _, _ := r.BasicAuth()
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
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
