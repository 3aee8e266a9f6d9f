package jws

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Vectors from push-protocol.md §11 (synthetic, generated following the
// SDK code paths byte for byte).
const (
	vecPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmenZhqoxZNnRw+vLvZVevU2NosRmYT5KPHxn890L8eRwtrE+4O4pNUMfvB4Tv7DGnFhPK9dGRdwZPMMhME+3Mw=="
	vecDeviceJWT = "eyJjdHkiOiJ0d2lsaW8tcGJhO3Y9MSIsImtpZCI6IkNSMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJBQzAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwiZXhwIjoxNzAwMDAwNjAwLCJuYmYiOjE3MDAwMDAwMDB9.gEMgSVs1TI5w4mzqdZkQyyxmm3JmSNEO7KyO2ySPLrBLmt_No0Z23gI9DWhtB0rXsc2uYsyWC_c9kBwnc1tnoA"
	vecChallenge = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJzaWQiOiJZQzAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwiZmFjdG9yX3NpZCI6IllGMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYiLCJkZXRhaWxzIjp7Im1lc3NhZ2UiOiJMb2dpbiByZXF1ZXN0IiwiZGF0ZSI6IjIwMjMtMTEtMTRUMjI6MTM6MjBaIiwiZmllbGRzIjpbeyJsYWJlbCI6IklQIiwidmFsdWUiOiIyMDMuMC4xMTMuNyJ9XX0sImhpZGRlbl9kZXRhaWxzIjp7ImlwIjoiMjAzLjAuMTEzLjcifSwiZGF0ZV9jcmVhdGVkIjoiMjAyMy0xMS0xNFQyMjoxMzoyMFoiLCJleHBpcmF0aW9uX2RhdGUiOiIyMDIzLTExLTE0VDIyOjE4OjIwWiIsInN0YXR1cyI6ImFwcHJvdmVkIn0.lMoDWjopzK5uMyHm3Zp7KF0r5VwDCN57XnceRNTvx7ebs3G5-11LqPgwCqbKw8mAYdIcbe7Qr6f3CVSuRwrFNw"
	vecDER       = "MEQCIFtun9Ioo+W+juCG7sOl8PPPuozb8cspsUtpu2TxnzP/AiAi1VpFNTr2eK+VX3b1DLHy8rPm3MOpTvUH14hyNr0Gfg=="
	vecRaw       = "W26f0iij5b6O4Ibuw6Xw88+6jNvxyymxS2m7ZPGfM/8i1VpFNTr2eK+VX3b1DLHy8rPm3MOpTvUH14hyNr0Gfg=="
)

func vecKey(t testing.TB) *ecdsa.PublicKey {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(vecPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PublicKey)
}

func TestDeviceJWTVector(t *testing.T) {
	tok, err := Parse(vecDeviceJWT)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header.Alg != "ES256" || tok.Header.Kid != "CR0123456789abcdef0123456789abcdef" || tok.Header.Cty != "twilio-pba;v=1" || tok.Header.Typ != "JWT" {
		t.Fatalf("header = %+v", tok.Header)
	}
	if err := tok.VerifyES256(vecKey(t)); err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims struct {
		Sub      string
		Nbf, Exp int64
	}
	if err := json.Unmarshal(tok.Payload, &claims); err != nil || claims.Sub != "AC0123456789abcdef0123456789abcdef" || claims.Nbf != 1700000000 || claims.Exp != 1700000600 {
		t.Fatalf("claims = %+v, %v", claims, err)
	}
}

func TestChallengeAuthPayloadVector(t *testing.T) {
	tok, err := Parse(vecChallenge)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.VerifyES256(vecKey(t)); err != nil {
		t.Fatalf("verify: %v", err)
	}
	var p map[string]any
	if err := json.Unmarshal(tok.Payload, &p); err != nil || p["status"] != "approved" || p["sid"] != "YC0123456789abcdef0123456789abcdef" {
		t.Fatalf("payload = %v, %v", p, err)
	}
}

func TestTamperedAndWrongKey(t *testing.T) {
	parts := strings.Split(vecChallenge, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), `"approved"`, `"denied"`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	tok, err := Parse(tampered)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.VerifyES256(vecKey(t)); !errors.Is(err, ErrSignature) {
		t.Fatalf("tampered payload verified: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tok, _ = Parse(vecChallenge)
	if err := tok.VerifyES256(&other.PublicKey); !errors.Is(err, ErrSignature) {
		t.Fatalf("wrong key verified: %v", err)
	}
}

func TestAlgorithmConfusion(t *testing.T) {
	for _, alg := range []string{"none", "HS256", "ES384", "es256", ""} {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `"}`))
		tok, err := Parse(h + ".e30." + strings.Split(vecChallenge, ".")[2])
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.VerifyES256(vecKey(t)); !errors.Is(err, ErrAlg) {
			t.Errorf("alg %q: %v", alg, err)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	// The vector with its signature's unused bits set: it decoded to the
	// same signature and verified (testdata/fuzz/FuzzParse).
	respelled := vecDeviceJWT[:len(vecDeviceJWT)-1] + "B"
	// A line break, which base64 decoding skips (testdata/fuzz/FuzzParse).
	broken := vecDeviceJWT[:len(vecDeviceJWT)-10] + "\r\n" + vecDeviceJWT[len(vecDeviceJWT)-10:]
	for _, s := range []string{"", "a", "a.b", "a.b.c.d", "!!.e30.AA", "e30.!!.AA", "e30.e30.!!", "bm90IGpzb24.e30.AA", "e30.e31.AA", respelled, broken} {
		if _, err := Parse(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v", s, err)
		}
	}
}

func TestSignRoundTrip(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for range 50 {
		s, err := SignES256(k, map[string]string{"alg": "ES256", "typ": "JWT"}, map[string]any{"status": "denied"})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.VerifyES256(&k.PublicKey); err != nil {
			t.Fatalf("own signature: %v", err)
		}
	}
}

func TestDERToRawVector(t *testing.T) {
	der, _ := base64.StdEncoding.DecodeString(vecDER)
	raw, err := DERToRaw(der)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(raw); got != vecRaw {
		t.Fatalf("raw = %s, want %s", got, vecRaw)
	}
	if _, err := DERToRaw(append(der, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	// A third element inside the SEQUENCE, which encoding/asn1 ignores
	// (found by FuzzDERToRaw's seeds; testdata/fuzz/FuzzDERToRaw).
	if _, err := DERToRaw([]byte{0x30, 0x08, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x05, 0x00}); err == nil {
		t.Fatal("SEQUENCE with a third element accepted")
	}
}
