package verify

import (
	"time"
)

// VerificationStatus is the state of a classic verification
// (verifications.md §2.6).
type VerificationStatus string

// Verification statuses. A pending verification past its expiry reads as
// expired; the sweep also stores it.
const (
	VerificationPending     VerificationStatus = "pending"
	VerificationApproved    VerificationStatus = "approved"
	VerificationCanceled    VerificationStatus = "canceled"
	VerificationMaxAttempts VerificationStatus = "max_attempts_reached"
	VerificationExpired     VerificationStatus = "expired"
)

// The channels of a classic verification.
const (
	ChannelSMS      = "sms"
	ChannelCall     = "call"
	ChannelEmail    = "email"
	ChannelWhatsapp = "whatsapp"
)

// Limits of classic Verify, Twilio's values (verifications.md §4.3).
const (
	VerificationTTL = 10 * time.Minute
	// MaxVerificationSends and MaxVerificationChecks are Twilio's limits
	// and the defaults of Verifier.MaxSends and Verifier.MaxChecks.
	MaxVerificationSends  = 5 // a sixth send is refused with 60203
	MaxVerificationChecks = 5 // a sixth check is refused with 60202
	MaxCustomFriendlyName = 30
	MaxVerificationTags   = 10
	MaxTagLength          = 128
	MaxAppHash            = 11
	MaxPsd2Field          = 255
	MaxSendDigits         = 32
)

// Verification is a one-time code sent to a To (a phone number or an
// e-mail address), and what became of it. The code itself is never kept:
// CodeHash is its keyed hash (Verifier.codeHash), and a re-send derives a
// generated code again from the key and the SID.
type Verification struct {
	Sid        Sid
	AccountSid Sid
	ServiceSid Sid
	// To is normalised: E.164 for a phone channel, the address with its
	// domain in lower case for email.
	To string
	// Key names the verification's lifecycle: To, or for a PSD2 service
	// To with the amount and payee, since each such triple has its own
	// code. At most one verification per service and key is live
	// (pending, or max_attempts_reached until it expires).
	Key string
	// Channel is the channel of the latest send.
	Channel string
	// Status is the stored status; use StatusAt to read it.
	Status        VerificationStatus
	Amount, Payee *string
	CodeHash      []byte
	CodeLength    int
	// CustomCode tells that the code came from the request's CustomCode:
	// it cannot be derived again, so a re-send must carry it.
	CustomCode bool
	Sends      int
	Checks     int
	ExpiresAt  time.Time
	// Attempts are the sends, oldest first.
	Attempts    []*SendAttempt
	DateCreated time.Time
	DateUpdated time.Time
}

// StatusAt is the status as read at now: pending and max_attempts_reached
// become expired at ExpiresAt.
func (v *Verification) StatusAt(now time.Time) VerificationStatus {
	if (v.Status == VerificationPending || v.Status == VerificationMaxAttempts) && !now.Before(v.ExpiresAt) {
		return VerificationExpired
	}
	return v.Status
}

// Valid is the legacy boolean of the wire: true once approved.
func (v *Verification) Valid() bool { return v.Status == VerificationApproved }

// SendAttempt is one send of a verification's code (VL…): an element of
// send_code_attempts and, later, a record of the Attempts API. Its
// delivery fields move as the sender reports.
type SendAttempt struct {
	Sid             Sid
	VerificationSid Sid
	AccountSid      Sid
	ServiceSid      Sid
	Channel         string
	To              string
	// Country is the destination's ISO 3166-1 alpha-2 code ("" for
	// e-mail and non-geographic numbers).
	Country string
	Locale  string
	Tags    map[string]string
	// MessageStatus uses Twilio's message status words: queued until the
	// sender reports, then sent, delivered, undelivered or failed.
	MessageStatus string
	// ErrorCode is the sender's error code (0 for none).
	ErrorCode int
	// Price and PriceUnit are what the gateway reported, if anything.
	Price, PriceUnit string
	Converted        bool
	DateCreated      time.Time
	DateUpdated      time.Time
}

// Message statuses of a send attempt.
const (
	MessageQueued    = "queued"
	MessageSent      = "sent"
	MessageDelivered = "delivered"
	MessageFailed    = "failed"
)

// SendResult is what a sender reports about one send attempt.
type SendResult struct {
	MessageStatus    string
	ErrorCode        int
	Price, PriceUnit string
	Now              time.Time
}

// VerificationParams are the parameters of create verification.
type VerificationParams struct {
	To                          *string
	Channel                     *string
	CustomFriendlyName          *string
	CustomMessage               *string
	SendDigits                  *string
	Locale                      *string
	CustomCode                  *string
	Amount                      *string
	Payee                       *string
	RateLimits                  *string
	ChannelConfiguration        *string
	AppHash                     *string
	TemplateSid                 *string
	TemplateCustomSubstitutions *string
	DeviceIP                    *string
	EnableSnaClientToken        *bool
	RiskCheck                   *string
	Tags                        *string
}

// VerificationCheckParams are the parameters of a verification check.
type VerificationCheckParams struct {
	Code            *string
	To              *string
	VerificationSid *string
	Amount          *string
	Payee           *string
}
