package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/verifyd/verify"
)

// awkward are strings whose JSON encoding takes every escape there is:
// quotes, backslashes, control bytes with and without a short form, HTML
// characters (not escaped: writeJSON turns HTML escaping off), multi-byte
// UTF-8, U+2028/U+2029, invalid UTF-8, and a rune cut off at the end.
var awkward = []string{
	"", "plain", `Alice's "work" phone`, `back\slash`, "tab\tnew\nline\rcr",
	"\b\f\x00\x01\x1f\x7f", "<script>&amp;</script>", "Ünïcødé ✓ 電話 😀",
	"line\u2028sep\u2029para", "bad \xff\xfe utf8", "cut \xe2\x82", "\xc0\x80 overlong",
	"\xed\xa0\x80 surrogate", strings.Repeat("x", 300),
}

// jsonEncoded is v as writeJSON encodes it.
func jsonEncoded(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range awkward {
		if got, want := appendString(nil, s), jsonEncoded(t, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
		for _, a := range awkward {
			if utf8.ValidString(a) { // appendJoined's condition
				if got, want := appendJoined(nil, a, s), jsonEncoded(t, a+s); !bytes.Equal(got, want) {
					t.Errorf("appendJoined(%q, %q) = %s, want %s", a, s, got, want)
				}
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendString(nil, s), jsonEncoded(t, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// listFactors are factors of both types and of neither, with every kind of
// optional field set and unset.
func listFactors() []*verify.Factor {
	paris := time.FixedZone("CEST", 2*3600)
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	base := func(i int, name string) *verify.Factor {
		return &verify.Factor{
			Sid:        verify.Sid("YF0123456789abcdef0123456789abcd" + string(rune('a'+i/26)) + string(rune('a'+i%26))),
			AccountSid: "AC0123456789abcdef0123456789abcdef", ServiceSid: "VA0123456789abcdef0123456789abcdef",
			EntitySid: "YE0123456789abcdef0123456789abcdef", Identity: "user 0001/ü",
			FriendlyName: name, Type: verify.FactorTotp, Status: verify.FactorVerified,
			DateCreated: t0.Add(time.Duration(i) * time.Second), DateUpdated: t0.Add(time.Hour),
		}
	}
	var fs []*verify.Factor
	for i, name := range awkward {
		f := base(i, name)
		switch i % 3 {
		case 0:
			f.Totp = &verify.TotpFactor{Secret: []byte("s3cret"), Alg: "sha256", CodeLength: 8, TimeStep: 60, Skew: 2}
			f.Metadata = map[string]string{name: "v", "os": name, "a": "", "\u2028": "z", "Z": "ü"}
		case 1:
			f.Type, f.Status = verify.FactorPush, verify.FactorUnverified
			f.Push = &verify.PushFactor{PublicKey: []byte{1, 2}, Alg: "ES256", CredentialSid: "YC0123456789abcdef0123456789abcdef",
				SdkVersion: "1.0.0", AppID: name, NotificationPlatform: "fcm", NotificationToken: name}
			f.Metadata = map[string]string{}
			f.DateCreated = f.DateCreated.Add(987654321).In(paris) // not UTC, not whole seconds
		case 2:
			f.Type = "other" // neither part: config {}
			f.DateUpdated = time.Time{}
		}
		fs = append(fs, f)
	}
	// A push factor without a notification token (omitempty) nor metadata.
	f := base(len(fs), "no token")
	f.Type = verify.FactorPush
	f.Push = &verify.PushFactor{Alg: "ES256", CredentialSid: "YC0123456789abcdef0123456789abcdee", NotificationPlatform: "none"}
	fs = append(fs, f)
	// A factor of another entity path: its url is built on its own.
	f = base(len(fs), "elsewhere")
	f.Identity = "someone-else"
	f.Totp = &verify.TotpFactor{Alg: "sha1", CodeLength: 6, TimeStep: 30, Skew: 1}
	return append(fs, f)
}

// TestWriteFactorListMatchesWriteList compares the hand-written factor page
// with what writeList renders through encoding/json: same status, headers
// and bytes, for first, forward, backward, last and empty pages.
func TestWriteFactorListMatchesWriteList(t *testing.T) {
	items := listFactors()
	c := verify.Cursor{Time: time.Date(2029, 1, 1, 0, 0, 0, 5, time.UTC), Sid: "YF0123456789abcdef0123456789abcdef"}
	pages := map[string]pageRequest{
		"first":    {page: verify.Page{Size: 50}},
		"after":    {page: verify.Page{Size: 20, After: &c}, num: 3, token: encodeToken(dirAfter, c)},
		"before":   {page: verify.Page{Size: 7, Before: &c}, num: 1, token: encodeToken(dirBefore, c)},
		"odd page": {page: verify.Page{Size: 1000}, num: 1000000},
	}
	for _, baseURL := range []string{"http://127.0.0.1:4010", "https://verify.example.com/ü\xff"} {
		s := &Server{BaseURL: baseURL}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for name, pr := range pages {
			for _, more := range []bool{false, true} {
				for _, n := range []int{0, 1, len(items)} {
					for _, identity := range []string{"user 0001/ü", "someone-else"} {
						service := verify.Sid("VA0123456789abcdef0123456789abcdef")
						want := httptest.NewRecorder()
						writeList(s, want, r, "factors", s.entityURL(service, identity)+"/Factors", nil, pr, items[:n], more,
							factorCursor, func(f *verify.Factor) any { return s.factorJSON(f) })
						got := httptest.NewRecorder()
						s.writeFactorList(got, service, identity, pr, items[:n], more)
						if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
							t.Fatalf("%s page, more %v, %d items, %s: got %d\n%s\nwant %d\n%s",
								name, more, n, baseURL, got.Code, got.Body, want.Code, want.Body)
						}
						for _, h := range []string{"Content-Type", "Content-Length"} {
							if g, w := got.Header().Get(h), want.Header().Get(h); g != w {
								t.Errorf("%s: %q, want %q", h, g, w)
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkWriteFactorList renders the same page of 50 TOTP factors as
// BenchmarkWriteFactorPage (encoding/json), with the hand-written encoder.
func BenchmarkWriteFactorList(b *testing.B) {
	s := &Server{BaseURL: "http://127.0.0.1:4010"}
	items := benchFactorPage()
	pr := pageRequest{page: verify.Page{Size: 50}}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.writeFactorList(w, "VA"+benchSid, "user-0001", pr, items, true)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
