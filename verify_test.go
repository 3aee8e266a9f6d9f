package verify

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"
)

func TestValidIdentity(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"ff483d1ff591898a9942916050d2ca3f", true},
		{"user-0001", true},
		{"a-b-c-d-e", true},
		{"1234567", false}, // 7 characters
		{"12345678", true},
		{string(bytes.Repeat([]byte("a"), 64)), true},
		{string(bytes.Repeat([]byte("a"), 65)), false},
		{"-leading-dash", false},
		{"trailing-dash-", false},
		{"double--dash", false},
		{"under_score", false},
		{"with space", false},
		{"plus+sign1", false},
		{"ünïcode-id", false},
	} {
		if got := ValidIdentity(tc.id); got != tc.want {
			t.Errorf("ValidIdentity(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestSid(t *testing.T) {
	s, err := NewSid(rand.Reader, PrefixFactor)
	if err != nil || !s.Valid(PrefixFactor) || s.Valid(PrefixChallenge) || len(s) != 34 {
		t.Fatalf("NewSid = %q, %v", s, err)
	}
	for _, bad := range []Sid{"", "YF", "YF0123", "YF0123456789abcdef0123456789abcdeg", "yf0123456789abcdef0123456789abcdef", "YF0123456789abcdef0123456789abcdef0"} {
		if bad.Valid(PrefixFactor) {
			t.Errorf("%q is valid", bad)
		}
	}
	if !Sid("YF0123456789ABCDEF0123456789abcdef").Valid(PrefixFactor) {
		t.Error("upper-case hex refused")
	}
	if _, err := NewSid(bytes.NewReader(nil), PrefixFactor); err == nil {
		t.Error("NewSid with an empty reader succeeded")
	}
}

func TestParseStringMap(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want map[string]string
		bad  bool
	}{
		{raw: `{"os":"Android"}`, want: map[string]string{"os": "Android"}},
		{raw: `"{\"ip\":\"172.168.1.234\"}"`, want: map[string]string{"ip": "172.168.1.234"}}, // twilio-go double encoding
		{raw: `{}`, want: map[string]string{}},
		{raw: `null`, want: nil},
		{raw: `{"n":1}`, bad: true},
		{raw: `{"o":{"a":"b"}}`, bad: true},
		{raw: `["a"]`, bad: true},
		{raw: `"plain string"`, bad: true},
		{raw: `{os}`, bad: true},
		{raw: ``, bad: true},
	} {
		got, err := ParseStringMap(tc.raw)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseStringMap(%q) = %v, want an error", tc.raw, got)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("ParseStringMap(%q) = %v, %v; want %v", tc.raw, got, err, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseStringMap(%q)[%q] = %q, want %q", tc.raw, k, got[k], v)
			}
		}
	}
}

func TestChallengeStatusAt(t *testing.T) {
	exp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := &Challenge{Status: ChallengePending, ExpirationDate: exp}
	if s := c.StatusAt(exp.Add(-time.Second)); s != ChallengePending {
		t.Errorf("before expiry: %s", s)
	}
	if s := c.StatusAt(exp); s != ChallengeExpired {
		t.Errorf("at expiry: %s", s)
	}
	c.Status = ChallengeApproved
	if s := c.StatusAt(exp.Add(time.Hour)); s != ChallengeApproved {
		t.Errorf("answered challenge after expiry: %s", s)
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	err := Errorf(EFactorMax, "too many %s", "factors")
	wrapped := &wrapErr{err}
	if ErrorCode(wrapped) != EFactorMax || ErrorMessage(wrapped) != "too many factors" || !IsCode(wrapped, EFactorMax) {
		t.Errorf("code/message lost through wrapping: %d %q", ErrorCode(wrapped), ErrorMessage(wrapped))
	}
	plain := bytes.ErrTooLarge
	if ErrorCode(plain) != EInternal || ErrorMessage(plain) != "Internal server error" {
		t.Errorf("a plain error leaks: %d %q", ErrorCode(plain), ErrorMessage(plain))
	}
}

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "wrapped: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

// TestVerifyFactorVector checks the verify-factor AuthPayload vector of
// push-protocol.md §11: a DER signature over the factor SID.
func TestVerifyFactorVector(t *testing.T) {
	der, err := ParsePublicKey("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmenZhqoxZNnRw+vLvZVevU2NosRmYT5KPHxn890L8eRwtrE+4O4pNUMfvB4Tv7DGnFhPK9dGRdwZPMMhME+3Mw==")
	if err != nil {
		t.Fatal(err)
	}
	f := &Factor{Sid: "YF0123456789abcdef0123456789abcdef", Push: &PushFactor{PublicKey: der}}
	const payload = "MEUCIGhueOlKYR6j7JPh137MswjSeSk7D1kqM+4uhGJRVdjkAiEAy4wwvTyMlTuVRgFBWm4ZPkLukWGfPjkPOAASuEgfLQ8="
	if !verifyFactorSignature(f, payload) {
		t.Fatal("vector signature refused")
	}
	f.Sid = "YF0123456789abcdef0123456789abcdee"
	if verifyFactorSignature(f, payload) {
		t.Fatal("signature accepted for another SID")
	}
	// The twilio-oai createPush example key parses too.
	if _, err := ParsePublicKey("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8GdwtibWe0kpgsFl6xPQBwhtwUEyeJkeozFmi2jiJDzxFSMwVy3kVR1h/dPVYOfgkC0EkfBRJ0J/6xW47FD5vA=="); err != nil {
		t.Fatal(err)
	}
}

// TestNewSidAtOrder: SIDs made later sort after earlier ones, also within
// one second, and the random part still differs.
func TestNewSidAtOrder(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	prev := Sid("")
	for i := range 100 {
		s, err := NewSidAt(rand.Reader, PrefixChallenge, base.Add(time.Duration(i)*time.Millisecond))
		if err != nil || !s.Valid(PrefixChallenge) {
			t.Fatalf("NewSidAt = %q, %v", s, err)
		}
		if s <= prev {
			t.Fatalf("%s (at +%dms) does not sort after %s", s, i, prev)
		}
		prev = s
	}
	a, _ := NewSidAt(rand.Reader, PrefixFactor, base)
	b, _ := NewSidAt(rand.Reader, PrefixFactor, base)
	if a == b || a[:14] != b[:14] {
		t.Fatalf("same-millisecond SIDs %s and %s: want the same time part and different random parts", a, b)
	}
}
