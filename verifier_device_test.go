package verify_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"testing"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/jws"
)

// TestAuthenticateDeviceTimeClaims sends device JWTs whose nbf, exp and iat
// take extreme values. Before the claims were bounded, nbf = MinInt64+60
// and exp = MaxInt64-60 passed every check (exp-nbf wrapped to -121), which
// made the token valid for ever.
func TestAuthenticateDeviceTimeClaims(t *testing.T) {
	e := newBenchEnv(t)
	f, key := e.pushFactor(t, "user-0001")
	now := e.clock.t.Unix()
	const year = 365 * 24 * 3600
	for _, tc := range []struct {
		name   string
		claims string // the time claims, as raw JSON members
		ok     bool
	}{
		{"sdk", fmt.Sprintf(`"nbf":%d,"exp":%d`, now, now+600), true},
		{"sdk with iat", fmt.Sprintf(`"nbf":%d,"exp":%d,"iat":%d`, now, now+600, now), true},
		{"leeway", fmt.Sprintf(`"nbf":%d,"exp":%d`, now+60, now+660), true},
		{"forever", fmt.Sprintf(`"nbf":%d,"exp":%d`, int64(math.MinInt64+60), int64(math.MaxInt64-60)), false},
		{"min max", fmt.Sprintf(`"nbf":%d,"exp":%d`, int64(math.MinInt64), int64(math.MaxInt64)), false},
		{"max min", fmt.Sprintf(`"nbf":%d,"exp":%d`, int64(math.MaxInt64), int64(math.MinInt64)), false},
		{"negative nbf", fmt.Sprintf(`"nbf":-1,"exp":%d`, now+600), false},
		{"zero", `"nbf":0,"exp":600`, false},
		{"huge exp", fmt.Sprintf(`"nbf":%d,"exp":1000000000000000000`, now), false},
		{"past the int64 range", fmt.Sprintf(`"nbf":%d,"exp":99999999999999999999`, now), false},
		{"iat min", fmt.Sprintf(`"nbf":%d,"exp":%d,"iat":%d`, now, now+600, int64(math.MinInt64)), false},
		{"iat max", fmt.Sprintf(`"nbf":%d,"exp":%d,"iat":%d`, now, now+600, int64(math.MaxInt64)), false},
		{"iat two years ago", fmt.Sprintf(`"nbf":%d,"exp":%d,"iat":%d`, now, now+600, now-2*year), false},
		{"iat float", fmt.Sprintf(`"nbf":%d,"exp":%d,"iat":%d.5`, now, now+600, now), false},
		{"nbf float", fmt.Sprintf(`"nbf":%d.0,"exp":%d`, now, now+600), false},
		{"nbf exponent", fmt.Sprintf(`"nbf":%de0,"exp":%d`, now, now+600), false},
		{"exp string", fmt.Sprintf(`"nbf":%d,"exp":"%d"`, now, now+600), false},
		{"exp null", fmt.Sprintf(`"nbf":%d,"exp":null`, now), false},
		{"exp before nbf", fmt.Sprintf(`"nbf":%d,"exp":%d`, now, now-1), false},
		{"too long", fmt.Sprintf(`"nbf":%d,"exp":%d`, now-10, now+3600), false},
		{"beyond the year", fmt.Sprintf(`"nbf":%d,"exp":%d`, now-year-1, now+600), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := json.RawMessage(fmt.Sprintf(`{"sub":%q,%s}`, f.AccountSid, tc.claims))
			tok, err := jws.SignES256(key, map[string]string{"cty": verify.DeviceJWTType, "kid": string(f.Push.CredentialSid), "typ": "JWT", "alg": "ES256"}, payload)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.v.AuthenticateDevice(e.ctx, tok)
			if tc.ok {
				if err != nil || got.Sid != f.Sid {
					t.Fatalf("AuthenticateDevice = %v, %v; want factor %s", got, err, f.Sid)
				}
				return
			}
			if !verify.IsCode(err, verify.EAuthenticate) {
				t.Fatalf("AuthenticateDevice = %v, %v; want error %d", got, err, verify.EAuthenticate)
			}
		})
	}
}

