package otp

import (
	"bytes"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"
)

var rfcSecret = []byte("12345678901234567890")

func TestHOTPRFC4226(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314",
		"254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, err := HOTP(rfcSecret, uint64(i), "sha1", 6)
			if err != nil || got != w {
				t.Fatalf("HOTP(counter %d) = %q, %v; want %q", i, got, err, w)
			}
		})
	}
}

func TestHOTPErrors(t *testing.T) {
	tests := []struct {
		name   string
		alg    string
		digits int
	}{
		{"bad alg", "md5", 6},
		{"upper alg", "SHA1", 6},
		{"digits 2", "sha1", 2},
		{"digits 9", "sha1", 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := HOTP(rfcSecret, 0, tc.alg, tc.digits); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestTOTPRFC6238(t *testing.T) {
	seeds := map[string][]byte{
		"sha1":   []byte("12345678901234567890"),
		"sha256": []byte("12345678901234567890123456789012"),
		"sha512": []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	times := []int64{59, 1111111109, 1111111111, 1234567890, 2000000000, 20000000000}
	want := map[string][]string{
		"sha1":   {"94287082", "07081804", "14050471", "89005924", "69279037", "65353130"},
		"sha256": {"46119246", "68084774", "67062674", "91819424", "90698825", "77737706"},
		"sha512": {"90693936", "25091201", "99943326", "93441116", "38618901", "47863826"},
	}
	for alg, codes := range want {
		for i, ts := range times {
			t.Run(alg+"/"+strconv.FormatInt(ts, 10), func(t *testing.T) {
				p := Params{Alg: alg, Digits: 8, Period: 30}
				got, err := Code(seeds[alg], time.Unix(ts, 0), p)
				if err != nil || got != codes[i] {
					t.Fatalf("Code = %q, %v; want %q", got, err, codes[i])
				}
			})
		}
	}
}

func TestCounter(t *testing.T) {
	tests := []struct {
		name   string
		t      time.Time
		period int
		want   uint64
	}{
		{"epoch", time.Unix(0, 0), 30, 0},
		{"59s", time.Unix(59, 0), 30, 1},
		{"60s", time.Unix(60, 0), 30, 2},
		{"before 1970", time.Unix(-100, 0), 30, 0},
		{"zero period", time.Unix(100, 0), 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Counter(tc.t, tc.period); got != tc.want {
				t.Fatalf("Counter = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParamsCheck(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"valid", Params{"sha1", 6, 30, 1}, true},
		{"valid edges", Params{"sha512", 8, 1, 2}, true},
		{"digits 3", Params{"sha256", 3, 60, 0}, true},
		{"bad alg", Params{"sha384", 6, 30, 1}, false},
		{"digits 2", Params{"sha1", 2, 30, 1}, false},
		{"digits 9", Params{"sha1", 9, 30, 1}, false},
		{"period 0", Params{"sha1", 6, 0, 1}, false},
		{"skew -1", Params{"sha1", 6, 30, -1}, false},
		{"skew 3", Params{"sha1", 6, 30, 3}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Check(); (err == nil) != tc.ok {
				t.Fatalf("Check() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	now := time.Unix(1234567890, 0)
	p := Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1}
	cur := Counter(now, p.Period)
	at := func(c uint64, digits int) string {
		code, err := HOTP(rfcSecret, c, p.Alg, digits)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	tests := []struct {
		name   string
		code   string
		p      Params
		min    uint64
		want   uint64
		wantOK bool
	}{
		{"current", at(cur, 6), p, 0, cur, true},
		{"minus skew", at(cur-1, 6), p, 0, cur - 1, true},
		{"plus skew", at(cur+1, 6), p, 0, cur + 1, true},
		{"minus 2 refused", at(cur-2, 6), p, 0, 0, false},
		{"plus 2 refused", at(cur+2, 6), p, 0, 0, false},
		{"skew 2 accepts -2", at(cur-2, 6), Params{"sha1", 6, 30, 2}, 0, cur - 2, true},
		{"skew 0 refuses -1", at(cur-1, 6), Params{"sha1", 6, 30, 0}, 0, 0, false},
		{"min equals counter", at(cur, 6), p, cur, cur, true},
		{"replay refused", at(cur, 6), p, cur + 1, 0, false},
		{"min skips earlier step", at(cur-1, 6), p, cur, 0, false},
		{"too short", at(cur, 6)[:5], p, 0, 0, false},
		{"too long", at(cur, 6) + "0", p, 0, 0, false},
		{"leading space", " " + at(cur, 6)[1:], p, 0, 0, false},
		{"trailing space", at(cur, 6)[:5] + " ", p, 0, 0, false},
		{"padded with space", " " + at(cur, 6), p, 0, 0, false},
		{"plus sign", "+" + at(cur, 6)[1:], p, 0, 0, false},
		{"non-digit", "12a456", p, 0, 0, false},
		{"unicode digit", "١٢٣٤٥٦", p, 0, 0, false},
		{"empty", "", p, 0, 0, false},
		{"invalid params", at(cur, 6), Params{"sha1", 6, 30, 5}, 0, 0, false},
		{"3 digits", at(cur, 3), Params{"sha1", 3, 30, 1}, 0, cur, true},
		{"8 digits", at(cur+1, 8), Params{"sha1", 8, 30, 1}, 0, cur + 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Validate(rfcSecret, tc.code, now, tc.p, tc.min)
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("Validate(%q) = %d, %v; want %d, %v", tc.code, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestValidateLowestMatch(t *testing.T) {
	// With 3 digits and skew 2, search for a time whose window has one
	// code at two steps; Validate must report the lower counter.
	p := Params{Alg: "sha1", Digits: 3, Period: 30, Skew: 2}
	for c := uint64(10); c < 100000; c++ {
		codes := map[string]uint64{}
		for s := c - 2; s <= c+2; s++ {
			code, _ := HOTP(rfcSecret, s, p.Alg, p.Digits)
			if low, dup := codes[code]; dup {
				now := time.Unix(int64(c)*30, 0)
				got, ok := Validate(rfcSecret, code, now, p, 0)
				if !ok || got != low {
					t.Fatalf("Validate = %d, %v; want lowest %d (also at %d)", got, ok, low, s)
				}
				if got, ok := Validate(rfcSecret, code, now, p, low+1); !ok || got != s {
					t.Fatalf("with minCounter: Validate = %d, %v; want %d", got, ok, s)
				}
				return
			}
			codes[code] = s
		}
	}
	t.Fatal("no duplicate code found in any window")
}

func TestValidateNearEpoch(t *testing.T) {
	p := Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 2}
	code, _ := HOTP(rfcSecret, 0, "sha1", 6)
	if got, ok := Validate(rfcSecret, code, time.Unix(31, 0), p, 0); !ok || got != 0 {
		t.Fatalf("Validate = %d, %v; want 0, true", got, ok)
	}
}

func TestSecretEncoding(t *testing.T) {
	for n := 1; n <= 40; n++ {
		b := bytes.Repeat([]byte{byte(n * 7)}, n)
		b[0] = byte(n)
		s := EncodeSecret(b)
		if strings.Contains(s, "=") || strings.ToUpper(s) != s {
			t.Fatalf("EncodeSecret(%d bytes) = %q: want upper case, no padding", n, s)
		}
		got, err := DecodeSecret(s)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("round trip of %d bytes: %x, %v", n, got, err)
		}
	}
	want := []byte("1234567890")
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"upper", "GEZDGNBVGY3TQOJQ", true},
		{"lower", "gezdgnbvgy3tqojq", true},
		{"mixed", "GeZdGnBvGy3TqOjQ", true},
		{"padded", "GEZDGNBVGY3TQOJQGE======", true},
		{"unpadded short", "GEZDGNBVGY3TQOJQGE", true},
		{"lower padded", "gezdgnbvgy3tqojqge======", true},
		{"empty", "", false},
		{"only padding", "========", false},
		{"space", "GEZDGNBV GY3TQOJQ", false},
		{"trailing space", "GEZDGNBVGY3TQOJQ ", false},
		{"dash", "GEZDGNBV-GY3TQOJQ", false},
		{"newline", "GEZDGNBV\nGY3TQOJQ", false},
		{"invalid char 1", "GEZDGNBVGY3TQOJ1", false},
		{"invalid char 8", "GEZDGNBVGY3TQOJ8", false},
		{"bad length 9", "GEZDGNBVG", false},
		{"bad length 11", "GEZDGNBVGY3", false},
		{"bad length 14", "GEZDGNBVGY3TQO", false},
		{"wrong padding", "GEZDGNBVGY3TQOJQGE==", false},
		{"padding inside", "GE=ZDGNBVGY3TQOJQ", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeSecret(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("DecodeSecret(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if tc.ok && !bytes.HasPrefix(append(want, '1', '2'), got) {
				t.Fatalf("DecodeSecret(%q) = %q", tc.in, got)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	tests := []struct {
		n  int
		ok bool
	}{{10, true}, {20, true}, {64, true}, {9, false}, {0, false}, {-1, false}}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.n), func(t *testing.T) {
			b, err := NewSecret(rand.Reader, tc.n)
			if (err == nil) != tc.ok || (tc.ok && len(b) != tc.n) {
				t.Fatalf("NewSecret(%d) = %d bytes, %v", tc.n, len(b), err)
			}
		})
	}
	t.Run("short reader", func(t *testing.T) {
		if _, err := NewSecret(bytes.NewReader(make([]byte, 5)), 10); err == nil {
			t.Fatal("want error from short reader")
		}
	})
}

func TestURI(t *testing.T) {
	secret, err := DecodeSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	if err != nil {
		t.Fatal(err)
	}
	p := Params{Alg: "sha1", Digits: 6, Period: 30}
	tests := []struct {
		name, issuer, account string
		p                     Params
		want                  string
	}{
		{"twilio example", "test-issuer", "John\u2019s Account Name", p,
			"otpauth://totp/test-issuer:John%E2%80%99s%20Account%20Name?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=test-issuer&algorithm=SHA1&digits=6&period=30"},
		{"no issuer", "", "alice", Params{"sha256", 8, 60, 0},
			"otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA256&digits=8&period=60"},
		{"escaping", "Acme: Inc&Co", "a:b/c", Params{"sha512", 6, 30, 1},
			"otpauth://totp/Acme%3A%20Inc&Co:a%3Ab%2Fc?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%3A+Inc%26Co&algorithm=SHA512&digits=6&period=30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := URI(tc.issuer, tc.account, secret, tc.p); got != tc.want {
				t.Fatalf("URI =\n %s\nwant\n %s", got, tc.want)
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	secret := []byte("12345678901234567890")
	p := Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1}
	now := time.Unix(1234567890, 0)
	code, err := Code(secret, now, p)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, ok := Validate(secret, code, now, p, 0); !ok {
			b.Fatal("code not accepted")
		}
	}
}

// TestWindow checks that a window computed before the code is known
// accepts exactly what Validate accepts, for every step around now, every
// skew and minimum counter, and refuses malformed codes and invalid Params.
func TestWindow(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1234567890, 0)
	for skew := 0; skew <= 2; skew++ {
		p := Params{Alg: "sha1", Digits: 6, Period: 30, Skew: skew}
		cur := Counter(now, p.Period)
		for _, minCounter := range []uint64{0, cur, cur + 1, cur + 3} {
			w := NewWindow(secret, now, p, minCounter)
			for c := cur - 3; c <= cur+3; c++ {
				code, err := HOTP(secret, c, p.Alg, p.Digits)
				if err != nil {
					t.Fatal(err)
				}
				gotC, gotOK := w.Match(code)
				wantC, wantOK := Validate(secret, code, now, p, minCounter)
				inWindow := c+uint64(skew) >= cur && c <= cur+uint64(skew) && c >= minCounter
				if gotC != wantC || gotOK != wantOK || gotOK != inWindow || (gotOK && gotC != c) {
					t.Errorf("skew %d, min %d, step %d: Match = %d, %v; Validate = %d, %v; in window %v",
						skew, minCounter, c, gotC, gotOK, wantC, wantOK, inWindow)
				}
			}
		}
	}
	p := Params{Alg: "sha1", Digits: 6, Period: 30, Skew: 1}
	w := NewWindow(secret, now, p, 0)
	code, _ := Code(secret, now, p)
	for _, bad := range []string{"", code[:5], code + "0", " " + code[1:], code[:5] + "x", "-" + code[1:]} {
		if _, ok := w.Match(bad); ok {
			t.Errorf("Match(%q) accepted", bad)
		}
	}
	invalid := NewWindow(secret, now, Params{Alg: "md5", Digits: 6, Period: 30}, 0)
	if _, ok := invalid.Match(code); ok {
		t.Error("a window of invalid Params matched")
	}
	var zero Window
	if _, ok := zero.Match(code); ok {
		t.Error("the zero Window matched")
	}
}
