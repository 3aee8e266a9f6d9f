package jws

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
)

// FuzzParse: Parse and VerifyES256 never panic on any input, and a token
// that verifies under the vector key is one of the vectors: no second
// spelling of a signed token (say, other unused bits in its base64)
// verifies.
func FuzzParse(f *testing.F) {
	for _, s := range []string{vecDeviceJWT, vecChallenge, "", "a.b.c", "e30.e30.", "e30.e30.AA", "eyJhbGciOiJub25lIn0.e30.", "e30..", "..", "a.b.c.d"} {
		f.Add(s)
	}
	vk := vecKey(f)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			return
		}
		if strings.Count(s, ".") != 2 || !strings.HasPrefix(s, tok.signingInput+".") {
			t.Fatalf("signing input %q of %q", tok.signingInput, s)
		}
		if strings.Trim(s, ".-_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			t.Fatalf("accepted %q, which is not all base64url", s)
		}
		if tok.VerifyES256(&other.PublicKey) == nil {
			t.Fatalf("%q verifies under a random key", s)
		}
		if tok.VerifyES256(vk) == nil && s != vecDeviceJWT && s != vecChallenge {
			t.Fatalf("%q verifies under the vector key", s)
		}
	})
}

// FuzzDERToRaw: the DER signature parser never panics, and accepts only
// the canonical DER of two positive integers that fit 256 bits, which it
// turns into their 32-byte big-endian forms.
func FuzzDERToRaw(f *testing.F) {
	vec, _ := base64.StdEncoding.DecodeString(vecDER)
	f.Add(vec)
	f.Add(append(append([]byte{}, vec...), 0))
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0xff, 0x02, 0x01, 0x01})             // negative r
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01})             // zero r
	f.Add([]byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01})       // r not minimal
	f.Add([]byte{0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})       // long-form length
	f.Add([]byte{0x30, 0x08, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x05, 0x00}) // a third element
	f.Fuzz(func(t *testing.T, der []byte) {
		raw, err := DERToRaw(der)
		if err != nil {
			return
		}
		if len(raw) != 64 {
			t.Fatalf("raw signature of %d bytes", len(raw))
		}
		r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
		if r.Sign() <= 0 || s.Sign() <= 0 {
			t.Fatalf("accepted r=%v s=%v", r, s)
		}
		back, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil || string(back) != string(der) {
			t.Fatalf("accepted % x, whose canonical DER is % x", der, back)
		}
	})
}
