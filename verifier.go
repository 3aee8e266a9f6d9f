package verify

import (
	"context"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Verifier holds the use cases of the Verify API, free of any transport: it
// checks every parameter against Twilio's limits, enforces the state
// machines, and persists through Store. Time and randomness are passed in so
// that tests are deterministic.
type Verifier struct {
	Store Store
	// Now returns the current time; times are truncated to whole seconds,
	// as the wire format and the signed challenge payloads need.
	Now func() time.Time
	// Rand is the source of SIDs and secrets (crypto/rand.Reader).
	Rand io.Reader
	// TokenKey is the HMAC key that derives enrollment access tokens from
	// their SIDs; at least 32 bytes.
	TokenKey []byte
	// PreviousTokenKeys still accept the tokens they derived, for as long
	// as a master key rotation runs: a token minted by a node that had not
	// yet switched keys is still good on one that has, and the other way
	// round while the new key is rolled out as a previous one first.
	PreviousTokenKeys [][]byte
	// WebhookPublicOnly refuses webhook URLs whose host is a loopback,
	// private or otherwise non-public address (serve's
	// --webhook-public-only); link-local and metadata targets are refused
	// always.
	WebhookPublicOnly bool
	// CodeChannels are the classic Verify channels this server has a
	// sender for (sms, call, email, whatsapp); a create on any other
	// answers 60428, never a code that nobody sends.
	CodeChannels map[string]bool
	// MaxRateLimits and MaxBuckets bound a service's rate limits (60207)
	// and a rate limit's buckets (60210); 0 means DefaultMaxRateLimits and
	// DefaultMaxBuckets.
	MaxRateLimits, MaxBuckets int
	// MaxSends and MaxChecks bound a verification's sends (60203) and
	// checks (60202); 0 means Twilio's MaxVerificationSends and
	// MaxVerificationChecks.
	MaxSends, MaxChecks int
	// AttemptRetention is how long verifications and their attempts are
	// kept (listed by the Attempts API); 0 means DefaultAttemptRetention.
	AttemptRetention time.Duration
	// Observe, if set, is told of each event a change makes (the webhook
	// events: factor.created, challenge.approved, …, challenge.expired)
	// with the factor's type, whether or not a webhook subscribes.
	// Metrics count them.
	Observe func(event, factorType string)
	// Limits are the built-in request limits; nil means DefaultLimits.
	Limits *Limits
	// Geo are the operator's geo permissions; nil allows every country.
	Geo *GeoPermissions
}

func (v *Verifier) now() time.Time { return v.Now().UTC().Truncate(time.Second) }

// in returns a copy of v that works through st, the store of a transaction.
func (v *Verifier) in(st Store) *Verifier {
	c := *v
	c.Store = st
	return &c
}

func (v *Verifier) newSid(prefix string) (Sid, error) { return NewSidAt(v.Rand, prefix, v.Now()) }

// notFound is the error for a path that names nothing, worded as Twilio does.
func notFound(path string) error {
	return Errorf(ENotFound, "The requested resource %s was not found", path)
}

func (v *Verifier) service(ctx context.Context, account, sid Sid) (*Service, error) {
	if !sid.Valid(PrefixService) {
		return nil, notFound("/Services/" + string(sid))
	}
	return v.Store.FindService(ctx, account, sid)
}

// entity finds the entity addressed by a path under an account's service.
func (v *Verifier) entity(ctx context.Context, account, service Sid, identity string) (*Entity, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	return v.entityIn(ctx, service, identity)
}

// entityIn finds an entity of a service already known to be the caller's,
// saving the service lookup when the caller has it.
func (v *Verifier) entityIn(ctx context.Context, service Sid, identity string) (*Entity, error) {
	if !ValidIdentity(identity) {
		return nil, notFound("/Services/" + string(service) + "/Entities/" + identity)
	}
	return v.Store.FindEntity(ctx, service, identity)
}

// missing is the error for a required parameter that was not sent.
func missing(code int, name string) error {
	return Errorf(code, "Missing required parameter %s in the post body", name)
}

// checkLen returns an error with code if s is longer than max characters.
func checkLen(code int, name, s string, max int) error {
	if utf8.RuneCountInString(s) > max {
		return Errorf(code, "Invalid parameter %s: must be at most %d characters", name, max)
	}
	return nil
}

// checkRange returns an error with code if n lies outside [lo, hi].
func checkRange(code int, name string, n, lo, hi int) error {
	if n < lo || n > hi {
		return Errorf(code, "Invalid parameter %s: must be between %d and %d", name, lo, hi)
	}
	return nil
}

// ParseStringMap decodes a JSON object whose values are all strings, as sent
// in Metadata and HiddenDetails. A value that decodes to a JSON string is
// decoded once more, because twilio-go JSON-encodes a Go string that already
// holds JSON. JSON null gives a nil map. Both decodings refuse what
// decodeJSON refuses (a repeated key, invalid UTF-8); keys must be one line
// of text and values text (ValidText).
func ParseStringMap(raw string) (map[string]string, error) {
	if m, ok := plainStringMap(raw); ok {
		return m, nil
	}
	return parseStringMap(raw)
}

// parseStringMap is ParseStringMap's full path, through encoding/json.
func parseStringMap(raw string) (map[string]string, error) {
	var v any
	if err := decodeJSON(raw, &v); err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		if err := decodeJSON(s, &v); err != nil {
			return nil, err
		}
	}
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	m := make(map[string]string, len(obj))
	for k, val := range obj {
		s, ok := val.(string)
		if !ok {
			return nil, fmt.Errorf("value of %q is not a string", k)
		}
		if !ValidText(k, false) {
			return nil, fmt.Errorf("key %q has control characters", k)
		}
		if !ValidText(s, true) {
			return nil, fmt.Errorf("value of %q has control characters", k)
		}
		m[k] = s
	}
	return m, nil
}

// stringMapParam parses and checks a JSON string-map parameter.
func stringMapParam(code int, name, raw string, max int) (map[string]string, error) {
	if len(raw) > max {
		return nil, Errorf(code, "Invalid parameter %s: must be at most %d characters", name, max)
	}
	m, err := ParseStringMap(raw)
	if err != nil {
		return nil, Errorf(code, "Invalid parameter %s: must be a JSON object of string values (%v)", name, err)
	}
	return m, nil
}

// Page sizes of lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)
