package api

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/verifyd/verify"
)

// dotDigit is what twilio-go deletes from the query strings it encodes.
var dotDigit = regexp.MustCompile(`\.\d+`)

func TestPageTokenRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prefixes := []string{"VA", "YE", "YF", "YC"}
	const hex = "0123456789abcdef"
	for i := 0; i < 5000; i++ {
		var sid strings.Builder
		sid.WriteString(prefixes[rng.IntN(len(prefixes))])
		for j := 0; j < 32; j++ {
			sid.WriteByte(hex[rng.IntN(len(hex))])
		}
		c := verify.Cursor{
			Time: time.Unix(rng.Int64N(1<<40)-(1<<39), rng.Int64N(1e9)).UTC(),
			Sid:  verify.Sid(sid.String()),
		}
		dir := byte(dirAfter)
		if rng.IntN(2) == 0 {
			dir = dirBefore
		}
		tok := encodeToken(dir, c)
		if strings.Contains(tok, ".") || dotDigit.MatchString(tok) {
			t.Fatalf("token %q contains a dot", tok)
		}
		if q := "PageToken=" + tok; dotDigit.ReplaceAllString(q, "") != q {
			t.Fatalf("twilio-go would alter %q", q)
		}
		gotDir, got, err := decodeToken(tok)
		if err != nil {
			t.Fatalf("decodeToken(%q): %v", tok, err)
		}
		if gotDir != dir {
			t.Fatalf("direction = %c, want %c", gotDir, dir)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Fatalf("cursor mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestPageTokenMalformed(t *testing.T) {
	good := encodeToken(dirAfter, verify.Cursor{Time: time.Unix(1700000000, 0), Sid: "VA0123456789abcdef0123456789abcdef"})
	for _, tok := range []string{
		"",
		"PT",
		"XX" + good[2:],
		good + "!",
		good[:10],
		"PAYF33333333333333333333333333333333", // Twilio's own format
		"PT" + "eA",                            // too short
		strings.Replace(good, "PTY", "PTZ", 1), // wrong direction byte
		// Unused low bits set: the same cursor as ...Y00 (FuzzDecodeToken,
		// testdata/fuzz/FuzzDecodeToken/nonzero-unused-bits).
		"PTYX0000000000A0000010Y01",
		// A line break, which base64 decoding skips (the same fuzzer,
		// testdata/fuzz/FuzzDecodeToken/carriage-return).
		"PTYX0000000000A0\r000000",
		good[:20] + "\n" + good[20:],
	} {
		if _, _, err := decodeToken(tok); err == nil {
			t.Errorf("decodeToken(%q) succeeded, want an error", tok)
		}
	}
}

func TestReadPage(t *testing.T) {
	ok := []struct {
		query string
		size  int
		num   int
	}{
		{"", 50, 0},
		{"PageSize=1&Page=3", 1, 3},
		{"PageSize=1000", 1000, 0},
	}
	for _, tt := range ok {
		f, _ := parseForm(tt.query)
		pr, err := readPage(&params{form: f, code: verify.EPushParam})
		if err != nil {
			t.Fatalf("%q: %v", tt.query, err)
		}
		if pr.page.Size != tt.size || pr.num != tt.num {
			t.Errorf("%q: size %d page %d, want %d %d", tt.query, pr.page.Size, pr.num, tt.size, tt.num)
		}
	}
	tok := encodeToken(dirBefore, verify.Cursor{Time: time.Unix(1700000000, 0), Sid: "YC0123456789abcdef0123456789abcdef"})
	f, _ := parseForm("pageToken=" + tok)
	pr, err := readPage(&params{form: f, code: verify.EPushParam})
	if err != nil || pr.page.Before == nil || pr.page.After != nil {
		t.Errorf("lower-case pageToken not read as a Before cursor: %+v, %v", pr.page, err)
	}
	for _, q := range []string{"PageSize=0", "PageSize=1001", "PageSize=x", "Page=-1", "Page=1.0", "PageToken=PT.1"} {
		f, _ := parseForm(q)
		_, err := readPage(&params{form: f, code: verify.EInvalidParam})
		if got := verify.ErrorCode(err); got != verify.EInvalidParam {
			t.Errorf("%q: code %d, want %d", q, got, verify.EInvalidParam)
		}
	}
}
