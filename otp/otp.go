// Package otp implements HOTP (RFC 4226) and TOTP (RFC 6238) one-time
// passwords, together with secret encoding and otpauth Key URIs.
//
// verifyd keeps this as a small, self-contained core built only on the
// standard library instead of depending on a third-party OTP module: the code
// that decides whether a second factor is accepted is short enough to audit
// in full, is tested against the RFC vectors, and pins down behaviour that
// matters for security (strict code syntax, constant-time comparison, replay
// protection through a minimum counter).
package otp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Params describes a TOTP factor.
type Params struct {
	Alg    string // "sha1", "sha256" or "sha512" (lower case)
	Digits int    // 3..8
	Period int    // seconds per time step, >0 (verifyd allows 20..60)
	Skew   int    // steps tolerated either side, 0..2
}

// Check reports an error if Alg is unknown, Digits is outside 3..8, Period is
// less than 1 or Skew is outside 0..2.
func (p Params) Check() error {
	if hashFunc(p.Alg) == nil {
		return fmt.Errorf("otp: unknown algorithm %q", p.Alg)
	}
	if err := checkDigits(p.Digits); err != nil {
		return err
	}
	if p.Period < 1 {
		return fmt.Errorf("otp: period %d must be at least 1", p.Period)
	}
	if p.Skew < 0 || p.Skew > 2 {
		return fmt.Errorf("otp: skew %d outside 0..2", p.Skew)
	}
	return nil
}

func hashFunc(alg string) func() hash.Hash {
	switch alg {
	case "sha1":
		return sha1.New
	case "sha256":
		return sha256.New
	case "sha512":
		return sha512.New
	}
	return nil
}

func checkDigits(d int) error {
	if d < 3 || d > 8 {
		return fmt.Errorf("otp: digits %d outside 3..8", d)
	}
	return nil
}

// NewSecret reads n random bytes from r (normally crypto/rand.Reader). It
// returns an error if n is less than 10 (80 bits) or r runs short.
func NewSecret(r io.Reader, n int) ([]byte, error) {
	if n < 10 {
		return nil, fmt.Errorf("otp: secret length %d is below the minimum of 10 bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("otp: reading secret: %w", err)
	}
	return b, nil
}

// EncodeSecret returns secret in RFC 4648 base32, upper case, without padding.
func EncodeSecret(secret []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
}

// DecodeSecret decodes a base32 secret in upper or lower case, with or
// without '=' padding. Anything else (empty input, spaces, dashes, line
// breaks, characters outside the alphabet, misplaced padding) is an error.
func DecodeSecret(s string) ([]byte, error) {
	errInvalid := errors.New("otp: invalid base32 secret")
	s = strings.ToUpper(s)
	body := strings.TrimRight(s, "=")
	switch len(body) % 8 { // 1, 3 and 6 trailing symbols cannot end a base32 text
	case 1, 3, 6:
		return nil, errInvalid
	}
	if body == "" {
		return nil, errInvalid
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return nil, errInvalid
		}
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	if len(body) != len(s) {
		enc = base32.StdEncoding // padded input: padding must be exact
	}
	b, err := enc.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errInvalid
	}
	return b, nil
}

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// HOTP returns the RFC 4226 one-time password for counter: HMAC with alg
// ("sha1", "sha256" or "sha512"), dynamic truncation, reduced to digits
// (3..8) decimal digits and zero-padded.
func HOTP(secret []byte, counter uint64, alg string, digits int) (string, error) {
	h := hashFunc(alg)
	if h == nil {
		return "", fmt.Errorf("otp: unknown algorithm %q", alg)
	}
	if err := checkDigits(digits); err != nil {
		return "", err
	}
	return hotp(h, secret, counter, digits), nil
}

