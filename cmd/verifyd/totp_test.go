package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify/otp"
)

// codes hands out TOTP codes the way a well-behaved authenticator does over
// a test that runs faster than the clock: each code is for a time step after
// the last one used (the server refuses replays), within the factor's skew.
type codes struct {
	secret []byte
	p      otp.Params
	last   int64 // last step handed out; -1 for none
}

func newCodes(t *testing.T, base32 string, p otp.Params) *codes {
	t.Helper()
	s, err := otp.DecodeSecret(base32)
	if err != nil {
		t.Fatalf("binding secret %q: %v", base32, err)
	}
	return &codes{secret: s, p: p, last: -1}
}

// next returns a code for a step not used before. It starts at the earliest
// step the skew allows (less one, as a margin for a step boundary passing
// mid-request) and fails the test if the window is used up.
func (c *codes) next(t *testing.T) string {
	t.Helper()
	cur := int64(otp.Counter(time.Now(), c.p.Period))
	step := max(c.last+1, cur-int64(c.p.Skew)+1)
	if step > cur+int64(c.p.Skew)-1 && step > cur {
		t.Fatalf("test used more TOTP codes than the skew window allows")
	}
	c.last = step
	code, err := otp.HOTP(c.secret, uint64(step), c.p.Alg, c.p.Digits)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// wrong returns a well-formed code that matches no step of the window.
func (c *codes) wrong(t *testing.T) string {
	t.Helper()
	valid := c.near()
	for d := '0'; d <= '9'; d++ {
		cand := strings.Repeat(string(d), c.p.Digits)
		if !valid[cand] {
			return cand
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

// wrongN returns n distinct well-formed codes that match no step of the
// window.
func (c *codes) wrongN(t *testing.T, n int) []string {
	t.Helper()
	seen := c.near()
	var out []string
	for i := 0; len(out) < n; i++ {
		cand := fmt.Sprintf("%0*d", c.p.Digits, (i*7919+13)%int(math.Pow10(c.p.Digits)))
		if !seen[cand] {
			seen[cand] = true
			out = append(out, cand)
		}
	}
	return out
}

// near is the set of codes of the steps around now, beyond the skew.
func (c *codes) near() map[string]bool {
	cur := int64(otp.Counter(time.Now(), c.p.Period))
	valid := map[string]bool{}
	for s := cur - 3; s <= cur+3; s++ {
		code, _ := otp.HOTP(c.secret, uint64(s), c.p.Alg, c.p.Digits)
		valid[code] = true
	}
	return valid
}
