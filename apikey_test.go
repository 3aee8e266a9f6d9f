package verify

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

// TestNewSecret: 32 characters of the alphabet; bytes past the last whole
// multiple of the alphabet (248 and up) are drawn again, so no character is
// likelier than another; a short random source is an error.
func TestNewSecret(t *testing.T) {
	src := append([]byte{255, 248, 0, 61, 62}, bytes.Repeat([]byte{1}, 64)...)
	s, err := newSecret(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := "A9A" + strings.Repeat("B", 29); s != want {
		t.Fatalf("secret = %q, want %q", s, want)
	}
	if _, err := newSecret(bytes.NewReader(bytes.Repeat([]byte{250}, 40))); err == nil {
		t.Fatal("a source that ran dry gave a secret")
	}
	seen := map[string]bool{}
	for range 100 {
		s, err := newSecret(rand.Reader)
		if err != nil || len(s) != secretLength || strings.Trim(s, secretAlphabet) != "" || seen[s] {
			t.Fatalf("secret %q, %v", s, err)
		}
		seen[s] = true
	}
}
