package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a signature's timestamp may lie from the
// receiver's clock when Verify is given no tolerance: long enough for a
// slow attempt and some clock skew, short enough that a captured request
// cannot be replayed for long (the same five minutes Stripe and Standard
// Webhooks use).
const DefaultTolerance = 5 * time.Minute

// Errors Verify returns, so that a receiver can log why it refused a
// request without logging the header.
var (
	ErrMalformedSignature = errors.New("gateway: malformed X-Verifyd-Signature header")
	ErrSignatureTimestamp = errors.New("gateway: signature timestamp outside tolerance")
	ErrSignatureMismatch  = errors.New("gateway: no matching signature")
)

// Sign returns the X-Verifyd-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>"
// (verifications.md §10.4). The timestamp is inside the MAC so that a
// receiver checking its age (Verify) refuses replays of an old request;
// the raw body is signed, not a re-encoding, so receivers check the bytes
// they got before decoding them.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header, an X-Verifyd-Signature value, against body and
// secret: its timestamp must be within tolerance of now (DefaultTolerance
// if tolerance is not positive) and one of its v1= signatures must match.
// Several v1= values are accepted so that a sender can sign with an old
// and a new secret while receivers move over; other schemes (v0=, v2=)
// are ignored, so that a later scheme can be added beside v1. Signatures
// are compared in constant time.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformedSignature
		}
		switch k {
		case "t":
			if ts != "" {
				return ErrMalformedSignature // which one would be signed?
			}
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformedSignature
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureTimestamp
	}
	want := mac(secret, ts, body)
	ok := false
	for _, sig := range sigs {
		// No early return: the time taken does not tell which value matched.
		if hmac.Equal(sig, want) {
			ok = true
		}
	}
	if !ok {
		return ErrSignatureMismatch
	}
	return nil
}
