package gateway_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/verifyd/verify/notify/gateway"
)

func TestSignIsHMACOfTimestampDotBody(t *testing.T) {
	body := []byte(`{"type":"verification.send"}`)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("1741944413." + string(body)))
	want := "t=1741944413,v1=" + hex.EncodeToString(m.Sum(nil))
	if got := gateway.Sign(secret, now, body); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"to":"+15558675310"}`)
	sig := gateway.Sign(secret, now, body)
	old := gateway.Sign("an-older-secret-0123456789", now, body)
	rotated := old + "," + sig[len("t=1741944413,"):] // t=..,v1=<old>,v1=<new>
	for _, tc := range []struct {
		name, secret, header string
		body                 []byte
		at                   time.Time
		tolerance            time.Duration
		want                 error
	}{
		{"valid", secret, sig, body, now, time.Minute, nil},
		{"spaces after commas", secret, "t=1741944413, v1=" + sig[len("t=1741944413,v1="):], body, now, time.Minute, nil},
		{"rotation: second v1 matches", secret, rotated, body, now, time.Minute, nil},
		{"rotation: first v1 matches", "an-older-secret-0123456789", rotated, body, now, time.Minute, nil},
		{"unknown scheme ignored", secret, sig + ",v2=abcdef", body, now, time.Minute, nil},
		{"within default tolerance", secret, sig, body, now.Add(4 * time.Minute), 0, nil},
		{"past default tolerance", secret, sig, body, now.Add(6 * time.Minute), 0, gateway.ErrSignatureTimestamp},
		{"expired", secret, sig, body, now.Add(61 * time.Second), time.Minute, gateway.ErrSignatureTimestamp},
		{"from the future", secret, sig, body, now.Add(-61 * time.Second), time.Minute, gateway.ErrSignatureTimestamp},
		{"tampered body", secret, sig, []byte(`{"to":"+15558675311"}`), now, time.Minute, gateway.ErrSignatureMismatch},
		{"wrong secret", "another-secret-0123456789", sig, body, now, time.Minute, gateway.ErrSignatureMismatch},
		{"timestamp changed", secret, "t=1741944414" + sig[len("t=1741944413"):], body, now, time.Minute, gateway.ErrSignatureMismatch},
		{"empty", secret, "", body, now, time.Minute, gateway.ErrMalformedSignature},
		{"no v1", secret, "t=1741944413", body, now, time.Minute, gateway.ErrMalformedSignature},
		{"no t", secret, sig[len("t=1741944413,"):], body, now, time.Minute, gateway.ErrMalformedSignature},
		{"two t", secret, "t=1," + sig, body, now, time.Minute, gateway.ErrMalformedSignature},
		{"bad t", secret, "t=soon,v1=00", body, now, time.Minute, gateway.ErrMalformedSignature},
		{"v1 not hex", secret, "t=1741944413,v1=zz", body, now, time.Minute, gateway.ErrMalformedSignature},
		{"no equals", secret, sig + ",junk", body, now, time.Minute, gateway.ErrMalformedSignature},
	} {
		err := gateway.Verify(tc.secret, tc.header, tc.body, tc.at, tc.tolerance)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
}
