package apns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

func TestParseP8(t *testing.T) {
	key, p8 := newSigningKey(t)
	got, err := ParseP8(p8)
	if err != nil {
		t.Fatalf("ParseP8: %v", err)
	}
	if !got.Equal(key) {
		t.Error("ParseP8 returned another key")
	}

	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"not PEM":        []byte("MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"),
		"P-384":          pkcs8(p384),
		"RSA":            pkcs8(rsaKey),
		"SEC1 EC block":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
		"corrupt PKCS#8": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01}}),
	}
	for name, in := range bad {
		if _, err := ParseP8(in); err == nil {
			t.Errorf("%s: ParseP8 succeeded, want an error", name)
		}
	}
}

func TestProviderTokenLifetime(t *testing.T) {
	key, _ := newSigningKey(t)
	clk := newClock()
	p := &providerToken{key: key, keyID: testKeyID, teamID: testTeamID, now: clk.Now}
	first, err := p.get()
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(TokenLifetime - 1)
	if tok, _ := p.get(); tok != first {
		t.Error("token replaced before TokenLifetime")
	}
	clk.Add(1)
	second, _ := p.get()
	if second == first {
		t.Error("token not replaced at TokenLifetime")
	}
	// A late ExpiredProviderToken for the first token must not replace
	// the second: another request already refreshed it.
	if tok, _ := p.expired(first); tok != second {
		t.Error("expired(stale) replaced a token that was already fresh")
	}
	if tok, _ := p.expired(second); tok == second {
		t.Error("expired(current) did not sign a new token")
	}
	if TokenLifetime < 20*60e9 || TokenLifetime > 60*60e9 {
		t.Errorf("TokenLifetime %v is outside Apple's 20–60 minute window", TokenLifetime)
	}
}
