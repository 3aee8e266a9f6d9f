package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/verifyd/verify/sqlstore"
)

// cancelOn is a writer that cancels a context once what it was written
// contains a string, to interrupt a command at a known point.
type cancelOn struct {
	mu     sync.Mutex
	b      strings.Builder
	after  string
	cancel func()
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.after) {
		w.cancel()
	}
	return len(p), nil
}

// TestRotateKeyResumes interrupts "verifyd rotate-key" after its first
// batch (as Ctrl-C would), checks that it says how far it got and that the
// rows it did are under the new key, runs it again, and checks that the
// second run finishes the rest, on every backend. On SQLite no server runs,
// so rotate-key claims the file and re-seals itself.
func TestRotateKeyResumes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		oldKey, newKey := rotKeyA, rotKeyB
		env := map[string]string{"VERIFYD_SECRET_KEY": oldKey}
		if !sqlstore.IsPostgres(db) {
			env = nil // the key file
		}
		s := startServer(t, db, mergeEnv(env, accountEnv(testAccount, testToken)))
		l := provision(t, twilioClient(t, s, testAccount, testToken), 12)
		s.stop()

		args := []string{"rotate-key", "--db", db, "--batch", "4"}
		if sqlstore.IsPostgres(db) {
			env = map[string]string{"VERIFYD_SECRET_KEY": newKey, "VERIFYD_PREVIOUS_SECRET_KEYS": oldKey}
		} else {
			oldKey = firstKey(t, db)
			args = append(args, "--new-key")
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// 13 values: the account's sealed token, re-sealed first, and the
		// 12 TOTP secrets.
		out := &cancelOn{after: "re-sealed 5,", cancel: cancel}
		getenv := func(k string) string { return env[k] }
		err := run(ctx, args, getenv, out, io.Discard)
		if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "re-sealed 5, 8 left; run verifyd rotate-key again to resume") {
			t.Fatalf("interrupted rotate-key: %v\n%s", err, out.b.String())
		}
		if !sqlstore.IsPostgres(db) {
			newKey = firstKey(t, db)
		}
		if left, total := notUnder(t, db, sealedBy(t, newKey)); left != 8 || total != 13 {
			t.Fatalf("after the interruption %d of %d values are not under the new key, want 8 of 13", left, total)
		}

		var again strings.Builder
		args = []string{"rotate-key", "--db", db, "--batch", "4"} // no --new-key: resume
		if err := run(context.Background(), args, getenv, &again, io.Discard); err != nil || !strings.Contains(again.String(), "done:") {
			t.Fatalf("resumed rotate-key: %v\n%s", err, &again)
		}
		if !strings.Contains(again.String(), "13 sealed secrets (auth tokens, push credentials, TOTP secrets), 5 under the primary key") {
			t.Fatalf("resumed rotate-key did not start from where the first stopped:\n%s", &again)
		}
		if left, _ := notUnder(t, db, sealedBy(t, newKey)); left != 0 {
			t.Fatalf("after the resumed run %d values are not under the new key", left)
		}
		if newKey == oldKey {
			t.Fatal("the key did not change")
		}
		serveOnlyKey(t, db, newKey, l)
	})
}

