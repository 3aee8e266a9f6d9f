package verifytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"
)

// DeviceKey returns a new P-256 device key and its public key as a push
// factor's Binding.PublicKey carries it: the standard base64 of the DER
// SubjectPublicKeyInfo.
func DeviceKey(t testing.TB) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, base64.StdEncoding.EncodeToString(der)
}

// SignSid returns the AuthPayload that verifies a push factor: the standard
// base64 of a DER ECDSA signature over the factor SID, as the SDKs send it.
func SignSid(t testing.TB, key *ecdsa.PrivateKey, sid string) string {
	t.Helper()
	h := sha256.Sum256([]byte(sid))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}
