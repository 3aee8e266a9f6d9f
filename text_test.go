package verify

import (
	"strings"
	"testing"
)

func TestValidText(t *testing.T) {
	for _, tc := range []struct {
		s               string
		line, multiline bool
	}{
		{"Alice's phone", true, true},
		{"Ünïcödé ✓ 日本 🙂", true, true},
		{"", true, true},
		{"tab\there", false, true},
		{"two\nlines", false, true},
		{"crlf\r\n", false, true},
		{"nul\x00", false, false},
		{"\x01", false, false},
		{"esc\x1b[31m", false, false},
		{"vt\x0b", false, false},
		{"ff\x0c", false, false},
		{"del\x7f", false, false},
		{"c1 \u0085", false, false},
		{"c1 \u009f", false, false},
		{"after c1 \u00a0", true, true}, // NO-BREAK SPACE is text
		{"bad \xff", false, false},
		{"truncated \xe2\x82", false, false},
		{"overlong \xc0\xaf", false, false},
		{"surrogate \xed\xa0\x80", false, false},
		{"U+FFFD sent as such \ufffd", true, true},
	} {
		if got := ValidText(tc.s, false); got != tc.line {
			t.Errorf("ValidText(%q, false) = %v, want %v", tc.s, got, tc.line)
		}
		if got := ValidText(tc.s, true); got != tc.multiline {
			t.Errorf("ValidText(%q, true) = %v, want %v", tc.s, got, tc.multiline)
		}
	}
	err := checkText(EDetails, "Details.Message", "a\x00", true)
	if !IsCode(err, EDetails) || !strings.Contains(ErrorMessage(err), "Details.Message") {
		t.Errorf("checkText = %v", err)
	}
}

func TestDecodeJSON(t *testing.T) {
	for _, tc := range []struct {
		raw string
		ok  bool
	}{
		{`{"a":"1","b":"2"}`, true},
		{`{"a":{"a":"1"},"b":[{"a":1},{"a":2}]}`, true}, // the same key in different objects
		{`{"a\"":"1","a":"2"}`, true},
		{`"{\"a\":\"1\",\"a\":\"2\"}"`, true}, // a string: its content is decoded separately
		{`{"a":"\ud83d\ude00"}`, true},        // a surrogate pair
		{`{"a":"\\ud800"}`, true},             // an escaped backslash, then text
		{`{"a":"1","a":"2"}`, false},
		{`{"a":"1","b":{"c":"1","c":"2"}}`, false},
		{`[{"x":1,"y":2,"x":3}]`, false},
		{`{"a":"1","\u0061":"2"}`, false}, // the same key, once escaped
		{`{"a":"\ud800"}`, false},
		{`{"a":"\udc00\ud800"}`, false},
		{`{"a":"\ud800\u0041"}`, false},
		{`{"a":"\ud800`, false},
		{"{\"a\":\"\xff\"}", false},
		{`{"a":`, false},
	} {
		var v any
		if err := decodeJSON(tc.raw, &v); (err == nil) != tc.ok {
			t.Errorf("decodeJSON(%s) = %v, want ok %v", tc.raw, err, tc.ok)
		}
	}
}

func TestParseStringMapRefuses(t *testing.T) {
	for _, raw := range []string{
		`{"a":"1","a":"2"}`,
		`"{\"a\":\"1\",\"a\":\"2\"}"`,
		`{"a":"b\u0000"}`,
		`{"a\n":"b"}`,
		`{"a":"b\u001b"}`,
		"{\"a\":\"b\xff\"}",
		"\"{\\\"a\\\":\\\"b\xff\\\"}\"",
		`{"a":"\udfff"}`,
	} {
		if m, err := ParseStringMap(raw); err == nil {
			t.Errorf("ParseStringMap(%q) = %v, want an error", raw, m)
		}
	}
	m, err := ParseStringMap(`{"note":"line 1\nline 2\ttab"}`)
	if err != nil || m["note"] != "line 1\nline 2\ttab" {
		t.Errorf("multi-line value: %v, %v", m, err)
	}
}
