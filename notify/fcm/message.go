package fcm

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// Message is one challenge push, as the delivery worker reads it at send
// time (delivery.md §8).
type Message struct {
	Token        string // the factor's current Config.NotificationToken
	ChallengeSid string // YC…
	FactorSid    string // YF…
	Message      string // the challenge's details.message; the Android sample shows it
	// Expiration is when the push stops being useful: the challenge's
	// expiration_date, or now+Ttl for a re-send through the Notifications
	// resource if that is sooner. The FCM TTL is the time left until it,
	// at most 300 s; a zero Expiration means 300 s.
	Expiration time.Time
}

const (
	// maxTTL is Twilio's largest notification TTL (delivery.md §5.4).
	maxTTL = 300 * time.Second
	// maxData is FCM's limit on the data payload, keys included.
	maxData = 4096
	// pushType is the value the apps match on (delivery.md §5.2).
	pushType = "verify_push_challenge"
)

// request is the body of messages:send. It is data-only: a notification
// block would keep the Android app's onMessageReceived from running in the
// background, and the sample app builds the visible notification itself
// (delivery.md §5.3). No title is sent for the same reason.
type request struct {
	Message wireMessage `json:"message"`
}

type wireMessage struct {
	Token   string      `json:"token"`
	Data    wireData    `json:"data"`
	Android wireAndroid `json:"android"`
}

// wireData holds the keys the Verify Push apps read; all values are
// strings, as FCM requires.
type wireData struct {
	Type         string `json:"type"`
	ChallengeSid string `json:"challenge_sid"`
	FactorSid    string `json:"factor_sid"`
	Message      string `json:"message"`
}

type wireAndroid struct {
	// Priority is HIGH: Twilio's push priority is always high, which may
	// wake a sleeping device (delivery.md §5.4). HIGH is the documented
	// enum spelling.
	Priority string `json:"priority"`
	TTL      string `json:"ttl"`
	// CollapseKey is the challenge SID, so that re-sends of one challenge
	// replace each other on the device instead of piling up.
	CollapseKey string `json:"collapse_key"`
}

// errMissing is returned, wrapped in a Permanent Error, for a Message
// without a token or SIDs: that is a caller bug no retry can fix.
var errMissing = errors.New("fcm: message needs Token, ChallengeSid and FactorSid")

// validate reports a Message no send could deliver.
func (m Message) validate() error {
	if m.Token == "" || m.ChallengeSid == "" || m.FactorSid == "" {
		return errMissing
	}
	return nil
}

// wire builds the request body for m as of now.
func (m Message) wire(now time.Time) (request, error) {
	if err := m.validate(); err != nil {
		return request{}, err
	}
	d := wireData{Type: pushType, ChallengeSid: m.ChallengeSid, FactorSid: m.FactorSid}
	d.Message = truncate(m.Message, maxData-dataSize(d))
	return request{Message: wireMessage{
		Token: m.Token,
		Data:  d,
		Android: wireAndroid{
			Priority:    "HIGH",
			TTL:         strconv.FormatInt(int64(ttl(m.Expiration, now)/time.Second), 10) + "s",
			CollapseKey: m.ChallengeSid,
		},
	}}, nil
}

// ttl is the time left until exp, in whole seconds rounded down so the
// push never outlives the challenge, between 0 and maxTTL. A push whose
// challenge has just expired gets 0 s: one immediate attempt, not stored.
func ttl(exp, now time.Time) time.Duration {
	if exp.IsZero() {
		return maxTTL
	}
	d := exp.Sub(now).Truncate(time.Second)
	return max(0, min(d, maxTTL))
}

// dataSize counts the data payload as FCM does: the bytes of keys and
// values.
func dataSize(d wireData) int {
	return len("type") + len(d.Type) + len("challenge_sid") + len(d.ChallengeSid) +
		len("factor_sid") + len(d.FactorSid) + len("message") + len(d.Message)
}

// truncate cuts s to at most n bytes on a rune boundary. Details.message
// is at most 256 characters, so this only guards the 4096-byte limit.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// redact shortens a registration token to a prefix that identifies it in a
// log line without making it usable.
func redact(tok string) string {
	const keep = 8
	if len(tok) <= 2*keep {
		return "…"
	}
	return tok[:keep] + "…"
}
