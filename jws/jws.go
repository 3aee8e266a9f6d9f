// Package jws is a small compact-JWS core for the one algorithm the Verify
// Push protocol uses, ES256: verifying device JWTs and signed challenge
// answers, and signing them for verifyd's own virtual device. It is written
// on the standard library because the protocol needs only ES256 with raw
// R||S signatures, and a general JWT library would bring algorithms (and
// algorithm-confusion risks) we never want to accept.
package jws

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Header is the protected header fields verifyd reads.
type Header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid,omitempty"`
	Cty string `json:"cty,omitempty"`
}

// Token is a parsed, not yet verified, compact JWS.
type Token struct {
	Header       Header
	Payload      []byte // the decoded payload bytes (JSON)
	signingInput string
	signature    []byte
}

// Errors returned by Parse and Verify.
var (
	ErrMalformed = errors.New("jws: malformed token")
	ErrAlg       = errors.New("jws: algorithm is not ES256")
	ErrSignature = errors.New("jws: signature does not verify")
)

// strict is base64url without padding that refuses unused bits other than
// zero: otherwise the last character of a signature could be changed to
// another that decodes to the same bytes, a second spelling of a token
// that still verifies. Every encoder writes zero bits there.
var strict = base64.RawURLEncoding.Strict()

// decodePart decodes one part of a compact JWS. Line breaks are refused
// first: the decoder skips CR and LF even when strict, which would make
// another spelling of the same token.
func decodePart(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, ErrMalformed
	}
	return strict.DecodeString(s)
}

// Parse splits and decodes a compact JWS (base64url without padding, three
// dot-separated parts). It checks the shape only; call VerifyES256.
func Parse(compact string) (*Token, error) {
	h, rest, ok := strings.Cut(compact, ".")
	if !ok {
		return nil, ErrMalformed
	}
	p, s, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(s, ".") {
		return nil, ErrMalformed
	}
	hb, err1 := decodePart(h)
	pb, err2 := decodePart(p)
	sig, err3 := decodePart(s)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, ErrMalformed
	}
	t := &Token{Payload: pb, signingInput: compact[:len(h)+1+len(p)], signature: sig}
	if err := json.Unmarshal(hb, &t.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	return t, nil
}

// VerifyES256 checks that the header names ES256 and that the signature is
// a valid raw R||S ECDSA P-256 SHA-256 signature by pub over the signing
// input. A 63-byte signature is also tried both ways: the iOS SDK pads a
// short R or S by one byte too few about twice in 65,536 signatures.
func (t *Token) VerifyES256(pub *ecdsa.PublicKey) error {
	if t.Header.Alg != "ES256" {
		return ErrAlg
	}
	h := sha256.Sum256([]byte(t.signingInput))
	switch len(t.signature) {
	case 64:
		if verifyRaw(pub, h[:], t.signature[:32], t.signature[32:]) {
			return nil
		}
	case 63:
		if verifyRaw(pub, h[:], t.signature[:31], t.signature[31:]) || verifyRaw(pub, h[:], t.signature[:32], t.signature[32:]) {
			return nil
		}
	}
	return ErrSignature
}

func verifyRaw(pub *ecdsa.PublicKey, hash, r, s []byte) bool {
	return ecdsa.Verify(pub, hash, new(big.Int).SetBytes(r), new(big.Int).SetBytes(s))
}

// SignES256 returns the compact JWS of header and payload (each marshalled
// to JSON) signed by key, with a raw 64-byte R||S signature as JWS requires.
func SignES256(key *ecdsa.PrivateKey, header, payload any) (string, error) {
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	pb, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb)
	h := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// DERToRaw converts an ASN.1 DER ECDSA signature, as platform crypto
// libraries produce, into the raw 64-byte R||S form of JWS ES256.
func DERToRaw(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if err := unmarshalDER(der, &sig.R, &sig.S); err != nil {
		return nil, err
	}
	raw := make([]byte, 64)
	if sig.R.BitLen() > 256 || sig.S.BitLen() > 256 {
		return nil, ErrMalformed
	}
	sig.R.FillBytes(raw[:32])
	sig.S.FillBytes(raw[32:])
	return raw, nil
}