func mergeEnv(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// TestServeRefusesWrongKey starts a server with a key that did not seal the
// database, on every backend (on SQLite also through a key file): it
// refuses to start, naming the problem, instead of answering every TOTP
// request with an internal error later.
func TestServeRefusesWrongKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, mergeEnv(map[string]string{"VERIFYD_SECRET_KEY": rotKeyA}, accountEnv(testAccount, testToken)))
		provision(t, twilioClient(t, s, testAccount, testToken), 2)
		s.stop()

		serveWith := func(env map[string]string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		}
		err := serveWith(map[string]string{"VERIFYD_SECRET_KEY": rotKeyB})
		if err == nil || !errors.Is(err, sqlstore.ErrWrongKey) || !strings.Contains(err.Error(), "Give the key it was sealed with") {
			t.Fatalf("serve with the wrong key: %v", err)
		}
		if sqlstore.IsPostgres(db) {
			return
		}
		if err := os.WriteFile(keyFilePath(db), []byte(rotKeyB+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		err = serveWith(nil)
		if !errors.Is(err, sqlstore.ErrWrongKey) || !strings.Contains(err.Error(), keyFilePath(db)) {
			t.Fatalf("serve with the wrong key file: %v", err)
		}
		// The right key as a previous one is enough to start.
		if err := os.WriteFile(keyFilePath(db), []byte(rotKeyB+"\n"+rotKeyA+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		startServer(t, db, nil).stop()
	})
}

// TestRotateKeyUsage checks rotate-key's command line: help exits 0 on
// stdout, and every refused command line exits 2.
func TestRotateKeyUsage(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"rotate-key", "-h"}, func(string) string { return "" }, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "usage: verifyd rotate-key") || !strings.Contains(out.String(), "-new-key") {
		t.Fatalf("rotate-key -h: %v\n%s", err, &out)
	}
	db := t.TempDir() + "/v.db"
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--bogus"}, nil},
		{[]string{"--batch", "0"}, nil},
		{[]string{"extra"}, nil},
		{[]string{"--new-key", "--status"}, nil},
		{[]string{"--new-key"}, map[string]string{"VERIFYD_SECRET_KEY": rotKeyA}},
		{[]string{"--db", "postgres://127.0.0.1:1/x"}, nil}, // no key for PostgreSQL
		{[]string{"--db", "postgres://127.0.0.1:1/x", "--new-key"}, map[string]string{"VERIFYD_SECRET_KEY": rotKeyA}},
	} {
		args := append([]string{"rotate-key", "--db", db}, tc.args...)
		err := run(context.Background(), args, func(k string) string { return tc.env[k] }, io.Discard, io.Discard)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("%v: err = %v, exit %d; want a usage error (exit 2)", tc.args, err, exitCode(err))
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused command line created the database")
	}
	// --new-key on a database that does not exist makes neither it nor a key.
	err := run(context.Background(), []string{"rotate-key", "--db", db, "--new-key"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no key file to rotate") {
		t.Errorf("--new-key without a database: %v", err)
	}
	for _, name := range []string{db, keyFilePath(db)} {
		if _, err := os.Stat(name); err == nil {
			t.Errorf("--new-key without a database created %s", name)
		}
	}
}

// TestServeResealsAtStart starts a SQLite server whose keys come from the
// environment, the new one primary and the old one previous: it re-seals
// the database in the background by itself, and serves every factor.
func TestServeResealsAtStart(t *testing.T) {
	db := t.TempDir() + "/verifyd.db"
	s := startServer(t, db, mergeEnv(map[string]string{"VERIFYD_SECRET_KEY": rotKeyA}, accountEnv(testAccount, testToken)))
	l := provision(t, twilioClient(t, s, testAccount, testToken), 6)
	s.stop()
	if left, _ := notUnder(t, db, sealedBy(t, rotKeyA)); left != 0 {
		t.Fatalf("%d values not under A before", left)
	}
	s = startServer(t, db, map[string]string{"VERIFYD_SECRET_KEY": rotKeyB, "VERIFYD_PREVIOUS_SECRET_KEYS": rotKeyA},
		"--key-check-interval", "100ms")
	waitUnder(t, db, sealedBy(t, rotKeyB), 20*time.Second)
	s.stop()
	serveOnlyKey(t, db, rotKeyB, l)
}

// TestServeRefusesBadKeyFileChange replaces a running SQLite server's key
// file with a key that does not open its database: the server keeps the
// keys it has and goes on serving every factor, and picks up a good file
// later.
func TestServeRefusesBadKeyFileChange(t *testing.T) {
	db := t.TempDir() + "/verifyd.db"
	s := startServer(t, db, accountEnv(testAccount, testToken), "--key-check-interval", "50ms")
	c := twilioClient(t, s, testAccount, testToken)
	l := provision(t, c, 4)
	oldKey := firstKey(t, db)
	if err := os.WriteFile(keyFilePath(db), []byte(rotKeyB+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // several checks
	l.readers = []*openapi.ApiService{c}
	for _, u := range l.users { // the unverified ones are read and opened each time
		if _, err := c.FetchFactor(l.svc, u.identity, u.sid); err != nil {
			t.Fatalf("after a bad key file, fetch %s: %v", u.sid, err)
		}
	}
	if left, _ := notUnder(t, db, sealedBy(t, oldKey)); left != 0 {
		t.Fatalf("%d values were re-sealed under a key that does not open the database", left)
	}
	if err := os.WriteFile(keyFilePath(db), []byte(rotKeyB+"\n"+oldKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitUnder(t, db, sealedBy(t, rotKeyB), 20*time.Second)
	if err := l.challenge(c); err != nil {
		t.Fatal(err)
	}
	s.stop()
}
