package verify_test

import (
	"encoding/json"
	"fmt"
	"math"
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
