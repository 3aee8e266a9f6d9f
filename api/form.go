package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// maxBody is the largest request body accepted. The biggest legitimate
// parameter is a push AuthPayload (5456 characters); 64 KiB leaves room for
// everything else without letting a client make us buffer megabytes.
const maxBody = 64 << 10

// pair is one key=value of a form, both percent-decoded.
type pair struct{ key, value string }

// form is a decoded form body or query string: its pairs in the order sent,
// so repeated keys (Details.Fields) keep their order.
type form []pair

// parseForm decodes s leniently: split on '&', then on the first '=', then
// percent-decode with '+' as a space. Unlike url.ParseQuery it keeps pairs
// that contain ';' (the iOS SDK leaves ';' unescaped) and '=' inside values
// (base64 padding). Empty segments are skipped; a bad percent-escape is an
// error, because guessing at a value could store the wrong thing.
func parseForm(s string) (form, error) {
	var f form
	for seg := range strings.SplitSeq(s, "&") {
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		key, err := unescape(k)
		if err != nil {
			return nil, err
		}
		val, err := unescape(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", key, err)
		}
		f = append(f, pair{key, val})
	}
	return f, nil
}

// unescape percent-decodes s, turning '+' into a space.
func unescape(s string) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b.WriteByte(' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", fmt.Errorf("invalid percent-escape %q", s[i:min(i+3, len(s))])
			}
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// get returns the first value of key; keys are case-sensitive, as Twilio's
// PascalCase names are.
func (f form) get(key string) (string, bool) {
	for _, p := range f {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// all returns every value of key in the order sent.
func (f form) all(key string) []string {
	var vs []string
	for _, p := range f {
		if p.key == key {
			vs = append(vs, p.value)
		}
	}
	return vs
}

// params reads typed parameters from a form for one route. The first bad
// value is kept in err, so a handler reads all its parameters and checks
// once. code is the route's Twilio code for an invalid parameter: 60200 for
// services, 60300 for entities, factors, challenges and notifications, 60305
// for access tokens.
type params struct {
	form form
	code int
	err  error
}

func (p *params) fail(name, want string) {
	if p.err == nil {
		p.err = verify.Errorf(p.code, "Invalid parameter %s: must be %s", name, want)
	}
}

// str returns the value of name, or nil if it was not sent.
func (p *params) str(name string) *string {
	v, ok := p.form.get(name)
	if !ok {
		return nil
	}
	return &v
}

// strs returns every value of a repeated parameter.
func (p *params) strs(name string) []string { return p.form.all(name) }

// int returns the decimal integer value of name, or nil if it was not sent.
func (p *params) int(name string) *int {
	v, ok := p.form.get(name)
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail(name, "an integer")
		return nil
	}
	return &n
}

// bool returns the value of name, "true" or "false" in any case, or nil if
// it was not sent.
func (p *params) bool(name string) *bool {
	v, ok := p.form.get(name)
	if !ok {
		return nil
	}
	var b bool
	switch {
	case strings.EqualFold(v, "true"):
		b = true
	case strings.EqualFold(v, "false"):
	default:
		p.fail(name, "true or false")
		return nil
	}
	return &b
}

// time returns the RFC 3339 value of name in UTC, or nil if it was not sent.
// Any offset is accepted: twilio-go sends the caller's zone.
func (p *params) time(name string) *time.Time {
	v, ok := p.form.get(name)
	if !ok {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		p.fail(name, "an RFC 3339 date-time such as 2030-01-02T03:04:05Z")
		return nil
	}
	t = t.UTC()
	return &t
}

// readParams decodes the parameters of r for a route whose invalid-parameter
// code is code: the query string for GET and DELETE (whatever Content-Type
// says; twilio-go sends a form type with an empty body), the body for POST.
func readParams(r *http.Request, code int) (*params, error) {
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		var err error
		if raw, err = readBody(r, code); err != nil {
			return nil, err
		}
	}
	f, err := parseForm(raw)
	if err != nil {
		return nil, verify.Errorf(code, "Invalid request: %v", err)
	}
	return &params{form: f, code: code}, nil
}

// readBody returns a POST body of at most maxBody bytes. The body must be
// form-encoded; a missing Content-Type is taken as form, but another type is
// refused rather than misread (a JSON body would otherwise surface as a
// confusing "missing parameter").
func readBody(r *http.Request, code int) (string, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return "", verify.Errorf(code, "Unsupported Content-Type %q: send application/x-www-form-urlencoded", ct)
		}
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return "", verify.Errorf(code, "Invalid request: reading the body failed")
	}
	if len(b) > maxBody {
		return "", verify.Errorf(code, "Request body too large: at most %d bytes", maxBody)
	}
	return string(b), nil
}
