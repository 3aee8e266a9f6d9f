package otp

import (
	"testing"
	"time"
)

// BenchmarkValidateParams complements BenchmarkValidate (sha1, skew 1) with
// the other algorithms and with skew 2, the widest window verifyd allows and
// the one the load tool's factors use: each extra step is one more HMAC.
func BenchmarkValidateParams(b *testing.B) {
	secret := []byte("12345678901234567890123456789012")
	now := time.Unix(1234567890, 0)
	for _, p := range []Params{
		{Alg: "sha1", Digits: 6, Period: 60, Skew: 2},
		{Alg: "sha256", Digits: 6, Period: 30, Skew: 1},
		{Alg: "sha512", Digits: 8, Period: 30, Skew: 1},
	} {
		b.Run(p.Alg+"/skew"+string(rune('0'+p.Skew)), func(b *testing.B) {
			code, err := Code(secret, now, p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := Validate(secret, code, now, p, 0); !ok {
					b.Fatal("code not accepted")
				}
			}
		})
	}
}