func hotp(h func() hash.Hash, secret []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(h, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	s := strconv.FormatUint(uint64(v%pow10[digits]), 10)
	return strings.Repeat("0", digits-len(s)) + s
}

// Counter returns the TOTP time step for t: floor(unix seconds / period).
// Times before 1970, and a period below 1, give 0.
func Counter(t time.Time, period int) uint64 {
	sec := t.Unix()
	if sec < 0 || period < 1 {
		return 0
	}
	return uint64(sec) / uint64(period)
}

// Code returns the TOTP code for time t: HOTP at Counter(t, p.Period).
func Code(secret []byte, t time.Time, p Params) (string, error) {
	if err := p.Check(); err != nil {
		return "", err
	}
	return HOTP(secret, Counter(t, p.Period), p.Alg, p.Digits)
}

// Validate checks code against the steps Counter(now)-Skew .. Counter(now)+Skew, ignoring any step
// whose counter is < minCounter (so a caller can refuse replays: it passes one more than the last
// accepted counter). code must be exactly p.Digits ASCII digits, nothing stripped or trimmed
// (otherwise ok=false). If several steps match, the lowest matching counter is returned. It returns
// the matched counter and true, or 0, false. Invalid Params never validate. It is NewWindow
// followed by Window.Match.
func Validate(secret []byte, code string, now time.Time, p Params, minCounter uint64) (uint64, bool) {
	w := NewWindow(secret, now, p, minCounter)
	return w.Match(code)
}

// maxSteps is the widest window: Skew 2 either side of the current step.
const maxSteps = 5

// Window is the set of codes a TOTP check accepts at one moment: the code
// of each step within the skew whose counter is not below the minimum.
// It depends on the secret and the time only, never on the code offered,
// so a server can do the HMAC work before it reserves an attempt and
// compare the offered code (Match, a few constant-time byte comparisons)
// only once it holds one.
type Window struct {
	digits   int
	n        int
	counters [maxSteps]uint64
	codes    [maxSteps]string
}

// NewWindow computes the codes accepted at now. Invalid Params give an
// empty window, which matches nothing.
func NewWindow(secret []byte, now time.Time, p Params, minCounter uint64) Window {
	var w Window
	if p.Check() != nil {
		return w
	}
	w.digits = p.Digits
	h := hashFunc(p.Alg)
	cur := Counter(now, p.Period)
	for d := -p.Skew; d <= p.Skew; d++ {
		if d < 0 && cur < uint64(-d) {
			continue // before the epoch
		}
		c := cur + uint64(d)
		if c < minCounter {
			continue
		}
		w.counters[w.n], w.codes[w.n] = c, hotp(h, secret, c, p.Digits)
		w.n++
	}
	return w
}

// Match reports whether code is one of the window's codes and, if so, the
// lowest counter it matches. code must be exactly the window's number of
// ASCII digits. Every code of the window is compared with crypto/subtle,
// with no early return, so timing does not reveal which step matched.
func (w *Window) Match(code string) (uint64, bool) {
	if w.n == 0 || len(code) != w.digits {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	var matched uint64
	found := 0
	for i := range w.n {
		eq := subtle.ConstantTimeCompare([]byte(w.codes[i]), []byte(code))
		mask := -uint64(eq &^ found) // all ones only for the first (lowest) match
		matched = w.counters[i]&mask | matched&^mask
		found |= eq
	}
	if found == 1 {
		return matched, true
	}
	return 0, false
}

// URI returns an otpauth Key URI of the form
//
//	otpauth://totp/<Issuer>:<account>?secret=<EncodeSecret>&issuer=<Issuer>&algorithm=SHA1&digits=6&period=30
//
// Label parts are escaped with url.PathEscape, with ':' additionally escaped
// as %3A; query values with url.QueryEscape. If issuer is empty the label is
// just the account and the issuer parameter is omitted.
func URI(issuer, account string, secret []byte, p Params) string {
	esc := func(s string) string { return strings.ReplaceAll(url.PathEscape(s), ":", "%3A") }
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if issuer != "" {
		b.WriteString(esc(issuer) + ":")
	}
	b.WriteString(esc(account))
	b.WriteString("?secret=" + url.QueryEscape(EncodeSecret(secret)))
	if issuer != "" {
		b.WriteString("&issuer=" + url.QueryEscape(issuer))
	}
	b.WriteString("&algorithm=" + url.QueryEscape(strings.ToUpper(p.Alg)))
	b.WriteString("&digits=" + strconv.Itoa(p.Digits))
	b.WriteString("&period=" + strconv.Itoa(p.Period))
	return b.String()
}
