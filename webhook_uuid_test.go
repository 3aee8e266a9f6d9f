package verify

import (
	"crypto/rand"
	"regexp"
	"testing"
	"time"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestNewUUID: version 7 with the RFC 9562 variant, the millisecond time
// in front (so a later event sorts after an earlier one), no repeats.
func TestNewUUID(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		u, err := newUUID(at.Add(time.Duration(i)*time.Millisecond), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV7.MatchString(u) || seen[u] || u <= prev {
			t.Fatalf("uuid %d: %s (previous %s)", i, u, prev)
		}
		seen[u], prev = true, u
	}
	u, _ := newUUID(at, rand.Reader)
	if got := u[:8] + u[9:13]; got != "01a23bc69600" {
		t.Errorf("time prefix %s", got)
	}
}
