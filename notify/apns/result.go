package apns

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Kind says what the delivery worker should do after a failed send.
type Kind int

const (
	// Retry: a transient failure (429, 5xx, a connection error, a timeout).
	// Try again with backoff before the push's deadline, after RetryAfter if
	// it is set.
	Retry Kind = iota + 1
	// TokenDead: the device token no longer reaches the app (410, or 400
	// BadDeviceToken). Stop, and push nothing to this token until the
	// device sends a new one.
	TokenDead
	// Permanent: retrying the same request cannot succeed: a configuration
	// or credential error (bad topic, InvalidProviderToken, BadCertificate)
	// or a request APNs found malformed. Stop and tell the operator; the
	// Reason says which.
	Permanent
)

func (k Kind) String() string {
	switch k {
	case Retry:
		return "retry"
	case TokenDead:
		return "token_dead"
	case Permanent:
		return "permanent"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is every failure Send returns. It never holds key material or a
// whole device token, so it can be logged.
type Error struct {
	Kind   Kind
	Status int    // the HTTP status, or 0 if APNs never answered
	Reason string // APNs' reason, e.g. "BadDeviceToken"; empty if it gave none
	// RetryAfter is from a Retry-After header (Apple documents none, but a
	// proxy in front of the fake or of APNs may send one); 0 if absent.
	RetryAfter time.Duration
	// Timestamp is when APNs last knew the token was invalid for the topic
	// (410 only); compare it with when the factor's token last changed.
	Timestamp time.Time
	ID        string // apns-id, if APNs answered
	Token     string // the device token, redacted
	Err       error  // the underlying error, for connection failures
}

func (e *Error) Error() string {
	s := "apns: " + e.Kind.String() + ": token " + e.Token
	if e.Status != 0 {
		s += ": status " + strconv.Itoa(e.Status)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// maxErrorBody bounds how much of an error response is read: APNs sends a
// few dozen bytes, and anything else is not APNs.
const maxErrorBody = 4096

// classify turns a non-200 response into an *Error (delivery.md §6.4).
func classify(resp *http.Response, token string, now time.Time) *Error {
	var body struct {
		Reason    string `json:"reason"`
		Timestamp int64  `json:"timestamp"` // milliseconds, 410 only
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = json.Unmarshal(b, &body) // a body that is not JSON leaves Reason empty
	e := &Error{
		Status:     resp.StatusCode,
		Reason:     body.Reason,
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now),
		ID:         resp.Header.Get("apns-id"),
		Token:      redact(token),
	}
	if body.Timestamp > 0 {
		e.Timestamp = time.UnixMilli(body.Timestamp).UTC()
	}
	e.Kind = kindOf(resp.StatusCode, body.Reason)
	return e
}

// kindOf is the classification table.
//
// DeviceTokenNotForTopic is Permanent, not TokenDead: it means the factor's
// AppId (or the key's topic scope) is wrong, and a wrong AppId in the
// configuration would otherwise mark every device of the app dead.
// BadDeviceToken is TokenDead even though a sandbox/production mismatch also
// causes it: for one device, the token is unusable with this credential.
func kindOf(status int, reason string) Kind {
	switch {
	case status == http.StatusGone:
		return TokenDead
	case status == http.StatusBadRequest && reason == "BadDeviceToken":
		return TokenDead
	case status == http.StatusBadRequest && reason == "IdleTimeout":
		return Retry
	case status == http.StatusTooManyRequests:
		return Retry
	case status >= 500:
		return Retry
	}
	return Permanent
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// connError wraps a failure to get any answer from APNs. The *url.Error of
// net/http would print the whole URL, device token included, so only its
// cause is kept.
func connError(err error, token string) *Error {
	return &Error{Kind: Retry, Token: redact(token), Err: fmt.Errorf("post: %w", unwrapURL(err))}
}
