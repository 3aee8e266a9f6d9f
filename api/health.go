package api

import (
	"context"
	"net/http"
	"time"
)

// Health endpoints for load balancers and orchestrators (Kubernetes
// liveness and readiness probes). They are outside /v2, unauthenticated,
// and read nothing a client could not learn otherwise.
const (
	pathHealth = "/healthz"
	pathReady  = "/readyz"
)

// readyTimeout bounds a readiness check: a probe that hangs is as bad as
// one that fails, and the caller's own timeout may be longer.
const readyTimeout = 2 * time.Second

// handleHealth answers 200 while the process serves requests at all.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady answers 200 when Ready finds the database reachable and
// migrated (the master key was checked before the server listened), and
// 503 with the reason otherwise, so a load balancer sends no traffic to a
// node that would fail it, nor to one that is shutting down.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
}
