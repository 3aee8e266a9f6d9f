package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
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
