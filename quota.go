package verify

import "time"

// ChallengeQuota is how many challenges one factor may have created in a
// time window. Twilio refuses a challenge beyond it with 60312 (429): for a
// factor whose code has 5 or more digits (and for push) 50 per hour and 100
// per 24 hours, for a TOTP code of 3 or 4 digits 10 per 24 hours. Without
// it, whoever holds a user's password could create challenges without end
// and guess a TOTP code five at a time (MaxChallengeAttempts) until one
// matched; with it a 6-digit factor takes at most 500 guesses in one of its
// days (1,000 across the edge of two).
//
// The windows are fixed, not sliding: a factor's hour starts with its first
// challenge after the previous hour ended, and its day the same way. So at
// most Hour challenges fall in any one of the factor's hours and Day in any
// of its days, and at most twice as many across the edge of two windows.
// Twilio does not say how it counts; fixed windows cost two counters on the
// factor's row and one UPDATE per challenge, which is what makes the count
// exact on a database that several nodes share.
type ChallengeQuota struct {
	Hour int // challenges per hour; 0: no hourly limit
	Day  int // challenges per 24 hours
}

// MaxFactorCreationsPerDay is how many factors one entity may have created
// in a day, deleted ones included (Twilio's 60326, HTTP 429): the cap on
// factors per entity (EFactorMax) alone would let a caller delete and
// create factors without end.
const MaxFactorCreationsPerDay = 100

// Quota windows.
const (
	QuotaHour = time.Hour
	QuotaDay  = 24 * time.Hour
)

// ChallengeQuotaFor returns the quota of factor f.
func ChallengeQuotaFor(f *Factor) ChallengeQuota {
	if f.Type == FactorTotp && f.Totp != nil && f.Totp.CodeLength <= 4 {
		return ChallengeQuota{Day: 10}
	}
	return ChallengeQuota{Hour: 50, Day: 100}
}
