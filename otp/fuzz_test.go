package otp

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var fuzzAlgs = []string{"sha1", "sha256", "sha512", "SHA1", "md5"}

// FuzzValidate: Validate never panics, accepts a code only in the shape
// Params asks for and only if it is the HOTP of a counter in the skew
// window at or above minCounter, and then returns the lowest such counter;
// and the code Code makes for a time always validates at that time.
func FuzzValidate(f *testing.F) {
	f.Add([]byte("12345678901234567890"), "287082", int64(59), uint8(0), 6, 30, 1, uint64(0))
	f.Add([]byte("12345678901234567890"), "94287082", int64(59), uint8(0), 8, 30, 1, uint64(2))
	f.Add([]byte{}, "000", int64(-1), uint8(1), 3, 1, 2, uint64(0))
	f.Add([]byte("k"), "1234567", int64(1<<62), uint8(2), 7, 60, 2, ^uint64(0))
	f.Add([]byte("k"), "１２３", int64(0), uint8(4), 3, 0, 3, uint64(0))
	f.Fuzz(func(t *testing.T, secret []byte, code string, unix int64, alg uint8, digits, period, skew int, minCounter uint64) {
		p := Params{Alg: fuzzAlgs[int(alg)%len(fuzzAlgs)], Digits: digits, Period: period, Skew: skew}
		now := time.Unix(unix, 0)
		c, ok := Validate(secret, code, now, p, minCounter)
		if ok {
			if p.Check() != nil || len(code) != digits || strings.Trim(code, "0123456789") != "" {
				t.Fatalf("accepted %q with %+v", code, p)
			}
			cur := Counter(now, period)
			lowest := cur - min(cur, uint64(skew))
			if c < minCounter || c < lowest || c > cur+uint64(skew) {
				t.Fatalf("counter %d outside the window %d±%d (min %d)", c, cur, skew, minCounter)
			}
			for l := max(lowest, minCounter); l <= c; l++ {
				if want, _ := HOTP(secret, l, p.Alg, digits); want == code {
					if l != c {
						t.Fatalf("counter %d matched, but %d matches too", c, l)
					}
					break
				}
				if l == c {
					t.Fatalf("counter %d does not give %q", c, code)
				}
			}
		} else if c != 0 {
			t.Fatalf("refused with counter %d", c)
		}
		if p.Check() != nil {
			return
		}
		own, err := Code(secret, now, p)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := Validate(secret, own, now, p, 0); !ok || got > Counter(now, period) {
			t.Fatalf("own code %q at %v: %d, %v", own, now, got, ok)
		}
	})
}

// FuzzDecodeSecret: DecodeSecret never panics, accepts only base32
// letters and digits (with exact padding), and what it accepts encodes
// back to the same bytes in as many symbols as the input had.
func FuzzDecodeSecret(f *testing.F) {
	for _, s := range []string{"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "gezdgnbvgy3tqojq", "JBSWY3DPEHPK3PXP", "MZXW6===", "MZXW6", "MZXW6=", "A", "ABC", "ABCDEF", "", "====", "AB CD", "AB-CD", "MZXW6YQ=", "0189", "AB\x00CD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeSecret(s)
		if err != nil {
			return
		}
		body := strings.TrimRight(strings.ToUpper(s), "=")
		if len(b) == 0 || strings.Trim(body, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("accepted %q as % x", s, b)
		}
		enc := EncodeSecret(b)
		if len(enc) != len(body) {
			t.Fatalf("%q decodes to %d bytes, which encode as %q", s, len(b), enc)
		}
		back, err := DecodeSecret(enc)
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("round trip of % x through %q: % x, %v", b, enc, back, err)
		}
	})
}
