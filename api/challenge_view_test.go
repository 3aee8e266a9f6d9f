package api

import (
	"reflect"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// TestChallengeViewMatchesJSON: the directly built view of every signed
// field equals what a device gets by decoding the GET response, for
// challenges with and without each optional part, and with strings JSON
// escapes or rewrites.
func TestChallengeViewMatchesJSON(t *testing.T) {
	s := &Server{BaseURL: "https://verify.example"}
	base, cases := challengeCases()
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			c := base
			edit(&c)
			got, err := s.challengeView(&c)
			if err != nil {
				t.Fatal(err)
			}
			want, err := roundTrip(s.challengeJSON(&c))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range verify.SignatureFields {
				if _, ok := got[f]; !ok {
					t.Errorf("%s missing", f)
				}
				if !reflect.DeepEqual(got[f], want[f]) {
					t.Errorf("%s = %#v, JSON gives %#v", f, got[f], want[f])
				}
			}
		})
	}
}

// challengeCases is a challenge and edits of it that reach every optional
// part of its JSON, with strings JSON escapes or rewrites.
func challengeCases() (verify.Challenge, map[string]func(c *verify.Challenge)) {
	t0 := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	responded := t0.Add(time.Minute)
	base := verify.Challenge{
		Sid: "YC0123456789abcdef0123456789abcdef", AccountSid: "AC0123456789abcdef0123456789abcdef",
		ServiceSid: "VA0123456789abcdef0123456789abcdef", EntitySid: "YE0123456789abcdef0123456789abcdef",
		Identity: "ff483d1f-7e5a-4b2b-a6b1-000000000001", FactorSid: "YF0123456789abcdef0123456789abcdef",
		FactorType: verify.FactorPush, Status: verify.ChallengePending,
		ExpirationDate: t0.Add(5 * time.Minute), DateCreated: t0, DateUpdated: t0,
	}
	cases := map[string]func(c *verify.Challenge){
		"bare":    func(c *verify.Challenge) {},
		"message": func(c *verify.Challenge) { c.Details.Message = "Log in to <Acme> & \"more\" ✓" },
		"fields": func(c *verify.Challenge) {
			c.Details.Message = "m"
			c.Details.Fields = []verify.DetailField{{Label: "IP", Value: "1.2.3.4"}, {Label: "", Value: "\u2028\n\t"}}
		},
		"date":            func(c *verify.Challenge) { c.Details.Date = &t0 },
		"empty hidden":    func(c *verify.Challenge) { c.HiddenDetails = map[string]string{} },
		"hidden":          func(c *verify.Challenge) { c.HiddenDetails = map[string]string{"ip": "1.2.3.4", "ü": "<>"} },
		"responded":       func(c *verify.Challenge) { c.Status = verify.ChallengeApproved; c.DateResponded = &responded },
		"invalid utf-8":   func(c *verify.Challenge) { c.Details.Message = "bad \xff\xfe bytes" },
		"invalid in maps": func(c *verify.Challenge) { c.HiddenDetails = map[string]string{"k": "\xc3"} },
	}
	return base, cases
}
