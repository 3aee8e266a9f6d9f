package verify

import (
	"errors"
	"fmt"
)

// Twilio error codes that verifyd returns. The HTTP status for each code is
// decided in one place, the api package; limits.md in the shared docs lists
// where each one comes from.
const (
	EInternal        = 20500 // unexpected server failure; message hidden from the client
	EParam           = 20001 // invalid parameter where no Verify code fits (the Keys API)
	EAuthenticate    = 20003 // missing or wrong credentials
	ENotFound        = 20404 // resource not found
	ETooManyRequests = 20429 // too many failed logins from a client or for a SID
	EInvalidParam    = 60200 // invalid parameter (services, verifications)
	EMaxChecks       = 60202 // max check attempts reached on a verification
	EMaxSends        = 60203 // max send attempts reached on a verification
	EFeature         = 60204 // the service does not allow the feature (custom code, PSD2)
	ELandline        = 60205 // SMS to a landline with SkipSmsToLandlines
	EPsd2Missing     = 60206 // a PSD2 service needs Amount and Payee
	ERateLimitMax    = 60207 // too many rate limits on the service
	ERateLimitExists = 60208 // a rate limit with that UniqueName exists
	EUniqueName      = 60209 // UniqueName has characters other than letters, digits, - _ .
	EBucketMax       = 60210 // too many buckets on the rate limit
	EBucketExists    = 60211 // the rate limit has a bucket with that Interval
	EConcurrent      = 60212 // concurrent creates for the same To
	EMessagingExists = 60213 // a messaging configuration exists for the country
	ECallPsd2        = 60214 // the call channel is not allowed with PSD2
	ECheckTarget     = 60221 // a check names neither To nor VerificationSid
	ESubstitution    = 60224 // template substitutions missing or not JSON
	ETemplateMissing = 60228 // TemplateSid names no template
	ETemplateChannel = 60408 // TemplateSid on a channel that takes none
	EMessageLength   = 60247 // the message is longer than 500 characters
	EUnsupportedChan = 60428 // the channel is unknown or has no sender here
	EToChannel       = 60437 // To does not fit the channel
	EAppHash         = 60602 // AppHash on a channel other than sms
	EPushParam       = 60300 // invalid parameter (entities, factors, challenges)
	EEntityExists    = 60301 // entity already exists
	EAccessToken     = 60305 // access-token parameters invalid
	EEventType       = 60306 // unknown webhook event type (docs/delivery.md §13)
	EWebhookFailed   = 60330 // a webhook delivery failed for good: logged, never an API answer
	ENotifyNone      = 60307 // factor platform is none: nothing to notify
	EChallengeTries  = 60308 // too many wrong codes on a challenge
	ENotifyMax       = 60309 // too many notifications for a challenge
	EFactorTries     = 60310 // too many wrong codes while verifying a factor
	EFactorVerify    = 60311 // factor verification failed (push signature)
	EChallengeQuota  = 60312 // too many challenges created for the factor
	ENotAuthorized   = 60313 // not authorized to create a factor
	EBinding         = 60314 // factor binding has the wrong format
	EFactorMax       = 60315 // too many factors of this type on the entity
	EBindingExists   = 60317 // a factor with the same binding exists
	EFactorQuota     = 60326 // too many factors created for the entity
	EFactorUnverifed = 60318 // the factor is not verified
	EChallengeDone   = 60322 // the challenge was already responded to
	EChallengeExpire = 60323 // the challenge expired
	EChallengeVerify = 60324 // bad signature in AuthPayload
	ESidInvalid      = 60360 // a SID or identity is malformed (60361-60367 family)
	EServiceSid      = 60362 // service SID malformed
	EFactorSid       = 60363 // factor SID malformed
	EChallengeSid    = 60364 // challenge SID must be YC + 32 hex
	EIdentity        = 60366 // identity malformed
	EDetails         = 60368 // challenge details invalid or missing
	EFactorType      = 60369 // factor type invalid or missing
	EFactorConfig    = 60370 // factor config invalid or missing
	EFactorState     = 60383 // operation illegal for the factor's status
)

// Error is the one error type of verifyd. Code is a Twilio error code; the
// message is safe to show to the API client. Err, if set, is the internal
// cause and is never shown.
type Error struct {
	Code    int
	Message string
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("verify error %d: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("verify error %d: %s", e.Code, e.Message)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the Twilio code of err, or EInternal if err is not (or
// does not wrap) an *Error.
func ErrorCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err. Errors that are not an
// *Error get a generic message, so internal details never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal server error"
}

// IsCode reports whether err carries the given Twilio code.
func IsCode(err error, code int) bool { return err != nil && ErrorCode(err) == code }
