package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// runCLI runs the binary's run with args and no environment, and returns
// what it printed.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	err = run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestAccountsCLI is the case: a restart with another
// VERIFYD_ACCOUNT_SID leaves the previous account live; the operator sees
// it in "accounts list" and removes it with "accounts remove", after which
// its auth token and API keys get 401 (20003) and the other account is
// untouched.
func TestAccountsCLI(t *testing.T) { forEachBackend(t, testAccountsCLI) }

func testAccountsCLI(t *testing.T, db string) {
	s, old := newServer(t, db)
	if _, err := old.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Old")); err != nil {
		t.Fatal(err)
	}
	k, err := keysClient(t, s, testAccount, testToken).CreateNewKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s.stop()

	s = startServer(t, db, accountEnv(otherAccount, otherToken))
	if !works(t, s, testToken) {
		t.Fatal("the previous account should still be live: the test proves nothing")
	}
	sec, err := accountsClient(t, s, otherAccount, otherToken).CreateSecondaryAuthToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	// list runs beside the server, on SQLite too: it only reads.
	out, _, err := runCLI(t, "accounts", "list", "--db", db)
	if err != nil {
		t.Fatalf("accounts list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ACCOUNT SID") {
		t.Fatalf("accounts list printed:\n%s", out)
	}
	for _, l := range lines[1:] {
		switch f := strings.Fields(l); {
		case f[0] == testAccount && f[2] == "no":
		case f[0] == otherAccount && f[2] == "yes,":
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	for _, secret := range []string{testToken, otherToken, *sec.SecondaryAuthToken, *k.Secret} {
		if strings.Contains(out, secret) {
			t.Fatalf("accounts list shows a secret:\n%s", out)
		}
	}
	s.stop()

	out, _, err = runCLI(t, "accounts", "--db", db, "remove", testAccount)
	if err != nil || !strings.Contains(out, "removed account "+testAccount) {
		t.Fatalf("accounts remove = %q, %v", out, err)
	}
	_, _, err = runCLI(t, "accounts", "remove", "--db", db, testAccount)
	if err == nil || !strings.Contains(err.Error(), "there is no account") || exitCode(err) != 1 {
		t.Fatalf("removing it again: %v", err)
	}

	s = startServer(t, db, accountEnv(otherAccount, otherToken))
	if works(t, s, testToken) {
		t.Fatal("the removed account's auth token still works")
	}
	_, err = twilioClient(t, s, testAccount, testToken).ListService(nil)
	wantTwilioError(t, err, 20003, 401)
	_, err = restKeyVerify(t, s, *k.Sid, *k.Secret).ListService(nil)
	wantTwilioError(t, err, 20003, 401)
	if _, err := twilioClient(t, s, otherAccount, otherToken).ListService(nil); err != nil {
		t.Fatalf("the remaining account: %v", err)
	}
	out, _, err = runCLI(t, "accounts", "list", "--db", db)
	if err != nil || strings.Contains(out, testAccount) || !strings.Contains(out, otherAccount) {
		t.Fatalf("accounts list after remove = %q, %v", out, err)
	}
}

// restKeyVerify is the Verify client signed with an API key of the test
// account.
func restKeyVerify(t *testing.T, s *server, sid, secret string) *openapi.ApiService {
	t.Helper()
	v := openapi.NewApiServiceWithClient(restClient(t, s, sid, secret, testAccount, nil))
	v.RequestHandler().Edge, v.RequestHandler().Region = "", ""
	return v
}

// TestAccountsRemoveWhileServing: on SQLite, remove refuses a file that a
// server holds, says so, and changes nothing.
func TestAccountsRemoveWhileServing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "verifyd.db")
	s, _ := newServer(t, db)
	_, _, err := runCLI(t, "accounts", "remove", "--db", db, testAccount)
	if err == nil || !strings.Contains(err.Error(), "a verifyd server is serving "+db) {
		t.Fatalf("remove while serving: %v", err)
	}
	if !works(t, s, testToken) {
		t.Fatal("the refused remove deleted the account")
	}
}

// TestAccountsUsage: help exits 0 on stdout; a command line that cannot
// run is a usage error (exit 2); a missing database is not created.
func TestAccountsUsage(t *testing.T) {
	for _, args := range [][]string{{"accounts", "-h"}, {"accounts", "--help"}, {"accounts", "help"}, {"accounts", "list", "-h"}} {
		out, _, err := runCLI(t, args...)
		if err != nil || !strings.Contains(out, "usage: verifyd accounts") {
			t.Errorf("%v = %v, printed %q", args, err, out)
		}
	}
	for _, args := range [][]string{
		{"accounts"}, {"accounts", "frob"}, {"accounts", "list", "extra"}, {"accounts", "--bogus", "list"},
		{"accounts", "remove"}, {"accounts", "remove", "ACnothex"}, {"accounts", "remove", testAccount, otherAccount},
		{"accounts", "--db", "", "list"},
	} {
		_, errOut, err := runCLI(t, args...)
		var u usageError
		if !errors.As(err, &u) || exitCode(err) != 2 || !strings.Contains(errOut, "usage: verifyd accounts") {
			t.Errorf("%v = %v (exit %d), stderr %q; want a usage error", args, err, exitCode(err), errOut)
		}
	}
	missing := filepath.Join(t.TempDir(), "typo.db")
	_, _, err := runCLI(t, "accounts", "list", "--db", missing)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "no verifyd database at") {
		t.Fatalf("list on a missing file: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("list created %s", missing)
	}
	// VERIFYD_DB names the database as for serve.
	env := func(k string) string {
		if k == "VERIFYD_DB" {
			return missing
		}
		return ""
	}
	err = run(context.Background(), []string{"accounts", "list"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("list with VERIFYD_DB: %v", err)
	}
}
