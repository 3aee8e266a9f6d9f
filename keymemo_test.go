package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"
)

// TestKeyMemo: a device key is parsed once and then shared, a bad key is
// refused every time and never remembered, and the memo stays bounded.
func TestKeyMemo(t *testing.T) {
	k := keyMemo{m: make(map[string]*ecdsa.PublicKey)}
	der := func() []byte {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		b, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	d := der()
	a, err := k.get(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.get(append([]byte(nil), d...))
	if err != nil || a != b {
		t.Fatalf("second get: %p %v, want the first parse %p", b, err, a)
	}
	want, _ := ecdsaKey(d)
	if !a.Equal(want) {
		t.Fatal("memoised key differs from the parsed one")
	}
	for range 2 {
		if _, err := k.get([]byte("not a key")); err == nil {
			t.Fatal("a bad key parsed")
		}
	}
	if len(k.m) != 1 {
		t.Fatalf("%d keys remembered, want 1 (bad keys are not)", len(k.m))
	}
	for range maxParsedKeys + 10 {
		if _, err := k.get(der()); err != nil {
			t.Fatal(err)
		}
	}
	if len(k.m) > maxParsedKeys {
		t.Fatalf("%d keys remembered, want at most %d", len(k.m), maxParsedKeys)
	}
}
