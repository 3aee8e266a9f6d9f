package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// startBinary runs the built binary's serve on db and returns its base URL.
func startBinary(t *testing.T, bin, db string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db)
	cmd.Env = append(os.Environ(), "VERIFYD_ACCOUNT_SID="+testAccount, "VERIFYD_AUTH_TOKEN="+testToken)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "verifyd listening on "); ok {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd, strings.Fields(rest)[0]
		}
	}
	t.Fatalf("binary did not start: %v", sc.Err())
	return nil, ""
}

// TestDeliveriesSurviveKill builds the binary, has it accept events while
// the receiver hangs (so their attempts are under way), kills it with
// SIGKILL, and checks that the next start delivers every event, with the
// uuid it had, long before a claim's lease would have ended; then that
// "verifyd deliveries list" shows them delivered.
func TestDeliveriesSurviveKill(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "verifyd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(t.TempDir(), "v.db")

	var mu sync.Mutex
	hang := true
	release := make(chan struct{})
	seen := map[string]int{}       // uuid → requests
	delivered := map[string]bool{} // uuid → answered 200
	factors := map[string]bool{}
	var hookURL string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		params := map[string]string{}
		for k := range r.PostForm {
			params[k] = r.PostForm.Get(k)
		}
		v := client.NewRequestValidator(testToken)
		if !v.Validate(hookURL, params, r.Header.Get("X-Twilio-Signature")) {
			t.Errorf("invalid signature")
		}
		mu.Lock()
		seen[params["uuid"]]++
		h := hang
		mu.Unlock()
		if h {
			<-release
			w.WriteHeader(503)
			return
		}
		mu.Lock()
		delivered[params["uuid"]] = true
		factors[params["factor_sid"]] = true
		mu.Unlock()
	}))
	defer recv.Close()
	defer close(release)
	hookURL = recv.URL + "/hook"

	cmd, base := startBinary(t, bin, db)
	c := twilioClient(t, &server{base: base}, testAccount, testToken)
	svc, err := c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName("Kill"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWebhook(*svc.Sid, new(openapi.CreateWebhookParams).SetFriendlyName("h").
		SetEventTypes([]string{"factor.created"}).SetWebhookUrl(hookURL)); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 5 {
		nf, err := c.CreateNewFactor(*svc.Sid, "user-000000"+string(rune('a'+i)), new(openapi.CreateNewFactorParams).
			SetFriendlyName("f").SetFactorType("totp"))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, *nf.Sid)
	}
	// Wait until at least one attempt hangs at the receiver, then kill.
	end := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n > 0 || time.Now().After(end) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	mu.Lock()
	inFlight := len(seen)
	hang = false
	mu.Unlock()
	if inFlight == 0 {
		t.Fatal("no attempt was under way at the kill: the test would prove less than it says")
	}

	start := time.Now()
	startBinary(t, bin, db)
	for {
		mu.Lock()
		n := len(delivered)
		mu.Unlock()
		if n == len(want) {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("%d of %d events delivered after the restart", n, len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	for _, f := range want {
		if !factors[f] {
			t.Errorf("no factor.created for %s", f)
		}
	}
	for id := range seen {
		if id != "" && !delivered[id] {
			t.Errorf("uuid %s was tried before the kill and not delivered after, under the same uuid", id)
		}
	}
	mu.Unlock()

	// The operator's view, beside the running server.
	var out strings.Builder
	var errOut strings.Builder
	if err := run(context.Background(), []string{"deliveries", "--db", db, "list", "--status", "delivered"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("deliveries list: %v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1+len(want) || !strings.Contains(lines[1], "delivered") || !strings.Contains(lines[1], recv.URL+"/hook") {
		t.Fatalf("deliveries list:\n%s", out.String())
	}
}

// TestDeliveriesUsage: help exits 0 on stdout, usage errors are exit 2.
func TestDeliveriesUsage(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, args := range [][]string{{"deliveries", "-h"}, {"deliveries", "help"}} {
		var out strings.Builder
		if err := run(context.Background(), args, getenv, &out, &strings.Builder{}); err != nil || !strings.Contains(out.String(), "usage: verifyd deliveries") {
			t.Fatalf("%v: %v, %q", args, err, out.String())
		}
	}
	for _, args := range [][]string{
		{"deliveries"}, {"deliveries", "purge"}, {"deliveries", "list", "x"},
		{"deliveries", "list", "--status", "lost"}, {"deliveries", "list", "--limit", "0"}, {"deliveries", "--bogus"},
	} {
		err := run(context.Background(), args, getenv, &strings.Builder{}, &strings.Builder{})
		if err == nil || exitCode(err) != 2 {
			t.Fatalf("%v: %v (exit %d)", args, err, exitCode(err))
		}
	}
	// A database that does not exist is an error, not a new empty file.
	missing := filepath.Join(t.TempDir(), "none.db")
	err := run(context.Background(), []string{"deliveries", "--db", missing, "list"}, getenv, &strings.Builder{}, &strings.Builder{})
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("missing database: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("list created a database")
	}
}
