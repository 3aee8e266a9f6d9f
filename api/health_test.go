package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReadyTransitions: /readyz follows Ready, and a Ready that hangs is
// cut off as a failure; /healthz does not depend on it.
func TestReadyTransitions(t *testing.T) {
	var state error
	s := &Server{Ready: func(ctx context.Context) error {
		if state != nil && state.Error() == "hang" {
			<-ctx.Done()
			return ctx.Err()
		}
		return state
	}}
	h := s.Handler()
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Fatalf("ready: %d", code)
	}
	state = errors.New("database at migration 3 of 16")
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "migration 3 of 16") {
		t.Fatalf("not migrated: %d %s", code, body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz while not ready: %d", code)
	}
	state = errors.New("hang")
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "deadline") {
		t.Fatalf("hanging check: %d %s", code, body)
	}
	state = nil
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Fatalf("ready again: %d", code)
	}
}
