package verify

import (
	"encoding/json"
	"maps"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets of the root package's validators. Each property is
// checked against a second, independent statement of the documented shape.
// The seeds run as ordinary tests; .ci/run fuzzes each target for a few
// seconds.

var identityShape = regexp.MustCompile(`^[0-9A-Za-z]+(-[0-9A-Za-z]+)*$`)

func FuzzValidIdentity(f *testing.F) {
	for _, s := range []string{"user-0001", "ff483d1ff591898a9942916050d2ca3f", "-leading", "trailing-", "a--b-cdef", "ünïcode-id", "a\x00bcdefgh", strings.Repeat("a", 65), ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s) >= 8 && len(s) <= 64 && identityShape.MatchString(s)
		if got := ValidIdentity(s); got != want {
			t.Fatalf("ValidIdentity(%q) = %v, want %v", s, got, want)
		}
	})
}

var sidShape = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

func FuzzSidValid(f *testing.F) {
	f.Add("YF0123456789abcdef0123456789abcdef", "YF")
	f.Add("YF0123456789ABCDEF0123456789abcdef", "YF")
	f.Add("YC0123456789abcdef0123456789abcdeg", "YC")
	f.Add("yf0123456789abcdef0123456789abcdef", "YF")
	f.Add("VA0123456789abcdef0123456789abcdef0", "VA")
	f.Add("\xff\xfe0123456789abcdef0123456789abcdef", "\xff\xfe")
	f.Fuzz(func(t *testing.T, s, prefix string) {
		want := len(s) == 34 && len(prefix) == 2 && s[:2] == prefix && sidShape.MatchString(s[2:])
		if got := Sid(s).Valid(prefix); got != want {
			t.Fatalf("Sid(%q).Valid(%q) = %v, want %v", s, prefix, got, want)
		}
	})
}

// textOracle is ValidText restated with the unicode package: valid UTF-8
// and no rune for which unicode.IsControl holds (C0, DEL and C1), save tab,
// LF and CR in multi-line text.
func textOracle(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\t' || r == '\n' || r == '\r')) {
			return false
		}
	}
	return true
}

func FuzzValidText(f *testing.F) {
	for _, s := range []string{"Alice's phone", "two\nlines", "nul\x00", "\x1b[2J", "\u0085", "\xff", "\xed\xa0\x80", "日本語 🙂", "\x7f", "\ufffd"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		if got, want := ValidText(s, multiline), textOracle(s, multiline); got != want {
			t.Fatalf("ValidText(%q, %v) = %v, want %v", s, multiline, got, want)
		}
	})
}

// FuzzParseStringMap: whatever Metadata or HiddenDetails a client sends,
// an accepted map holds only text, came from valid UTF-8 without a repeated
// key, and survives being written out as JSON and read back.
func FuzzParseStringMap(f *testing.F) {
	for _, s := range []string{`{"os":"Android"}`, `"{\"ip\":\"172.168.1.234\"}"`, `null`, `{}`, `{"a":"1","a":"2"}`,
		`{"a":"\u0000"}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":{"b":"c"}}`, `["a"]`, `{"n":1}`, `"null"`, `{"a":"x\ny"}`} {
		f.Add(s)
	}
	for _, s := range []string{` { "a" : "b" , "c":"d" } `, `{"a":"b",}`, `{"a":"b"} x`, "{\"a\":\"x\ty\"}", "{\"a\":\"\x7f\"}",
		"{\"a\":\"\u0085\"}", `{"a":"b","a":"b"}`, `{"":""}`, `{"a":"b"`, `{"a" "b"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := ParseStringMap(raw)
		// The quick path answers only what the full path answers alike.
		if quick, ok := plainStringMap(raw); ok {
			if full, err := parseStringMap(raw); err != nil || !maps.Equal(quick, full) || (quick == nil) != (full == nil) {
				t.Fatalf("quick path: %q gave %v, the full path %v, %v", raw, quick, full, err)
			}
		}
		if err != nil {
			return
		}
		if !utf8.ValidString(raw) {
			t.Fatalf("accepted invalid UTF-8 %q", raw)
		}
		if strings.Count(raw, ":") < len(m) {
			t.Fatalf("%d entries from %q", len(m), raw)
		}
		for k, v := range m {
			if !textOracle(k, false) || !textOracle(v, true) {
				t.Fatalf("accepted %q: %q from %q", k, v, raw)
			}
		}
		if m == nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseStringMap(string(b))
		if err != nil || !maps.Equal(back, m) {
			t.Fatalf("round trip of %q through %s: %v, %v", raw, b, back, err)
		}
	})
}

// FuzzParseDetailField: an accepted Details.Fields item has a one-line
// label and a text value within their lengths, and round-trips.
func FuzzParseDetailField(f *testing.F) {
	for _, s := range []string{`{"label":"IP","value":"203.0.113.7"}`, `"{\"label\":\"IP\",\"value\":\"1\"}"`, `{"label":"","value":"x"}`,
		`{"label":"a","label":"b","value":"c"}`, `{"label":"a\u0000","value":"b"}`, `{"label":"a","value":"l1\nl2"}`, `{"label":1,"value":"b"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := parseDetailField(raw)
		if err != nil {
			if !IsCode(err, EDetails) {
				t.Fatalf("error %v, want code %d", err, EDetails)
			}
			return
		}
		if !utf8.ValidString(raw) {
			t.Fatalf("accepted invalid UTF-8 %q", raw)
		}
		if d.Label == "" || utf8.RuneCountInString(d.Label) > MaxFieldLabel || utf8.RuneCountInString(d.Value) > MaxFieldValue ||
			!textOracle(d.Label, false) || !textOracle(d.Value, true) {
			t.Fatalf("accepted %+v from %q", d, raw)
		}
		b, err := json.Marshal(map[string]string{"label": d.Label, "value": d.Value})
		if err != nil {
			t.Fatal(err)
		}
		if back, err := parseDetailField(string(b)); err != nil || back != d {
			t.Fatalf("round trip of %+v: %+v, %v", d, back, err)
		}
	})
}

// FuzzCheckTotpPayload: the shape check lets through exactly 3 to 8 bytes,
// and refuses with the factor resource's code.
func FuzzCheckTotpPayload(f *testing.F) {
	for _, s := range []string{"123456", "12", "123456789", "12a456", "", "１２３４５６"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := checkTotpPayload(s)
		if ok := len(s) >= 3 && len(s) <= 8; (err == nil) != ok {
			t.Fatalf("checkTotpPayload(%q) = %v", s, err)
		}
		if err != nil && !IsCode(err, EPushParam) {
			t.Fatalf("checkTotpPayload(%q) = %v, want code %d", s, err, EPushParam)
		}
	})
}
