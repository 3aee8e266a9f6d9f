package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// Real keys and certificates for the push credential tests, made fresh by
// each test: nothing here is a fixture that could pass by accident.

// p8Key returns a new APNs token-signing key as Apple's .p8 files hold it:
// PKCS#8 PEM of an EC P-256 key.
func p8Key(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pkcs8PEM(t, k)
}

func pkcs8PEM(t *testing.T, k any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// apnCert returns a self-signed APNs-style client certificate valid from
// notBefore to notAfter, and its RSA key in PKCS#1 PEM (the form of
// Twilio's examples).
func apnCert(t *testing.T, notBefore, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Apple Push Services: com.example.app"},
		NotBefore:    notBefore, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	return certPEM, keyPEM
}

// serviceAccountJSON returns a Google service-account key file with a new
// RSA key, without the fields named in drop.
func serviceAccountJSON(t *testing.T, drop ...string) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{
		"type": "service_account", "project_id": "verifyd-test", "private_key_id": "0123abcd",
		"private_key": pkcs8PEM(t, k), "client_email": "push@verifyd-test.iam.gserviceaccount.com",
		"token_uri": "https://oauth2.googleapis.com/token",
	}
	for _, d := range drop {
		delete(m, d)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
