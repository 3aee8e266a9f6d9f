package main

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestHealth: /healthz and /readyz answer without credentials, readiness
// from the real database (reachable, every migration applied).
func TestHealth(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, accountEnv(testAccount, testToken))
		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
			resp, err := http.Get(s.base + path)
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Status string }
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || body.Status != want {
				t.Errorf("%s: %d %+v %v", path, resp.StatusCode, body, err)
			}
		}
	})
}
