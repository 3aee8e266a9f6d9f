package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/otp"
	"github.com/verifyd/verify/sqlstore"
)

// TestBackupUnderLoad copies a SQLite database with verifyd backup while
// four clients create services as fast as they can, then serves the copy
// with the key file beside it: every service created before the backup
// began is there, none created after it ended, and a TOTP factor's
// secret still opens. PostgreSQL is refused with a pointer to pg_dump.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "live.db")
	s := startServer(t, db, accountEnv(testAccount, testToken))
	c := twilioClient(t, s, testAccount, testToken)
	svc, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Before"))
	if err != nil {
		t.Fatal(err)
	}
	nf, err := c.CreateNewFactor(*svc.Sid, "0123456789abcdef", (&openapi.CreateNewFactorParams{}).SetFriendlyName("phone").SetFactorType("totp"))
	if err != nil {
		t.Fatal(err)
	}
	codes := newCodes(t, (*nf.Binding).(map[string]any)["secret"].(string), otp.Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1})

	var made atomic.Int64 // services created and answered
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.CreateService((&openapi.CreateServiceParams{}).SetFriendlyName("Load")); err != nil {
					t.Error(err)
					return
				}
				made.Add(1)
			}
		})
	}
	for made.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	before := made.Load()
	dest := filepath.Join(dir, "copy.db")
	var out, errs strings.Builder
	if err := run(context.Background(), []string{"backup", "--db", db, dest}, func(string) string { return "" }, &out, &errs); err != nil {
		t.Fatalf("backup: %v\n%s", err, errs.String())
	}
	after := made.Load()
	close(stop)
	wg.Wait()
	if !strings.Contains(out.String(), db+".key") {
		t.Errorf("the output names no key file: %q", out.String())
	}
	if info, err := os.Stat(dest); err != nil || info.Mode().Perm() != sqlstore.PrivateMode {
		t.Fatalf("copy: %v, %v", info, err)
	}
	if err := run(context.Background(), []string{"backup", "--db", db, dest}, func(string) string { return "" }, &out, &errs); err == nil {
		t.Errorf("a second backup overwrote the first")
	}

	key, err := os.ReadFile(db + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dest+".key", key, 0o600); err != nil {
		t.Fatal(err)
	}
	s.stop()
	r := startServer(t, dest, accountEnv(testAccount, testToken))
	rc := twilioClient(t, r, testAccount, testToken)
	list, err := rc.ListService(nil)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(list)) - 1 // less "Before"
	if n < before || n > after {
		t.Fatalf("the copy has %d load services; %d were made before the backup began, %d by its end", n, before, after)
	}
	if f, err := rc.UpdateFactor(*svc.Sid, "0123456789abcdef", *nf.Sid, (&openapi.UpdateFactorParams{}).SetAuthPayload(codes.next(t))); err != nil || *f.Status != "verified" {
		t.Fatalf("TOTP on the restored copy: %+v, %v", f, err)
	}

	if pg := os.Getenv(verifytest.EnvPostgres); pg != "" {
		err := run(context.Background(), []string{"backup", "--db", pg, filepath.Join(dir, "pg.db")}, func(string) string { return "" }, &out, &errs)
		if err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Errorf("PostgreSQL backup: %v", err)
		}
	}
}
