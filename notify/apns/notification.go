package apns

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits from Apple's provider API (delivery.md §5.3, §5.4, §6.3).
const (
	// MaxTTL caps how long APNs may store a challenge push: Twilio's
	// Notifications resource takes a Ttl of 0 to 300 seconds.
	MaxTTL = 300 * time.Second
	// MaxPayload is the largest alert payload APNs accepts, in bytes.
	MaxPayload = 4096
	// maxCollapseID is the largest apns-collapse-id APNs accepts, in bytes.
	maxCollapseID = 64
)

// PushType is the category of the notification the Verify Push apps read,
// and the value the payload's aps.category carries.
const PushType = "verify_push_challenge"

// Notification is one challenge push to one iOS device: what the delivery
// worker reads from the challenge and the factor's current config at send
// time (delivery.md §8).
type Notification struct {
	DeviceToken  string        // the factor's Config.NotificationToken: hex
	Topic        string        // the factor's Config.AppId: the app's bundle ID
	ChallengeSid string        // YC…
	FactorSid    string        // YF…
	Message      string        // the challenge's details.message
	TTL          time.Duration // how long APNs may store the push, capped at MaxTTL; 0 means one attempt, not stored
	Expiration   time.Time     // the challenge's expiration_date; APNs never stores the push past it. Zero means none
	CollapseID   string        // apns-collapse-id; empty means ChallengeSid, so resends of a challenge replace each other
}

// ErrChallengeExpired is returned (inside an *Error of kind Permanent) when
// the challenge's expiration has passed: the push could only lead the user
// to an error screen.
var ErrChallengeExpired = errors.New("apns: challenge expired")

// validate refuses a notification APNs would refuse as malformed. The device
// token is also the request path, so only hex digits may pass.
func (n *Notification) validate() error {
	if n.DeviceToken == "" {
		return errors.New("apns: empty device token")
	}
	for i := 0; i < len(n.DeviceToken); i++ {
		c := n.DeviceToken[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return fmt.Errorf("apns: device token %s is not hex", redact(n.DeviceToken))
		}
	}
	if n.Topic == "" {
		return errors.New("apns: empty topic (the factor's Config.AppId)")
	}
	if len(n.collapseID()) > maxCollapseID {
		return fmt.Errorf("apns: collapse ID is %d bytes, more than %d", len(n.collapseID()), maxCollapseID)
	}
	if n.TTL < 0 {
		return fmt.Errorf("apns: negative TTL %v", n.TTL)
	}
	return nil
}

func (n *Notification) collapseID() string {
	if n.CollapseID != "" {
		return n.CollapseID
	}
	return n.ChallengeSid
}

// expiration returns the apns-expiration header value: now+TTL (TTL at most
// MaxTTL), but never past the challenge's own expiration, or "0" for a TTL
// of 0, which APNs reads as "try once, do not store".
func (n *Notification) expiration(now time.Time) (string, error) {
	if !n.Expiration.IsZero() && !now.Before(n.Expiration) {
		return "", ErrChallengeExpired
	}
	if n.TTL == 0 {
		return "0", nil
	}
	exp := now.Add(min(n.TTL, MaxTTL))
	if !n.Expiration.IsZero() && n.Expiration.Before(exp) {
		exp = n.Expiration
	}
	return strconv.FormatInt(exp.Unix(), 10), nil
}

// aps is the payload's Apple dictionary. Every value is a string: some
// client code reads aps as a string-to-string map and checks category
// (delivery.md §5.3), so alert is a plain string with no title, and there is
// no numeric badge or mutable-content.
type aps struct {
	Alert    string `json:"alert"`
	Category string `json:"category"`
	Sound    string `json:"sound"`
}

// payload is the JSON body: the custom keys the Verify Push apps read sit at
// the top level next to aps (delivery.md §5.2).
type payload struct {
	APS          aps    `json:"aps"`
	Type         string `json:"type"`
	ChallengeSid string `json:"challenge_sid"`
	FactorSid    string `json:"factor_sid"`
	Message      string `json:"message"`
}

// body encodes the payload, shortening the message (which appears twice)
// to the longest prefix, cut at a character boundary, that keeps the body
// within MaxPayload. Twilio caps details.message at 256 characters, which
// always fits, so this only guards against a caller that passes something
// longer: a shortened message beats a 413 PayloadTooLarge.
func (n *Notification) body() ([]byte, error) {
	b, err := n.encode(n.Message)
	if err != nil || len(b) <= MaxPayload {
		return b, err
	}
	// Binary search over the cut point: JSON escaping makes a byte of the
	// message cost one to six bytes of payload, so the size cannot simply
	// be subtracted. fits(lo) holds and fits(hi) does not.
	cut := func(k int) string {
		for k > 0 && k < len(n.Message) && !utf8.RuneStart(n.Message[k]) {
			k--
		}
		return n.Message[:k]
	}
	lo, hi := 0, len(n.Message)
	best, err := n.encode("")
	if err != nil {
		return nil, err
	}
	if len(best) > MaxPayload {
		return nil, fmt.Errorf("apns: payload is %d bytes without a message", len(best))
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		b, err := n.encode(cut(mid))
		if err != nil {
			return nil, err
		}
		if len(b) <= MaxPayload {
			lo, best = mid, b
		} else {
			hi = mid
		}
	}
	return best, nil
}

func (n *Notification) encode(msg string) ([]byte, error) {
	b, err := json.Marshal(payload{
		APS:          aps{Alert: msg, Category: PushType, Sound: "default"},
		Type:         PushType,
		ChallengeSid: n.ChallengeSid,
		FactorSid:    n.FactorSid,
		Message:      msg,
	})
	if err != nil {
		return nil, fmt.Errorf("apns: encode payload: %w", err)
	}
	return b, nil
}

// redact shortens a device token for errors and logs: enough to tell two
// tokens apart, not enough to push to one.
func redact(token string) string {
	if len(token) <= 8 {
		return "…"
	}
	return token[:8] + "…"
}
