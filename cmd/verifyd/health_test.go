package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// TestReadOnlyDatabaseRefused: a database the server cannot write stops
// the start with a message that says so, instead of a server that fails
// every write later.
func TestReadOnlyDatabaseRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "v.db")
	startServer(t, db, accountEnv(testAccount, testToken)).stop()
	key, err := os.ReadFile(db + ".key")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env := map[string]string{"VERIFYD_SECRET_KEY": strings.TrimSpace(string(key))}
	err = run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", "file:" + db + "?mode=ro"}, func(k string) string { return env[k] },
		io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cannot be written") {
		t.Fatalf("serve on a read-only database: %v", err)
	}
}
