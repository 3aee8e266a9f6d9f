package api

import (
	"testing"
	"time"
)

// TestLoginCache: a remembered login passes only with the same token and
// only until it expires; another token or account is not in the cache.
func TestLoginCache(t *testing.T) {
	var c loginCache
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if c.ok("AC1", "tok", now) {
		t.Fatal("empty cache accepted a login")
	}
	c.remember("AC1", "tok", now)
	for _, tc := range []struct {
		sid, token string
		at         time.Time
		want       bool
	}{
		{"AC1", "tok", now, true},
		{"AC1", "tok", now.Add(loginTTL - time.Second), true},
		{"AC1", "tok", now.Add(loginTTL), false},
		{"AC1", "tok2", now, false},
		{"AC1", "", now, false},
		{"AC2", "tok", now, false},
	} {
		if got := c.ok(tc.sid, tc.token, tc.at); got != tc.want {
			t.Errorf("ok(%s, %q, +%v) = %v, want %v", tc.sid, tc.token, tc.at.Sub(now), got, tc.want)
		}
	}
}
