package verify

import "time"

// ChallengeStatus is the state of a challenge. Expired is how a pending
// challenge past its expiration date reads; the background sweep may also
// store it, which changes nothing a reader sees.
type ChallengeStatus string

// Challenge statuses.
const (
	ChallengePending  ChallengeStatus = "pending"
	ChallengeApproved ChallengeStatus = "approved"
	ChallengeDenied   ChallengeStatus = "denied"
	ChallengeExpired  ChallengeStatus = "expired"
)

// Responded reasons, as Twilio reports them.
const (
	ReasonNone         = "none"
	ReasonNotNeeded    = "not_needed"
	ReasonNotRequested = "not_requested"
)

// Limits on challenges, from Twilio's documentation.
const (
	DefaultChallengeTTL  = 5 * time.Minute
	MaxChallengeTTL      = 60 * time.Minute
	MaxChallengeAttempts = 5 // wrong TOTP codes on one challenge
	MaxDetailsMessage    = 256
	MaxDetailsFields     = 20
	MaxFieldLabel        = 36
	MaxFieldValue        = 128
	MaxNotifications     = 3
	MaxNotificationTTL   = 300
	DefaultNotifyTTL     = 300
	MaxPushAuthPayload   = 5456
)

// Challenge asks an entity to prove itself with one factor.
type Challenge struct {
	Sid        Sid
	AccountSid Sid
	ServiceSid Sid
	EntitySid  Sid
	Identity   string
	FactorSid  Sid
	FactorType FactorType
	// Status is the stored status; use StatusAt to read it.
	Status          ChallengeStatus
	RespondedReason string
	Details         ChallengeDetails
	HiddenDetails   map[string]string
	Metadata        map[string]string
	ExpirationDate  time.Time
	DateCreated     time.Time
	DateUpdated     time.Time
	DateResponded   *time.Time
	// FailedAttempts counts wrong TOTP codes.
	FailedAttempts int
}

// ChallengeDetails is what a push challenge shows the user.
type ChallengeDetails struct {
	Message string
	Fields  []DetailField
	// Date is set when the service asks for it (Push.IncludeDate).
	Date *time.Time
}

// DetailField is one label/value pair shown with a push challenge.
type DetailField struct {
	Label string
	Value string
}

// StatusAt returns the status as read at now: a pending challenge at or past
// its expiration date reads as expired.
func (c *Challenge) StatusAt(now time.Time) ChallengeStatus {
	if c.Status == ChallengePending && !now.Before(c.ExpirationDate) {
		return ChallengeExpired
	}
	return c.Status
}

// AccessToken is a short-lived, single-use token that lets a device enroll
// one push factor for one identity of one service.
type AccessToken struct {
	Sid                Sid
	AccountSid         Sid
	ServiceSid         Sid
	Identity           string
	FactorType         FactorType
	FactorFriendlyName string
	TTL                int // seconds
	DateCreated        time.Time
	// DateUsed is when the token enrolled a factor; a used token is spent.
	DateUsed *time.Time
	// Token is the opaque credential; it is derived from the SID and the
	// server key, so it is never stored.
	Token string
}

// Access-token limits.
const (
	MinAccessTokenTTL     = 60
	MaxAccessTokenTTL     = 300
	DefaultAccessTokenTTL = 60
)

// Notification records one request to notify the device of a challenge.
type Notification struct {
	Sid          Sid
	AccountSid   Sid
	ServiceSid   Sid
	EntitySid    Sid
	Identity     string
	ChallengeSid Sid
	Priority     string
	TTL          int
	DateCreated  time.Time
}
