package jws

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"
)

// benchTokens returns a key and, signed by it, a device JWT and a push
// answer of the size the SDKs send.
func benchTokens(b *testing.B) (*ecdsa.PrivateKey, string, string) {
	b.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Unix()
	device, err := SignES256(key,
		map[string]string{"cty": "twilio-pba;v=1", "kid": "YX0123456789abcdef0123456789abcdef", "typ": "JWT", "alg": "ES256"},
		map[string]any{"sub": "AC0123456789abcdef0123456789abcdef", "nbf": now, "exp": now + 600})
	if err != nil {
		b.Fatal(err)
	}
	answer, err := SignES256(key, map[string]string{"typ": "JWT", "alg": "ES256"}, map[string]any{
		"sid": "YC0123456789abcdef0123456789abcdef", "account_sid": "AC0123456789abcdef0123456789abcdef",
		"service_sid": "VA0123456789abcdef0123456789abcdef", "entity_sid": "YE0123456789abcdef0123456789abcdef",
		"identity": "user-0001", "factor_sid": "YF0123456789abcdef0123456789abcdef",
		"date_created": "2030-01-02T03:04:05Z", "expiration_date": "2030-01-02T03:09:05Z",
		"details":        map[string]any{"message": "Log in?", "fields": []any{map[string]any{"label": "IP", "value": "203.0.113.7"}}},
		"hidden_details": map[string]any{"ip": "203.0.113.7"}, "status": "approved",
	})
	if err != nil {
		b.Fatal(err)
	}
	return key, device, answer
}

// BenchmarkVerify is Parse plus VerifyES256 of a device JWT and of a push
// answer: a push approval pays both. The ECDSA verification dominates.
func BenchmarkVerify(b *testing.B) {
	key, device, answer := benchTokens(b)
	for name, tok := range map[string]string{"device-jwt": device, "answer": answer} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				t, err := Parse(tok)
				if err != nil {
					b.Fatal(err)
				}
				if err := t.VerifyES256(&key.PublicKey); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse is the decoding alone, without the signature check.
func BenchmarkParse(b *testing.B) {
	_, _, answer := benchTokens(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(answer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign is what a device (and the load tool) pays per JWT.
func BenchmarkSign(b *testing.B) {
	key, _, _ := benchTokens(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SignES256(key, map[string]string{"alg": "ES256"}, map[string]any{"sub": "AC0123456789abcdef0123456789abcdef"}); err != nil {
			b.Fatal(err)
		}
	}
}
