package verify

import "time"

// FactorType is the kind of a factor.
type FactorType string

// Factor types served by verifyd.
const (
	FactorPush FactorType = "push"
	FactorTotp FactorType = "totp"
)

// FactorStatus is whether a factor has proved possession of its secret.
type FactorStatus string

// Factor statuses.
const (
	FactorUnverified FactorStatus = "unverified"
	FactorVerified   FactorStatus = "verified"
)

// Limits on factors, from Twilio's documentation.
const (
	MaxPushFactors       = 20
	MaxTotpFactors       = 100
	MaxFactorAttempts    = 5 // wrong codes while verifying a TOTP factor
	MaxFriendlyName      = 64
	MaxMetadataLength    = 1024
	MaxAppIDLength       = 100
	MinNotificationToken = 32
	MaxNotificationToken = 255
)

// Factor is a way an entity proves who it is: a TOTP secret, a device-bound
// ES256 key (push) or a WebAuthn credential (passkeys).
type Factor struct {
	Sid          Sid
	AccountSid   Sid
	ServiceSid   Sid
	EntitySid    Sid
	Identity     string
	FriendlyName string
	Type         FactorType
	Status       FactorStatus
	// Metadata is a flat string map set by the device (push), or nil.
	Metadata map[string]string

	Totp    *TotpFactor    // set for FactorTotp
	Push    *PushFactor    // set for FactorPush
	Passkey *PasskeyFactor // set for FactorPasskeys

	// FailedAttempts counts wrong codes while the factor is unverified.
	FailedAttempts int

	DateCreated time.Time
	DateUpdated time.Time
}

// TotpFactor is the TOTP-specific part of a factor.
type TotpFactor struct {
	// Secret is the shared secret in clear; the store encrypts it at rest.
	Secret     []byte
	Alg        string // sha1, sha256 or sha512
	CodeLength int
	TimeStep   int
	Skew       int
	// LastUsedEnd is the Unix time at which the last accepted code's time
	// step ended. A code is accepted only for a step that starts at or after
	// it, so each code is used at most once per factor even across a change
	// of TimeStep.
	LastUsedEnd int64
}

// PushFactor is the push-specific part of a factor.
type PushFactor struct {
	// PublicKey is the DER SubjectPublicKeyInfo of the device's P-256 key.
	PublicKey []byte
	Alg       string // always ES256
	// CredentialSid is the immutable key id the device's JWTs carry as kid.
	CredentialSid        Sid
	SdkVersion           string
	AppID                string
	NotificationPlatform string // apn, fcm or none
	NotificationToken    string
	// TokenDead says APNs or FCM answered that NotificationToken is no
	// longer registered (the app was removed, or the token rotated): no
	// push is sent to it until the device sends a different token, which
	// the store takes as live again (docs/delivery.md §8). The factor is
	// kept: the app can still poll.
	TokenDead bool
}

// Notification platforms of a push factor.
const (
	PlatformAPN  = "apn"
	PlatformFCM  = "fcm"
	PlatformNone = "none"
)
