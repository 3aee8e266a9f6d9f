package verify

import (
	"bytes"
	"testing"
)

// TestTokenUnderPreviousKeys checks that during a master key rotation a
// node accepts the enrollment tokens derived under its previous keys as
// well as its own, mints under its own, and refuses any other key's.
func TestTokenUnderPreviousKeys(t *testing.T) {
	a, b, c := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	sid := Sid("YK0123456789abcdef0123456789abcdef")
	rotated := &Verifier{TokenKey: b, PreviousTokenKeys: [][]byte{a}}
	if rotated.tokenFor(sid) != tokenUnder(b, sid) {
		t.Fatal("a node mints under a key that is not its primary")
	}
	for _, tc := range []struct {
		name string
		v    *Verifier
		key  []byte
		want bool
	}{
		{"new key on a rotated node", rotated, b, true},
		{"old key on a rotated node", rotated, a, true},
		{"unknown key on a rotated node", rotated, c, false},
		{"new key on a node without it", &Verifier{TokenKey: a}, b, false},
		{"tampered token", rotated, nil, false},
	} {
		token := string(sid) + "x"
		if tc.key != nil {
			token = tokenUnder(tc.key, sid)
		}
		if got := tc.v.tokenValid(token, sid); got != tc.want {
			t.Errorf("%s: tokenValid = %v, want %v", tc.name, got, tc.want)
		}
	}
}