// FuzzAuthenticateDevice signs fuzzed claims with the factor's real key,
// against a real SQLite store, and checks that a token is accepted only if
// its integer nbf and exp, computed without overflow, put now inside
// [nbf-60, exp+60) with 0 < exp-nbf <= 3600. A fuzzed token string of its
// own is never accepted (it has no valid signature), and every refusal is
// the 401 code, never an internal error.
func FuzzAuthenticateDevice(f *testing.F) {
	e := newBenchEnv(f)
	fa, key := e.pushFactor(f, "user-0001")
	now := e.clock.t.Unix()
	f.Add(fmt.Sprintf(`"nbf":%d,"exp":%d`, now, now+600), "")
	f.Add(fmt.Sprintf(`"nbf":%d,"exp":%d`, int64(math.MinInt64+60), int64(math.MaxInt64-60)), "")
	f.Add(fmt.Sprintf(`"nbf":%d,"exp":%d,"iat":1e300`, now, now+600), "a.b.c")
	f.Add(fmt.Sprintf(`"nbf":%d.0,"exp":%d`, now, now+600), "eyJhbGciOiJFUzI1NiJ9.e30.AAAA")
	f.Add(`"nbf":-9223372036854775808,"exp":9223372036854775807`, "..")
	hdr := map[string]string{"cty": verify.DeviceJWTType, "kid": string(fa.Push.CredentialSid), "typ": "JWT", "alg": "ES256"}
	f.Fuzz(func(t *testing.T, claims, raw string) {
		payload := fmt.Sprintf(`{"sub":%q,%s}`, fa.AccountSid, claims)
		if json.Valid([]byte(payload)) {
			tok, err := jws.SignES256(key, hdr, json.RawMessage(payload))
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.v.AuthenticateDevice(e.ctx, tok)
			if want := deviceTimesOK(payload, now); (err == nil) != want {
				t.Fatalf("claims %s: AuthenticateDevice = %v, want accepted %v", claims, err, want)
			}
			if err != nil && !verify.IsCode(err, verify.EAuthenticate) {
				t.Fatalf("claims %s: %v, want code %d", claims, err, verify.EAuthenticate)
			}
		}
		if got, err := e.v.AuthenticateDevice(e.ctx, raw); err == nil || !verify.IsCode(err, verify.EAuthenticate) {
			t.Fatalf("token %q: %v, %v", raw, got, err)
		}
	})
}

// deviceTimesOK restates the time rules with big integers: what
// AuthenticateDevice must decide for a payload signed by the right key
// with the right sub, now being the server's Unix time. The sub is the
// first member, so a fuzzed one after it wins, as in encoding/json.
func deviceTimesOK(payload string, now int64) bool {
	var c struct {
		Sub           string
		Nbf, Exp, Iat json.RawMessage
	}
	if json.Unmarshal([]byte(payload), &c) != nil || c.Sub != string(benchAccount) {
		return false
	}
	integer := func(raw json.RawMessage) (*big.Int, bool) {
		if raw == nil {
			return nil, true
		}
		n, ok := new(big.Int).SetString(string(raw), 10)
		return n, ok && n.IsInt64() // encoding/json refuses what int64 cannot hold
	}
	nbf, ok1 := integer(c.Nbf)
	exp, ok2 := integer(c.Exp)
	iat, ok3 := integer(c.Iat)
	if !ok1 || !ok2 || !ok3 || nbf == nil || exp == nil {
		return false
	}
	year := big.NewInt(365 * 24 * 3600)
	n := big.NewInt(now)
	lo, hi := new(big.Int).Sub(n, year), new(big.Int).Add(n, year)
	for _, v := range []*big.Int{nbf, exp, iat} {
		if v != nil && (v.Cmp(lo) < 0 || v.Cmp(hi) > 0) {
			return false
		}
	}
	life := new(big.Int).Sub(exp, nbf)
	if life.Sign() <= 0 || life.Cmp(big.NewInt(3600)) > 0 {
		return false
	}
	leeway := big.NewInt(60)
	return new(big.Int).Sub(nbf, leeway).Cmp(n) <= 0 && n.Cmp(new(big.Int).Add(exp, leeway)) < 0
}
