package api

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verifyd/verify"
)

// FuzzParseForm: the lenient form parser never panics, and what it parses
// survives being re-encoded and parsed again, pair for pair and in order.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"", "FriendlyName=Example+Service", "To=%2B15017122661", "FriendlyName=a;b&Metadata={\"k\":\"x;y\"}",
		"Details.Fields=2&A=x&Details.Fields=1", "Binding.PublicKey=AAAA/bb+c=", "A&B=", "&&A=1&&", "N=John%E2%80%99s",
		"A=%zz", "A=abc%4", "A=100%", "%G1=x", "A=%00%FF", "=", "==&=%3D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseForm(s)
		if err != nil {
			return
		}
		if len(got) > strings.Count(s, "&")+1 {
			t.Fatalf("%d pairs from %d segments", len(got), strings.Count(s, "&")+1)
		}
		var enc []string
		for _, p := range got {
			enc = append(enc, url.QueryEscape(p.key)+"="+url.QueryEscape(p.value))
		}
		back, err := parseForm(strings.Join(enc, "&"))
		if err != nil || len(back) != len(got) {
			t.Fatalf("re-parse of %q: %v, %v", got, back, err)
		}
		for i := range got {
			if back[i] != got[i] {
				t.Fatalf("pair %d: %q, re-parsed %q", i, got[i], back[i])
			}
		}
	})
}

// FuzzPageToken: a cursor's token decodes to the same direction and
// cursor, and contains nothing twilio-go would strip (a dot). Times out of
// any database's range are fine: the stores compare them as numbers (checked
// on SQLite and PostgreSQL with a cursor in year 146 billion).
func FuzzPageToken(f *testing.F) {
	f.Add(true, int64(1700000000), uint32(0), "YC0123456789abcdef0123456789abcdef")
	f.Add(false, int64(-62135596800), uint32(999999999), "VA")
	f.Add(true, int64(1<<62), uint32(1), strings.Repeat("z", 64))
	f.Fuzz(func(t *testing.T, after bool, sec int64, nsec uint32, sid string) {
		if nsec >= 1e9 || len(sid) < 2 || len(sid) > 64 || strings.ContainsFunc(sid, func(r rune) bool {
			return !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
		}) {
			return // not a cursor a list can end on
		}
		dir := byte(dirBefore)
		if after {
			dir = dirAfter
		}
		c := verify.Cursor{Time: time.Unix(sec, int64(nsec)).UTC(), Sid: verify.Sid(sid)}
		tok := encodeToken(dir, c)
		if strings.Contains(tok, ".") {
			t.Fatalf("token %q has a dot", tok)
		}
		gotDir, got, err := decodeToken(tok)
		if err != nil || gotDir != dir || !got.Time.Equal(c.Time) || got.Sid != c.Sid {
			t.Fatalf("decode(encode(%c, %v)) = %c, %v, %v", dir, c, gotDir, got, err)
		}
	})
}

// FuzzDecodeToken: any PageToken a client sends either is refused or is
// the one token of its cursor, so that each cursor has one spelling.
func FuzzDecodeToken(f *testing.F) {
	f.Add(encodeToken(dirAfter, verify.Cursor{Time: time.Unix(1700000000, 5).UTC(), Sid: "YC0123456789abcdef0123456789abcdef"}))
	f.Add(encodeToken(dirBefore, verify.Cursor{Time: time.Unix(0, 0).UTC(), Sid: "YE"}))
	f.Add("PT")
	f.Add("PTYQ")
	f.Add("PT.1")
	f.Add("xx")
	f.Fuzz(func(t *testing.T, tok string) {
		dir, c, err := decodeToken(tok)
		if err != nil {
			return
		}
		if again := encodeToken(dir, c); again != tok {
			t.Fatalf("token %q decodes to %c %v, which encodes as %q", tok, dir, c, again)
		}
		if !verify.ValidText(string(c.Sid), false) {
			t.Fatalf("sid %q", c.Sid)
		}
	})
}
