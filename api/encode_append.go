package api

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Append-style JSON helpers for the hand-written encoders of hot responses
// (a page of factors). encoding/json spends most of a list page's time in
// reflection and in one allocation per date; these write straight into one
// buffer. They must produce exactly the bytes writeJSON would (an Encoder
// with SetEscapeHTML(false)): the tests in encode_append_test.go compare
// them with encoding/json, because a client that parses today's answers
// must parse these unchanged.

const hexDigits = "0123456789abcdef"

// jsonSafe[b] is true for the ASCII bytes a JSON string holds unescaped
// when HTML escaping is off: everything printable but '"' and '\'.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendString appends s as a JSON string, escaped as encoding/json does
// without HTML escaping: the short escapes \b \f \n \r \t, \u00XX for the
// other control bytes, \ufffd for each byte of invalid UTF-8, and \u2028
// and \u2029, which JavaScript would otherwise read as line ends.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendStringBody(dst, s)
	return append(dst, '"')
}

// appendJoined appends the JSON string of a+b without building a+b. It
// equals appendString(dst, a+b) when a is valid UTF-8: a is then decoded
// rune by rune up to its last byte, so no rune straddles the seam.
func appendJoined(dst []byte, a, b string) []byte {
	dst = append(dst, '"')
	dst = appendStringBody(dst, a)
	dst = appendStringBody(dst, b)
	return append(dst, '"')
}

// appendStringBody appends s escaped, without the quotes.
func appendStringBody(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// appendNullableString appends *s, or null when s is nil.
func appendNullableString(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendString(dst, *s)
}

// appendDate appends t as date.MarshalJSON renders it: quoted dateLayout in
// UTC, truncated to the second; null for the zero time. It writes the
// digits itself because time.AppendFormat, which parses its layout on
// every call, was a third of a factor page's encoding; years outside
// 0..9999, which dateLayout renders unpadded or signed, go through it.
func appendDate(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "null"...)
	}
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, dateLayout)
		return append(dst, '"')
	}
	hour, min, sec := t.Clock()
	return append(dst, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), 'Z', '"')
}

// appendInt appends n as a JSON number.
func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }
