package fcm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Outcome is what the delivery worker should do after a send.
type Outcome int

// The outcomes, from delivery.md §7.3 and §8.
const (
	// Delivered: FCM accepted the message. Send returns a nil error.
	Delivered Outcome = iota
	// Retry: try again later, after Error.RetryAfter if it is not zero,
	// and not past the push's deadline.
	Retry
	// TokenDead: the registration token will never work again; stop
	// pushing to it until the device sends a new one.
	TokenDead
	// Permanent: retrying the same message with the same credential cannot
	// succeed (refused credential, wrong project, malformed message).
	Permanent
)

// String is the outcome's name for logs and metrics labels.
func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case TokenDead:
		return "token_dead"
	case Permanent:
		return "permanent"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Error is every failure Send returns. It never holds the registration
// token, the access token or key material, so it is safe to log.
type Error struct {
	Outcome    Outcome
	HTTPStatus int           // 0 when no response arrived
	Status     string        // FCM's canonical status (UNAVAILABLE), or the OAuth error (invalid_grant)
	ErrorCode  string        // the FcmError detail's errorCode (UNREGISTERED), if any
	Message    string        // the server's message, clipped
	RetryAfter time.Duration // from Retry-After; 0 when absent
	Err        error         // the transport or local cause, if any
}

// Error describes the failure with FCM's status and error code, without
// any token.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("fcm: ")
	b.WriteString(e.Outcome.String())
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	} else if e.Status != "" {
		b.WriteString(" " + e.Status)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %q", e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the transport or local cause, so errors.Is finds
// context.DeadlineExceeded and the like.
func (e *Error) Unwrap() error { return e.Err }

// OutcomeOf classifies the error Send returned: Delivered for nil, the
// Error's Outcome for an *Error, and Retry for anything else.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return Delivered
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Outcome
	}
	return Retry
}

// apiError is FCM's error body (delivery.md §7.3).
type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			ErrorCode       string `json:"errorCode"`
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

const (
	fcmErrorType   = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
	badRequestType = "type.googleapis.com/google.rpc.BadRequest"
)

// classify turns a non-200 FCM answer into an Error. It goes by the
// FcmError errorCode and falls back to the HTTP status, as the Admin SDK
// does. FCM is not known to echo the registration token regToken in its
// message, but the message ends up in logs, so it is redacted anyway.
func classify(resp *http.Response, body []byte, now time.Time, regToken string) *Error {
	e := &Error{HTTPStatus: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
	var ae apiError
	badToken := false
	if json.Unmarshal(body, &ae) == nil {
		e.Status = ae.Error.Status
		e.Message = clip(strings.ReplaceAll(ae.Error.Message, regToken, redact(regToken)))
		for _, d := range ae.Error.Details {
			switch d.Type {
			case fcmErrorType:
				e.ErrorCode = d.ErrorCode
			case badRequestType:
				for _, v := range d.FieldViolations {
					badToken = badToken || v.Field == "message.token"
				}
			}
		}
	}
	switch e.ErrorCode {
	case "UNREGISTERED":
		e.Outcome = TokenDead
	case "INVALID_ARGUMENT":
		// FCM names the field at fault. Only a refused token is the
		// device's problem; any other field is our bug, and a new token
		// would not help.
		e.Outcome = Permanent
		if badToken {
			e.Outcome = TokenDead
		}
	case "SENDER_ID_MISMATCH", "THIRD_PARTY_AUTH_ERROR":
		e.Outcome = Permanent
	case "QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL":
		e.Outcome = Retry
	default: // UNSPECIFIED_ERROR, or no FcmError detail
		e.Outcome = outcomeByHTTP(resp.StatusCode)
	}
	return e
}

// outcomeByHTTP is the fallback when there is no errorCode to go by.
func outcomeByHTTP(code int) Outcome {
	switch {
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code >= 500:
		return Retry
	default:
		return Permanent
	}
}

// retryAfter reads a Retry-After header in either form (RFC 9110 §10.2.3).
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(h), 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// clip bounds a server-supplied message so an odd answer cannot flood the
// log line it ends up in.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
