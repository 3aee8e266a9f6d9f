package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// Micro-benchmarks of the transport's hot paths: what every challenge
// request parses, and what push answers and factor lists render. Run with
// go test -bench . -benchmem ./api.

const benchSid = "0123456789abcdef0123456789abcdef"

// benchTotpBody is a TOTP challenge as twilio-go sends it.
var benchTotpBody = "FactorSid=YF" + benchSid + "&AuthPayload=123456"

// benchPushBody is a device's push answer: an AuthPayload JWT of about the
// size the SDKs send (a signed challenge with details and hidden details).
var benchPushBody = "AuthPayload=" + strings.Repeat("eyJhbGciOiJFUzI1NiJ9", 40) + "." + strings.Repeat("A", 86)

// benchCreateBody is a push challenge create with details, as a backend
// sends it (percent-escaped JSON values).
var benchCreateBody = url.Values{
	"FactorSid":       {"YF" + benchSid},
	"Details.Message": {"Log in to Example?"},
	"Details.Fields":  {`{"label":"IP","value":"203.0.113.7"}`, `{"label":"Location","value":"Lisbon, PT"}`},
	"HiddenDetails":   {`{"ip":"203.0.113.7"}`},
}.Encode()

func BenchmarkParseForm(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"totp-challenge", benchTotpBody},
		{"push-answer", benchPushBody},
		{"push-create", benchCreateBody},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				f, err := parseForm(bc.body)
				if err != nil || len(f) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadParams is parseForm plus what a handler does around it: the
// Content-Type check, reading the body and the typed lookups.
func BenchmarkReadParams(b *testing.B) {
	r := httptest.NewRequest(http.MethodPost, "/v2/Services/VA"+benchSid+"/Entities/user-0001/Challenges", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(strings.NewReader(benchTotpBody))
		p, err := readParams(r, verify.EPushParam)
		if err != nil || p.str("FactorSid") == nil || p.str("AuthPayload") == nil {
			b.Fatal(err)
		}
	}
}

func benchChallenge() *verify.Challenge {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return &verify.Challenge{
		Sid: "YC" + benchSid, AccountSid: "AC" + benchSid, ServiceSid: "VA" + benchSid, EntitySid: "YE" + benchSid,
		Identity: "user-0001", FactorSid: "YF" + benchSid, FactorType: verify.FactorPush, Status: verify.ChallengePending,
		RespondedReason: verify.ReasonNone,
		Details:         verify.ChallengeDetails{Message: "Log in?", Fields: []verify.DetailField{{Label: "IP", Value: "203.0.113.7"}}},
		HiddenDetails:   map[string]string{"ip": "203.0.113.7"},
		ExpirationDate:  now.Add(5 * time.Minute), DateCreated: now, DateUpdated: now,
	}
}

// BenchmarkChallengeView is the rendering a push answer is compared with:
// the challenge marshalled to JSON and decoded back into a map.
func BenchmarkChallengeView(b *testing.B) {
	s := &Server{BaseURL: "http://127.0.0.1:4010"}
	c := benchChallenge()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.challengeView(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteChallenge is the answer to a challenge create or update.
func BenchmarkWriteChallenge(b *testing.B) {
	s := &Server{BaseURL: "http://127.0.0.1:4010"}
	c := benchChallenge()
	b.ReportAllocs()
	for b.Loop() {
		s.writeChallenge(httptest.NewRecorder(), http.StatusCreated, c)
	}
}

// benchFactorPage is one page of 50 TOTP factors, as the store returns
// them for GET …/Factors?PageSize=50.
func benchFactorPage() []*verify.Factor {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	items := make([]*verify.Factor, 50)
	for i := range items {
		items[i] = &verify.Factor{
			Sid: verify.Sid("YF" + benchSid[:30] + string(rune('a'+i%26)) + string(rune('a'+i/26))), AccountSid: "AC" + benchSid,
			ServiceSid: "VA" + benchSid, EntitySid: "YE" + benchSid, Identity: "user-0001", FriendlyName: "phone",
			Type: verify.FactorTotp, Status: verify.FactorVerified, DateCreated: now, DateUpdated: now,
			Totp: &verify.TotpFactor{Alg: "sha1", CodeLength: 6, TimeStep: 30, Skew: 1},
		}
	}
	return items
}

// BenchmarkWriteFactorPage renders one page of 50 TOTP factors with the
// generic encoding/json list writer, the reference for
// BenchmarkWriteFactorList.
func BenchmarkWriteFactorPage(b *testing.B) {
	s := &Server{BaseURL: "http://127.0.0.1:4010"}
	items := benchFactorPage()
	pr := pageRequest{page: verify.Page{Size: 50}}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	base := s.entityURL("VA"+benchSid, "user-0001") + "/Factors"
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		writeList(s, w, r, "factors", base, nil, pr, items, true,
			func(f *verify.Factor) verify.Cursor { return verify.Cursor{Time: f.DateCreated, Sid: f.Sid} },
			func(f *verify.Factor) any { return s.factorJSON(f) })
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
