package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Text parameters are stored as sent and come back in JSON, which replaces
// each invalid UTF-8 byte with U+FFFD: a name or message with such bytes
// would be stored one way and shown another, and a push challenge's details
// would no longer match what the device signs. Control characters are
// refused too: none belongs in a name, and NUL in particular is cut short or
// refused by some databases and C libraries further down the line.
//
// Which control characters: all of C0 (U+0000-U+001F), DEL (U+007F) and C1
// (U+0080-U+009F), except that multi-line text may hold tab, line feed and
// carriage return, since a challenge message or a metadata value may
// legitimately have line breaks. Multi-line text is Details.Message,
// Details.Fields values and the values of Metadata and HiddenDetails;
// everything else (names, identities, map keys, Config and service
// strings, field labels) is one line.

// ValidText reports whether s is valid UTF-8 without control characters;
// with multiline, tab, line feed and carriage return are allowed.
func ValidText(s string, multiline bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && !(multiline && (c == '\t' || c == '\n' || c == '\r')) || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || 0x80 <= r && r <= 0x9f {
			return false
		}
		i += n
	}
	return true
}

// checkText returns an error with code unless s is ValidText.
func checkText(code int, name, s string, multiline bool) error {
	if !ValidText(s, multiline) {
		what := "one line of valid UTF-8 text"
		if multiline {
			what = "valid UTF-8 text"
		}
		return Errorf(code, "Invalid parameter %s: must be %s without control characters", name, what)
	}
	return nil
}

// decodeJSON unmarshals a JSON-valued parameter into v after checking what
// json.Unmarshal would let through altered or ambiguous: invalid UTF-8
// (replaced with U+FFFD), an escaped lone surrogate such as \ud800 (also
// replaced), and a key repeated in one object (the last one silently wins,
// while another reader of the same bytes may take the first). The decoded
// strings still need checkText: \u0000 is valid JSON.
func decodeJSON(raw string, v any) error {
	if !utf8.ValidString(raw) {
		return errors.New("not valid UTF-8")
	}
	if loneSurrogate(raw) {
		return errors.New("a \\u escape is half a surrogate pair")
	}
	if err := duplicateKey(raw); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return nil
}

// plainStringMap is ParseStringMap's quick path, for the usual object of
// plain strings such as a create's RateLimits: one pass, no reflection,
// where encoding/json and the duplicate-key scan took 4 µs and 33
// allocations. It accepts only what ParseStringMap would accept, with the
// same result: an object whose keys and values have no escape and are
// ValidText, with no repeated key. Anything else, errors included, is
// left to the full path (ok false), which says why.
func plainStringMap(raw string) (m map[string]string, ok bool) {
	i := skipSpace(raw, 0)
	if i == len(raw) || raw[i] != '{' {
		return nil, false
	}
	m = make(map[string]string, 1)
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return m, skipSpace(raw, i+1) == len(raw)
	}
	for {
		k, j, ok := plainString(raw, i)
		if !ok || !ValidText(k, false) {
			return nil, false
		}
		if i = skipSpace(raw, j); i == len(raw) || raw[i] != ':' {
			return nil, false
		}
		v, j, ok := plainString(raw, skipSpace(raw, i+1))
		if !ok || !ValidText(v, true) {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		m[k] = v
		if i = skipSpace(raw, j); i == len(raw) {
			return nil, false
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case '}':
			return m, skipSpace(raw, i+1) == len(raw)
		default:
			return nil, false
		}
	}
}

// plainString reads the JSON string at raw[i], which must have no escape
// and no control character (the caller checks the rest with ValidText;
// anything else sends it to the full path): its text, and the index after
// its closing quote.
func plainString(raw string, i int) (string, int, bool) {
	if i >= len(raw) || raw[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(raw); j++ {
		switch c := raw[j]; {
		case c == '\\' || c < 0x20: // an escape, or what JSON refuses
			return "", 0, false
		case c == '"':
			return raw[i+1 : j], j + 1, true
		}
	}
	return "", 0, false
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(raw string, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// duplicateKey returns an error naming the first key repeated within one
// object, at any depth. Malformed JSON is left to json.Unmarshal.
func duplicateKey(raw string) error {
	if !bytes.ContainsRune([]byte(raw), '{') {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader([]byte(raw)))
	d.UseNumber()
	// One entry per open container: the keys seen so far for an object,
	// nil for an array. Inside an object tokens alternate key, value.
	type frame struct {
		keys   map[string]bool
		expect bool // the next token is a key
	}
	var stack []frame
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // malformed: json.Unmarshal says why
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].keys != nil && stack[top].expect {
			if k, ok := tok.(string); ok {
				if stack[top].keys[k] {
					return fmt.Errorf("key %q appears twice", k)
				}
				stack[top].keys[k] = true
				stack[top].expect = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
			top--
		}
		// A value has ended: in an object, a key comes next.
		if top >= 0 && stack[top].keys != nil {
			stack[top].expect = true
		}
	}
}

// loneSurrogate reports whether a JSON text has a \u escape of a UTF-16
// surrogate that is not part of a high-low pair, which encoding/json
// decodes as U+FFFD. It tracks strings only as far as it needs to: a text
// that is not JSON is refused later anyway.
func loneSurrogate(raw string) bool {
	in := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			in = !in
		case c == '\\' && in:
			if i+1 < len(raw) && raw[i+1] == 'u' {
				r, ok := hex4(raw, i+2)
				switch {
				case !ok:
				case 0xd800 <= r && r < 0xdc00:
					lo, ok := rune(0), false
					if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
						lo, ok = hex4(raw, i+8)
					}
					if !ok || lo < 0xdc00 || lo > 0xdfff {
						return true
					}
					i += 6
				case 0xdc00 <= r && r <= 0xdfff:
					return true
				}
			}
			i++ // skip the escaped character, so \" does not end the string
		}
	}
	return false
}

// hex4 decodes the four hex digits of s at i.
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
