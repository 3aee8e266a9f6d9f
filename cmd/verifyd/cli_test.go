package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"testing"
	"time"
)

// TestCLIConventions: -h prints the usage on stdout and succeeds; a bad
// flag prints its error once, with the usage, on stderr and exits 2; a
// boolean setting is parsed as strconv.ParseBool (and yes/on, no/off),
// anything else refused.
func TestCLIConventions(t *testing.T) {
	for _, cmd := range [][]string{{"serve", "-h"}, {"migrate", "--help"}, {"geo", "-h"}, {"totp", "-h"}, {"bench", "-h"},
		{"device", "-h"}, {"inbox", "-h"}, {"rotate-key", "-h"}, {"accounts", "-h"}} {
		var out, errs strings.Builder
		err := run(context.Background(), cmd, func(string) string { return "" }, &out, &errs)
		if err != nil || out.Len() == 0 || errs.Len() != 0 {
			t.Errorf("%v: %v, stdout %d bytes, stderr %q", cmd, err, out.Len(), errs.String())
		}
	}
	for _, cmd := range [][]string{{"serve", "--bogus"}, {"geo", "--bogus"}, {"totp", "--bogus", "X"}, {"device", "--bogus"}} {
		var out, errs strings.Builder
		err := run(context.Background(), cmd, func(string) string { return "" }, &out, &errs)
		var u usageError
		if exitCode(err) != 2 || !errors.As(err, &u) || !u.printed || strings.Count(errs.String(), "bogus") != 1 || out.Len() != 0 {
			t.Errorf("%v: exit %d, %v, stderr %q", cmd, exitCode(err), err, errs.String())
		}
	}
	for v, want := range map[string]bool{"1": true, "t": true, "TRUE": true, "yes": true, "On": true, "0": false, "false": false, "off": false} {
		cfg, err := parseServe(nil, func(k string) string { return map[string]string{"VERIFYD_TLS_SELF_SIGNED": v, "VERIFYD_DEV": v}[k] }, &strings.Builder{})
		if err != nil || cfg.TLSSelfSigned != want || cfg.Dev != want {
			t.Errorf("%q: %v, %v, %v", v, cfg.TLSSelfSigned, cfg.Dev, err)
		}
	}
	if _, err := parseServe(nil, func(k string) string { return map[string]string{"VERIFYD_WEBHOOK_PUBLIC_ONLY": "maybe"}[k] }, &strings.Builder{}); exitCode(err) != 2 ||
		!strings.Contains(err.Error(), "VERIFYD_WEBHOOK_PUBLIC_ONLY") {
		t.Errorf("maybe: %v", err)
	}
}

// TestStartHints: a start that cannot listen, or cannot write the
// database's directory, says which setting fixes it.
func TestStartHints(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = run(ctx, []string{"serve", "--addr", ln.Addr().String(), "--db", t.TempDir() + "/v.db"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--addr") || !strings.Contains(err.Error(), "in use") {
		t.Errorf("address in use: %v", err)
	}
	if err := openHint("/ro/v.db", fmt.Errorf("open: %w", fs.ErrPermission)); !strings.Contains(err.Error(), "/ro") || !strings.Contains(err.Error(), "--db") {
		t.Errorf("permission: %v", err)
	}
}
