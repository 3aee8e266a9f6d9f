package apns

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestExpiration(t *testing.T) {
	unix := func(d time.Duration) string { return strconv.FormatInt(testT0.Add(d).Unix(), 10) }
	tests := []struct {
		name       string
		ttl        time.Duration
		expiration time.Time
		want       string
		err        error
	}{
		{"ttl", MaxTTL, time.Time{}, unix(MaxTTL), nil},
		{"ttl capped at 300 s", time.Hour, time.Time{}, unix(MaxTTL), nil},
		{"short ttl", 30 * time.Second, testT0.Add(time.Hour), unix(30 * time.Second), nil},
		{"challenge expires first", MaxTTL, testT0.Add(42 * time.Second), unix(42 * time.Second), nil},
		{"ttl 0: one attempt", 0, testT0.Add(time.Minute), "0", nil},
		{"challenge expired", MaxTTL, testT0, "", ErrChallengeExpired},
		{"challenge expired, ttl 0", 0, testT0.Add(-time.Second), "", ErrChallengeExpired},
	}
	for _, tt := range tests {
		n := Notification{TTL: tt.ttl, Expiration: tt.expiration}
		got, err := n.expiration(testT0)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("%s: expiration = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func TestBodyTruncatedToMaxPayload(t *testing.T) {
	for _, unit := range []string{"a", "é", "😀", "\"", "\u2028"} {
		n := testNotification()
		n.Message = strings.Repeat(unit, 5000)
		b, err := n.body()
		if err != nil {
			t.Fatalf("%q: %v", unit, err)
		}
		if len(b) > MaxPayload || len(b) < MaxPayload-64 {
			t.Errorf("%q: payload is %d bytes, want just under %d", unit, len(b), MaxPayload)
		}
		var p payload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%q: %v", unit, err)
		}
		if p.Message != p.APS.Alert || !strings.HasPrefix(n.Message, p.Message) || !utf8.ValidString(p.Message) || p.Message == "" {
			t.Errorf("%q: message %d bytes, alert %d bytes: want the same valid prefix of the message", unit, len(p.Message), len(p.APS.Alert))
		}
		if p.ChallengeSid != testCSid || p.FactorSid != testFSid || p.Type != PushType {
			t.Errorf("%q: custom keys lost: %+v", unit, p)
		}
	}

	// Twilio's longest message (256 characters) is never shortened.
	n := testNotification()
	n.Message = strings.Repeat("😀", 256)
	b, err := n.body()
	if err != nil {
		t.Fatal(err)
	}
	var p payload
	if err := json.Unmarshal(b, &p); err != nil || p.Message != n.Message {
		t.Errorf("a 256-character message was changed (err %v)", err)
	}
}

func TestCollapseID(t *testing.T) {
	n := testNotification()
	if got := n.collapseID(); got != testCSid {
		t.Errorf("default collapse ID %q, want the challenge SID", got)
	}
	n.CollapseID = "resend-1"
	if got := n.collapseID(); got != "resend-1" {
		t.Errorf("collapse ID %q, want resend-1", got)
	}
	n.CollapseID = strings.Repeat("x", maxCollapseID)
	if err := n.validate(); err != nil {
		t.Errorf("a %d-byte collapse ID was refused: %v", maxCollapseID, err)
	}
}

func TestRedact(t *testing.T) {
	if got := redact(testToken); got != testToken[:8]+"…" {
		t.Errorf("redact = %q", got)
	}
	if got := redact("abcd"); strings.Contains(got, "abcd") {
		t.Errorf("redact of a short token = %q, want it hidden", got)
	}
}
