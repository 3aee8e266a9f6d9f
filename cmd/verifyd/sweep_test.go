package main

import (
	"context"
	"encoding/hex"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/sqlstore"
)

// TestSweeper runs a server whose sweeper runs every 100ms and deletes
// factors unverified after 1s: an unverified factor goes, a verified one
// stays, and a challenge past its expiration date is stored as expired
// while it reads and answers exactly as before.
func TestSweeper(t *testing.T) { forEachBackend(t, testSweeper) }

func testSweeper(t *testing.T, db string) {
	env := accountEnv(testAccount, testToken)
	env["VERIFYD_SECRET_KEY"] = testSecretKey // so that the test can open the store too
	s := startServer(t, db, env, "--sweep-interval", "100ms", "--unverified-factor-ttl", "1s")
	st, body := call(t, s, "POST", "/v2/Services", url.Values{"FriendlyName": {"Sweep"}})
	if st != 201 {
		t.Fatal(st, body)
	}
	E := "/v2/Services/" + body["sid"].(string) + "/Entities/sweep-user-1"
	k, pub := verifytest.DeviceKey(t)
	st, body = call(t, s, "POST", E+"/Factors", pushForm("kept", pub, "none"))
	if st != 201 {
		t.Fatal(st, body)
	}
	kept := body["sid"].(string)
	if st, body = call(t, s, "POST", E+"/Factors/"+kept, url.Values{"AuthPayload": {verifytest.SignSid(t, k, kept)}}); body["status"] != "verified" {
		t.Fatal(st, body)
	}
	_, pub2 := verifytest.DeviceKey(t)
	st, body = call(t, s, "POST", E+"/Factors", pushForm("abandoned", pub2, "none"))
	if st != 201 {
		t.Fatal(st, body)
	}
	abandoned := body["sid"].(string)
	exp := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second)
	st, body = call(t, s, "POST", E+"/Challenges", url.Values{"FactorSid": {kept}, "Details.Message": {"Log in?"},
		"ExpirationDate": {exp.Format(time.RFC3339)}})
	if st != 201 {
		t.Fatal(st, body)
	}
	ch, entity := body["sid"].(string), verify.Sid(body["entity_sid"].(string))

	store := openTestStore(t, db)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, err := store.FindChallenge(context.Background(), entity, verify.Sid(ch))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := call(t, s, "GET", E+"/Factors/"+abandoned, nil)
		if c.Status == verify.ChallengeExpired && st == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s: challenge stored as %s, unverified factor fetch %d", c.Status, st)
		}
	}
	if st, body := call(t, s, "GET", E+"/Factors/"+kept, nil); st != 200 {
		t.Fatalf("verified factor: %d %v", st, body)
	}
	if st, body := call(t, s, "GET", E+"/Challenges/"+ch, nil); st != 200 || body["status"] != "expired" {
		t.Fatalf("swept challenge reads %d %v", st, body)
	}
	st, body = call(t, s, "POST", E+"/Challenges/"+ch, url.Values{"AuthPayload": {"123456"}})
	wantError(t, "answer a swept challenge", st, body, 60323, 403)
	st, body = call(t, s, "GET", E+"/Challenges", url.Values{"Status": {"expired"}})
	if list, _ := body["challenges"].([]any); st != 200 || len(list) != 1 {
		t.Fatalf("expired list: %d %v", st, body)
	}
}

// TestMigrateCommand runs "verifyd migrate" three times at once on a new
// database, as deploy jobs on several machines might, then serves on it.
// On PostgreSQL it needs no secret key.
func TestMigrateCommand(t *testing.T) { forEachBackend(t, testMigrateCommand) }

func testMigrateCommand(t *testing.T, db string) {
	env := map[string]string{}
	if !sqlstore.IsPostgres(db) {
		env["VERIFYD_SECRET_KEY"] = testSecretKey // else three processes race to create one key file
	}
	const n = 3
	errs, outs := make([]error, n), make([]strings.Builder, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = run(context.Background(), []string{"migrate", "--db", db}, func(k string) string { return env[k] }, &outs[i], io.Discard)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !strings.Contains(outs[i].String(), "is up to date") {
			t.Fatalf("migrate %d: %v, %q", i, errs[i], outs[i].String())
		}
	}
	serveEnv := accountEnv(testAccount, testToken)
	serveEnv["VERIFYD_SECRET_KEY"] = testSecretKey
	s := startServer(t, db, serveEnv)
	if _, err := twilioClient(t, s, testAccount, testToken).ListService(nil); err != nil {
		t.Fatalf("serve after migrate: %v", err)
	}
}

// TestPostgresConfig checks what a PostgreSQL --db requires and how it is
// shown: serve refuses to start without VERIFYD_SECRET_KEY, and the
// password never reaches the output.
func TestPostgresConfig(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--db", "postgres://u@127.0.0.1:1/none"},
		func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "VERIFYD_SECRET_KEY") {
		t.Fatalf("serve without a key: %v", err)
	}
	if got := displayDB("postgresql://verifyd:hunter2@db.internal/verify?sslmode=require"); strings.Contains(got, "hunter2") {
		t.Fatalf("displayDB shows the password: %s", got)
	}
	for _, args := range [][]string{
		{"--sweep-interval", "-1s"},
		{"--unverified-factor-ttl", "0s"},
		{"--tls-self-signed-dir", "/tmp"},
	} {
		if _, err := parseServe(args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("parseServe(%v) accepted", args)
		}
	}
	if _, err := parseServe(nil, func(k string) string {
		return map[string]string{"VERIFYD_SWEEP_INTERVAL": "soon"}[k]
	}, io.Discard); err == nil {
		t.Error("VERIFYD_SWEEP_INTERVAL=soon accepted")
	}
}

// openTestStore opens the store of a server started with testSecretKey,
// closed when the test ends, for a test to read what the server wrote.
func openTestStore(t *testing.T, db string) *sqlstore.DB {
	t.Helper()
	key, err := hex.DecodeString(testSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.Open(context.Background(), db, subkey(key, "secrets at rest"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}
