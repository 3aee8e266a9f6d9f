package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuthTokenStrength: serve (and migrate, which reads the same
// configuration) refuses a VERIFYD_AUTH_TOKEN shorter than 32 characters or
// not alphanumeric, says why in the start-up error, and starts with a
// 32-character one.
func TestAuthTokenStrength(t *testing.T) {
	db := filepath.Join(t.TempDir(), "verifyd.db")
	for _, tc := range []struct{ token, want string }{
		{"a", "at least 32 characters"},
		{strings.Repeat("a", 31), "at least 32 characters"},
		{strings.Repeat("a", 31) + "-", "letters and digits only"},
	} {
		for _, cmd := range []string{"serve", "migrate"} {
			err := run(context.Background(), []string{cmd, "--addr", "127.0.0.1:0", "--db", db},
				func(k string) string { return accountEnv(testAccount, tc.token)[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "VERIFYD_AUTH_TOKEN") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s with a token of %d characters: %v, want an error saying %q", cmd, len(tc.token), err, tc.want)
			}
		}
	}
	if _, err := parseServe(nil, func(k string) string { return accountEnv(testAccount, strings.Repeat("a1", 16))[k] }, io.Discard); err != nil {
		t.Errorf("a 32-character token refused: %v", err)
	}
}

// TestTrustedProxies: --trusted-proxies (VERIFYD_TRUSTED_PROXIES) takes
// addresses and CIDR prefixes, and refuses anything else.
func TestTrustedProxies(t *testing.T) {
	cfg, err := parseServe([]string{"--trusted-proxies", "10.0.0.0/8, 192.0.2.1,2001:db8::/32"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.TrustedProxies); got != "[10.0.0.0/8 192.0.2.1/32 2001:db8::/32]" {
		t.Errorf("TrustedProxies = %s", got)
	}
	cfg, err = parseServe(nil, func(k string) string { return map[string]string{"VERIFYD_TRUSTED_PROXIES": "127.0.0.1"}[k] }, io.Discard)
	if err != nil || fmt.Sprint(cfg.TrustedProxies) != "[127.0.0.1/32]" {
		t.Errorf("from the environment: %v, %v", cfg.TrustedProxies, err)
	}
	if _, err := parseServe([]string{"--trusted-proxies", "proxy.internal"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("a host name accepted as a trusted proxy")
	}
}

// envWith returns, for a value, a getenv that knows only key, set to it
// (empty: unset).
func envWith(key string) func(v string) func(string) string {
	return func(v string) func(string) string {
		return func(k string) string { return map[string]string{key: v}[k] }
	}
}

// TestCacheSizeConfig: --cache-mb (VERIFYD_CACHE_MB) is 10 unless set, the
// flag over the environment, and refuses what is not a whole number of MiB
// from 1 to 65536; a server started with it reports that budget in
// /metrics.
func TestCacheSizeConfig(t *testing.T) {
	env := envWith("VERIFYD_CACHE_MB")
	for _, tc := range []struct {
		args []string
		env  string
		want int
	}{
		{nil, "", 10},
		{nil, "64", 64},
		{[]string{"--cache-mb", "3"}, "64", 3},
		{[]string{"--cache-mb", "65536"}, "", 65536},
	} {
		cfg, err := parseServe(tc.args, env(tc.env), io.Discard)
		if err != nil || cfg.CacheMB != tc.want {
			t.Errorf("%v with %q: %d, %v; want %d", tc.args, tc.env, cfg.CacheMB, err, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		env  string
	}{
		{[]string{"--cache-mb", "0"}, ""},
		{[]string{"--cache-mb", "-1"}, ""},
		{[]string{"--cache-mb", "65537"}, ""},
		{[]string{"--cache-mb", "1.5"}, ""},
		{nil, "0"},
		{nil, "lots"},
	} {
		if _, err := parseServe(tc.args, env(tc.env), io.Discard); err == nil {
			t.Errorf("%v with %q accepted", tc.args, tc.env)
		}
	}
	s := startServer(t, filepath.Join(t.TempDir(), "v.db"), accountEnv(testAccount, testToken), "--cache-mb", "3")
	if m := scrape(t, s.base+"/metrics"); m[`verifyd_cache_budget_bytes`] != 3<<20 {
		t.Errorf("verifyd_cache_budget_bytes = %v with --cache-mb 3", m[`verifyd_cache_budget_bytes`])
	}
	s.stop()
}

// TestAttemptsRetentionConfig: --attempts-retention (VERIFYD_ATTEMPTS_RETENTION)
// is a Go duration, 30 days unless set, the flag over the environment; zero,
// negative and malformed values are refused.
func TestAttemptsRetentionConfig(t *testing.T) {
	env := envWith("VERIFYD_ATTEMPTS_RETENTION")
	for _, tc := range []struct {
		args []string
		env  string
		want time.Duration
	}{
		{nil, "", 30 * 24 * time.Hour},
		{nil, "48h", 48 * time.Hour},
		{[]string{"--attempts-retention", "90m"}, "48h", 90 * time.Minute},
	} {
		cfg, err := parseServe(tc.args, env(tc.env), io.Discard)
		if err != nil || cfg.AttemptRetention != tc.want {
			t.Errorf("%v with %q: %s, %v; want %s", tc.args, tc.env, cfg.AttemptRetention, err, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		env  string
	}{
		{[]string{"--attempts-retention", "0s"}, ""}, {[]string{"--attempts-retention", "-1h"}, ""},
		{[]string{"--attempts-retention", "30d"}, ""}, {nil, "a month"},
	} {
		if _, err := parseServe(tc.args, env(tc.env), io.Discard); err == nil || !strings.Contains(err.Error(), "attempts-retention") &&
			!strings.Contains(err.Error(), "VERIFYD_ATTEMPTS_RETENTION") {
			t.Errorf("%v with %q: %v, want an error naming it", tc.args, tc.env, err)
		}
	}
}
