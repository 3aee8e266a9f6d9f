package api

import (
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// TestLoginCache: a remembered login passes only with the same token and
// only until it expires, and gives back the account it was proved for;
// another token or user is not in the cache, nor a forgotten one.
func TestLoginCache(t *testing.T) {
	var c loginCache
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, ok := c.ok("AC1", "tok", now); ok {
		t.Fatal("empty cache accepted a login")
	}
	c.remember("AC1", "tok", "AC1", now, c.generation())
	c.remember("SK1", "secret", "AC9", now, c.generation())
	for _, tc := range []struct {
		user, token string
		at          time.Time
		want        verify.Sid // "" for not accepted
	}{
		{"AC1", "tok", now, "AC1"},
		{"AC1", "tok", now.Add(loginTTL - time.Second), "AC1"},
		{"AC1", "tok", now.Add(loginTTL), ""},
		{"AC1", "tok2", now, ""},
		{"AC1", "", now, ""},
		{"AC2", "tok", now, ""},
		{"SK1", "secret", now, "AC9"},
		{"SK1", "tok", now, ""},
	} {
		got, ok := c.ok(tc.user, tc.token, tc.at)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("ok(%s, %q, +%v) = %q, %v, want %q", tc.user, tc.token, tc.at.Sub(now), got, ok, tc.want)
		}
	}
	gen := c.generation()
	c.forget("SK1")
	if _, ok := c.ok("SK1", "secret", now); ok {
		t.Error("a forgotten key still passes")
	}
	// A login that read the store before the forget is not remembered.
	c.remember("SK1", "secret", "AC9", now, gen)
	if _, ok := c.ok("SK1", "secret", now); ok {
		t.Error("a login read before a forget was remembered")
	}
	c.remember("SK1", "secret", "AC9", now, c.generation())
	if _, ok := c.ok("SK1", "secret", now); !ok {
		t.Error("a login read after the forget was not remembered")
	}
}
