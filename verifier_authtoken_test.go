package verify

import (
	"bytes"
	"context"
	"regexp"
	"testing"
)

// accountStore is a Store holding one account; every other method is
// unused here (a nil embedded interface panics if one is called).
type accountStore struct {
	Store
	a *Account
}

func (s accountStore) FindAccount(_ context.Context, sid Sid) (*Account, error) {
	if sid != s.a.Sid {
		return nil, Errorf(ENotFound, "Account %s was not found", sid)
	}
	return s.a, nil
}

// TestAuthenticateSecondary: the primary and the secondary token both log
// in; without a secondary only the primary does; every failure is the same
// EAuthenticate error.
func TestAuthenticateSecondary(t *testing.T) {
	const sid = Sid("AC0123456789abcdef0123456789abcdef")
	a := &Account{Sid: sid, TokenHash: HashToken("primary"), SecondaryHash: HashToken("secondary")}
	v := &Verifier{Store: accountStore{a: a}}
	ctx := context.Background()
	for _, tok := range []string{"primary", "secondary"} {
		if got, err := v.Authenticate(ctx, string(sid), tok); err != nil || got.Sid != sid {
			t.Errorf("Authenticate(%s) = %v, %v", tok, got, err)
		}
	}
	var msg string
	for i, tc := range []struct{ sid, token string }{
		{string(sid), "wrong"}, {string(sid), ""}, {"AC00000000000000000000000000000000", "primary"}, {"nonsense", "primary"},
	} {
		_, err := v.Authenticate(ctx, tc.sid, tc.token)
		if !IsCode(err, EAuthenticate) || (i > 0 && ErrorMessage(err) != msg) {
			t.Errorf("Authenticate(%q, %q) = %v", tc.sid, tc.token, err)
		}
		msg = ErrorMessage(err)
	}
	a.SecondaryHash = nil
	if _, err := v.Authenticate(ctx, string(sid), "secondary"); !IsCode(err, EAuthenticate) {
		t.Errorf("a deleted secondary logs in: %v", err)
	}
	if _, err := v.Authenticate(ctx, string(sid), "primary"); err != nil {
		t.Errorf("the primary without a secondary: %v", err)
	}
}

// TestNewAuthToken: 32 lower-case hex characters, like Twilio's, from the
// given source; a source that runs dry is an error.
func TestNewAuthToken(t *testing.T) {
	tok, err := newAuthToken(bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)))
	if err != nil || tok != "abababababababababababababababab" {
		t.Fatalf("newAuthToken = %q, %v", tok, err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(tok) {
		t.Fatalf("token %q", tok)
	}
	if _, err := newAuthToken(bytes.NewReader(make([]byte, 15))); err == nil {
		t.Fatal("a short source gave a token")
	}
}
