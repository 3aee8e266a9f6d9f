package verify

import (
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// Sid is a Twilio resource identifier: a two-letter prefix followed by 32
// lower-case hex characters drawn from a random source.
type Sid string

// SID prefixes used by verifyd, as in Twilio's OpenAPI spec.
const (
	PrefixAccount      = "AC"
	PrefixService      = "VA"
	PrefixEntity       = "YE"
	PrefixFactor       = "YF"
	PrefixChallenge    = "YC"
	PrefixAccessToken  = "YK"
	PrefixNotification = "NT"
	// PrefixCredential marks a push factor's credential_sid, the key id the
	// device puts in the kid header of its JWTs. Twilio never documents the
	// prefix; we pick a distinct one so that a credential SID can never be
	// confused with the factor SID it belongs to.
	PrefixCredential = "YX"
	// PrefixAPIKey marks an API key: its SID is the Basic-auth username, its
	// secret the password, in place of the account SID and auth token.
	PrefixAPIKey = "SK"
	// PrefixWebhook marks a Verify webhook (YW).
	PrefixWebhook = "YW"
	// PrefixVerification marks a classic verification, PrefixAttempt one
	// send of its code (attempt_sid, and the Attempts API's sid).
	PrefixVerification = "VE"
	PrefixAttempt      = "VL"
)

// NewSid returns a new SID with the given two-letter prefix, reading 16
// bytes from r (crypto/rand.Reader in production).
func NewSid(r io.Reader, prefix string) (Sid, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("verify: new %s sid: %w", prefix, err)
	}
	return Sid(prefix + hex.EncodeToString(b[:])), nil
}

// NewSidAt returns a new SID whose first 12 hex characters are t in Unix
// milliseconds and whose other 20 (80 bits) are read from r. Lists are
// ordered by (date_created, sid), and date_created has whole seconds only,
// so a time-ordered SID keeps things created in the same second in the
// order they were created; it also makes new rows append to the SID
// indexes instead of landing on random pages.
func NewSidAt(r io.Reader, prefix string, t time.Time) (Sid, error) {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := io.ReadFull(r, b[6:]); err != nil {
		return "", fmt.Errorf("verify: new %s sid: %w", prefix, err)
	}
	return Sid(prefix + hex.EncodeToString(b[:])), nil
}

// Valid reports whether s has the given prefix followed by exactly 32 hex
// characters (either case, as Twilio's pattern ^XX[0-9a-fA-F]{32}$ allows).
func (s Sid) Valid(prefix string) bool {
	if len(s) != 34 || string(s[:2]) != prefix {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// String returns the SID as a string.
func (s Sid) String() string { return string(s) }
