package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// lockedBuffer is a log destination the test reads while the server runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// wantPrivate fails unless every file exists with mode 0600.
func wantPrivate(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", filepath.Base(f), m)
		}
	}
}

// TestPrivateFiles: every file a SQLite server keeps beside its database is
// created 0600 whatever the umask (the tests run under 022), and one found
// readable by others, from an older release or a careless copy, is made
// 0600 at start with a log line naming it.
func TestPrivateFiles(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "verifyd.db")
	files := []string{db, db + "-wal", db + "-shm", db + ".key", db + ".lock"}

	s, c := newServer(t, db)
	if _, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Files")); err != nil {
		t.Fatal(err)
	}
	wantPrivate(t, files...) // -wal and -shm exist while the server runs
	s.stop()

	// Loosen everything, as an older release left it. SQLite removed the
	// -wal and -shm at close; empty ones are what a crash can leave.
	if _, err := ensureSelfSigned(db+".tls-cert.pem", db+".tls-key.pem", config{Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	loose := append(files, db+".tls-key.pem")
	for _, f := range loose {
		h, err := os.OpenFile(f, os.O_RDWR|os.O_CREATE, 0o644) // no O_TRUNC: keep the key and data
		if err != nil {
			t.Fatal(err)
		}
		h.Close()
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log := &lockedBuffer{}
	startServerLog(t, db, accountEnv(testAccount, testToken), log, "--tls-self-signed")
	wantPrivate(t, loose...)
	for _, f := range loose {
		if !strings.Contains(log.String(), "file="+f+" was=0644") {
			t.Errorf("no log line for %s:\n%s", filepath.Base(f), log)
		}
	}
}
