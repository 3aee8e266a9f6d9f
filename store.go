package verify

import (
	"context"
	"time"
)

// Cursor is a keyset position in a list ordered by (DateCreated, Sid).
type Cursor struct {
	Time time.Time
	Sid  Sid
}

// Page asks for one page of a list. With After set the page starts after
// that position; with Before set it ends before it (the previous page). Desc
// reverses the list's order.
type Page struct {
	Size   int
	After  *Cursor
	Before *Cursor
	Desc   bool
}

// ChallengeFilter narrows a challenge list. Empty fields do not filter.
type ChallengeFilter struct {
	FactorSid Sid
	// Status filters on the status as read at Now, so "expired" and
	// "pending" are told apart by the expiration date ("expired" also
	// matches challenges the sweep stored as expired).
	Status ChallengeStatus
	Now    time.Time
}

// Store is everything Verifier needs from persistence. Every method that
// changes state does so as one compare-and-swap: it returns an error rather
// than overwrite a state it did not expect.
//
// Lookups return an *Error with code ENotFound when nothing matches; they
// never return (nil, nil). List methods return at most Page.Size items plus
// whether more items lie beyond the page in the direction read.
type Store interface {
	OutboxStore
	VerificationStore
	RateLimitStore
	SafeListStore
	AttemptStore

	// Tx runs fn inside one transaction; fn's store sees and makes changes
	// atomically. An error from fn rolls everything back. fn must use only
	// the store it is given: on SQLite there is one writer connection, so a
	// write through the outer store would wait for the transaction that is
	// waiting for it. A Tx inside a Tx joins the outer transaction (no
	// savepoints), so an inner error that the outer fn swallows does not undo
	// the inner writes.
	//
	// Several nodes may share the database. Inside Tx, FindService and
	// FindEntity lock the row they return, and CountFactors the entity it
	// counts for, until the transaction ends, so that a read-modify-write or
	// a count-then-create inside one Tx holds against every other node.
	Tx(ctx context.Context, fn func(Store) error) error

	// TryLock runs fn in a transaction holding the lock called name, or
	// returns false at once, without running fn, if another node holds it:
	// background work runs on one node at a time without anyone waiting.
	TryLock(ctx context.Context, name string, fn func(Store) error) (bool, error)

	// FindAccount returns the account with the given SID.
	FindAccount(ctx context.Context, sid Sid) (*Account, error)
	// PutAccount creates the account, or sets its primary token hash to
	// a.TokenHash unless a.TokenHash is what the last PutAccount of the
	// account set: serve calls it at every start with the configured token,
	// and a token rotated through the API since must stay rotated. Setting a
	// new primary this way also deletes the secondary token, since it is how
	// an operator takes back an account whose tokens were lost or leaked.
	// The creation date of an existing account is kept.
	PutAccount(ctx context.Context, a *Account) error
	// CountAccounts returns how many accounts exist.
	CountAccounts(ctx context.Context) (int, error)
	// ListAccounts pages through every account, for the operator.
	ListAccounts(ctx context.Context, p Page) ([]*Account, bool, error)
	// DeleteAccount deletes the account and everything it owns: services
	// with all that is inside them, API keys, push credentials and its
	// outbox rows. ENotFound if it does not exist.
	DeleteAccount(ctx context.Context, sid Sid) error
	// SetSecondaryToken makes hash the account's secondary token hash,
	// created at now, replacing the secondary token it had. ENotFound if
	// the account does not exist.
	SetSecondaryToken(ctx context.Context, account Sid, hash []byte, now time.Time) error
	// DeleteSecondaryToken deletes the account's secondary token; ENotFound
	// if the account has none.
	DeleteSecondaryToken(ctx context.Context, account Sid) error
	// PromoteSecondaryToken makes the secondary token the primary one, and
	// the old primary invalid, in one compare-and-swap: of two concurrent
	// calls one promotes and the other finds no secondary. It returns the
	// account as it was before, so SecondaryHash and SecondaryCreated are
	// those of the new primary. ENotFound if the account has no secondary.
	PromoteSecondaryToken(ctx context.Context, account Sid) (*Account, error)
	// SealToken keeps token sealed with the master key as the account's
	// token of role, if none is sealed for that role and the account's
	// hash for it is still HashToken(token), and reports whether it
	// wrote: one conditional update, so that concurrent calls seal once
	// and a token replaced meanwhile is never sealed. The writes that
	// change a hash (PutAccount, SetSecondaryToken, DeleteSecondaryToken)
	// clear the sealed value they outdate; PromoteSecondaryToken moves it.
	SealToken(ctx context.Context, account Sid, role TokenRole, token string) (bool, error)
	// SigningToken returns the account's primary auth token, opened, to
	// sign webhooks with. ENotFound if the account does not exist; an
	// EInternal error wrapping ErrNoSigningToken if the token is not kept
	// sealed (yet).
	SigningToken(ctx context.Context, account Sid) (string, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKey returns the key with the given SID, of any account: it is
	// how a request signed with a key finds its account.
	FindAPIKey(ctx context.Context, sid Sid) (*APIKey, error)
	// UpdateAPIKey stores FriendlyName and DateUpdated of the account's key.
	UpdateAPIKey(ctx context.Context, k *APIKey) error
	DeleteAPIKey(ctx context.Context, account, sid Sid) error
	ListAPIKeys(ctx context.Context, account Sid, p Page) ([]*APIKey, bool, error)

	// CreatePushCredential stores a new credential with its secret, sealed
	// at rest with the credential's SID as additional data; ENotFound if the
	// account does not exist.
	CreatePushCredential(ctx context.Context, c *PushCredential) error
	// FindPushCredential returns the account's credential without its
	// secret (Secret nil); ENotFound otherwise, also for another account's.
	// Inside Tx it locks the credential until the transaction ends.
	FindPushCredential(ctx context.Context, account, sid Sid) (*PushCredential, error)
	// OpenPushCredential returns the credential with its secret opened, of
	// whatever account: the delivery worker's read, by the SID a service
	// names. ENotFound if it does not exist.
	OpenPushCredential(ctx context.Context, sid Sid) (*PushCredential, error)
	// UpdatePushCredential stores every field of the account's credential,
	// its secret sealed again; ENotFound if it does not exist.
	UpdatePushCredential(ctx context.Context, c *PushCredential) error
	DeletePushCredential(ctx context.Context, account, sid Sid) error
	// ListPushCredentials pages through the account's credentials without
	// their secrets.
	ListPushCredentials(ctx context.Context, account Sid, p Page) ([]*PushCredential, bool, error)
	// ServicesUsingCredential lists the account's services whose push
	// settings name the credential.
	ServicesUsingCredential(ctx context.Context, account, sid Sid) ([]Sid, error)

	CreateService(ctx context.Context, s *Service) error
	// FindService returns the account's service; ENotFound otherwise.
	FindService(ctx context.Context, account, sid Sid) (*Service, error)
	// UpdateService replaces the stored settings of s.
	UpdateService(ctx context.Context, s *Service) error
	// DeleteService deletes the service and everything inside it.
	DeleteService(ctx context.Context, account, sid Sid) error
	ListServices(ctx context.Context, account Sid, p Page) ([]*Service, bool, error)

	// CreateEntity returns EEntityExists if the identity is taken.
	CreateEntity(ctx context.Context, e *Entity) error
	FindEntity(ctx context.Context, service Sid, identity string) (*Entity, error)
	// DeleteEntity deletes the entity with its factors, challenges and
	// notifications.
	DeleteEntity(ctx context.Context, service Sid, identity string) error
	ListEntities(ctx context.Context, service Sid, p Page) ([]*Entity, bool, error)

	// TakeFactorQuota counts one more factor created for the entity at now,
	// or returns EFactorQuota, counting nothing, if perDay were created in
	// the entity's current day (a fixed window, as in ChallengeQuota).
	TakeFactorQuota(ctx context.Context, entity Sid, perDay int, now time.Time) error
	CreateFactor(ctx context.Context, f *Factor) error
	FindFactor(ctx context.Context, entity, sid Sid) (*Factor, error)
	// FindFactorByCredential finds a push factor by its credential SID.
	FindFactorByCredential(ctx context.Context, credential Sid) (*Factor, error)
	// CountFactors counts the entity's factors of one type.
	CountFactors(ctx context.Context, entity Sid, t FactorType) (int, error)
	// FindPushFactorByKey finds the entity's push factor with this public key.
	FindPushFactorByKey(ctx context.Context, entity Sid, publicKey []byte) (*Factor, error)
	// UpdateFactor stores FriendlyName, Metadata, the type's config and
	// DateUpdated. Status, secrets and counters are changed only by the
	// compare-and-swap methods below.
	UpdateFactor(ctx context.Context, f *Factor) error
	// KillPushToken marks the push factor's notification token dead, in a
	// compare-and-swap on the token: it reports false, changing nothing,
	// if the factor is gone or its token is not token any more (the
	// device sent a new one since the push that was refused). An
	// UpdateFactor that stores a different token makes it live again. The
	// factor's DateUpdated stays: nothing the API shows changes.
	KillPushToken(ctx context.Context, factor Sid, token string) (bool, error)
	// VerifyFactor moves an unverified factor to verified and clears its
	// count of wrong attempts; EFactorState if it is not unverified any
	// more.
	VerifyFactor(ctx context.Context, sid Sid, now time.Time) error
	// UseTotpStep records that the factor accepted the code of the time step
	// [start, end): it succeeds only if no code of a step ending after start
	// was accepted before, and returns false (no error) for a replay.
	UseTotpStep(ctx context.Context, factor Sid, start, end int64) (bool, error)
	// TakeFactorAttempt reserves one of an unverified factor's max attempts
	// at a code, before the code is compared, and returns the count with
	// it. The reservation stands as a wrong attempt; a verification in the
	// same transaction (VerifyFactor) clears the count. EFactorTries when
	// max are taken, EFactorState when the factor is verified already,
	// ENotFound when it does not exist. One conditional UPDATE, so that no
	// more than max codes are ever compared, whatever runs in parallel on
	// however many nodes.
	TakeFactorAttempt(ctx context.Context, factor Sid, max int) (int, error)
	DeleteFactor(ctx context.Context, entity, sid Sid) error
	// ListFactors lists an entity's factors without their TOTP secrets
	// (Totp.Secret is nil) and without the last time step each TOTP factor
	// accepted (Totp.LastUsedEnd is 0): a list never shows them, and
	// leaving the step out lets a store serve a page from one index that
	// TOTP checks do not write.
	ListFactors(ctx context.Context, entity Sid, p Page) ([]*Factor, bool, error)
	// TotpLastUsed returns, for each of the entity's TOTP factors that has
	// accepted a code, the end of the last time step it accepted
	// (Totp.LastUsedEnd), which ListFactors leaves out.
	TotpLastUsed(ctx context.Context, entity Sid) (map[Sid]int64, error)
	// CreateTotpChallenge creates c, a pending TOTP challenge whose code
	// was compared on creation, in one statement where a statement is a
	// round trip (PostgreSQL): it takes the factor's challenge quota,
	// records the time step [start, end) as used if matched and no code of
	// that or a later step was accepted, and stores c approved if it took
	// the step, or pending with one failed attempt. It reports done false,
	// having written nothing, when the caller must take the general path
	// (TakeChallengeQuota, UseTotpStep and CreateChallenge in a
	// transaction): on SQLite, whose single writer a round trip does not
	// slow; inside a transaction; and when the service has a webhook (its
	// event is written with the approval), the quota is spent, or the
	// factor is gone (the general path tells those apart).
	CreateTotpChallenge(ctx context.Context, c *Challenge, q ChallengeQuota, matched bool, start, end int64, now time.Time) (done, approved bool, err error)
	// RespondChallengeAlone is RespondChallenge as one statement where a
	// statement is a round trip (PostgreSQL) and the service has no
	// webhook. It reports false, having written nothing, when the caller
	// must take the general path (RespondChallenge and the event in a
	// transaction): on SQLite, inside a transaction, when the service has
	// a webhook, and when the challenge is no longer pending (the general
	// path says why).
	RespondChallengeAlone(ctx context.Context, sid Sid, status ChallengeStatus, reason string, metadata map[string]string, now time.Time) (bool, error)

	// FindServiceFactor returns the service's factor, of whatever entity;
	// ENotFound otherwise. A passkeys registration finds its factor by
	// the SID its challenge carries.
	FindServiceFactor(ctx context.Context, service, sid Sid) (*Factor, error)
	// FindPasskeyFactor returns the service's passkeys factor whose
	// credential has this ID; ENotFound otherwise.
	FindPasskeyFactor(ctx context.Context, service Sid, credentialID []byte) (*Factor, error)
	// RegisterPasskey stores f.Passkey, now with its credential, and
	// moves the unverified factor to verified in one compare-and-swap:
	// EFactorState if it is not unverified any more, EBindingExists if
	// the service has a passkey with the same credential ID.
	RegisterPasskey(ctx context.Context, f *Factor, now time.Time) error
	// SwapPasskey replaces the factor's passkey part old by next if it is
	// still old, and reports whether it did.
	SwapPasskey(ctx context.Context, factor Sid, old, next *PasskeyFactor) (bool, error)
	// FindServiceChallenge returns the service's challenge, of whatever
	// entity; ENotFound otherwise.
	FindServiceChallenge(ctx context.Context, service, sid Sid) (*Challenge, error)
	// CreatePasskeyLogin stores a pending passkeys challenge that names
	// no factor yet (EntitySid and FactorSid may be empty): a login.
	CreatePasskeyLogin(ctx context.Context, c *Challenge) error
	// FindPasskeyLogin returns the service's login as a pending
	// challenge; ENotFound if there is none.
	FindPasskeyLogin(ctx context.Context, service, sid Sid) (*Challenge, error)
	// ClosePasskeyLogin deletes a login that has not expired at now, in
	// one compare-and-swap; EChallengeDone if it is gone or expired.
	ClosePasskeyLogin(ctx context.Context, sid Sid, now time.Time) error

	// TakeChallengeQuota counts one more challenge created for the factor
	// at now, or returns EChallengeQuota, counting nothing, if q is used up
	// in the factor's current hour or day (see ChallengeQuota).
	TakeChallengeQuota(ctx context.Context, factor Sid, q ChallengeQuota, now time.Time) error
	CreateChallenge(ctx context.Context, c *Challenge) error
	FindChallenge(ctx context.Context, entity, sid Sid) (*Challenge, error)
	ListChallenges(ctx context.Context, entity Sid, f ChallengeFilter, p Page) ([]*Challenge, bool, error)
	// RespondChallenge moves a pending, unexpired challenge to status
	// (approved or denied), setting DateResponded, DateUpdated, the reason
	// and, if not nil, Metadata. It returns EChallengeDone or
	// EChallengeExpire when the challenge is no longer pending at now.
	RespondChallenge(ctx context.Context, sid Sid, status ChallengeStatus, reason string, metadata map[string]string, now time.Time) error
	// TakeChallengeAttempt reserves one of a pending challenge's max
	// attempts at a code, before the code is compared, and returns the
	// count with it. The reservation stands as a wrong attempt unless
	// ApproveChallenge gives it back in the same transaction. It fails,
	// taking nothing, with EChallengeTries when max are taken, and as
	// RespondChallenge does when the challenge is not pending at now. One
	// conditional UPDATE, so that no more than max codes are ever
	// compared, whatever runs in parallel on however many nodes.
	TakeChallengeAttempt(ctx context.Context, challenge Sid, max int, now time.Time) (int, error)
	// ApproveChallenge is RespondChallenge with status approved for a code
	// that was right: it also gives back the attempt that
	// TakeChallengeAttempt reserved for the code.
	ApproveChallenge(ctx context.Context, sid Sid, metadata map[string]string, now time.Time) error

	CreateWebhook(ctx context.Context, w *Webhook) error
	// FindWebhook returns the service's webhook; ENotFound otherwise.
	FindWebhook(ctx context.Context, service, sid Sid) (*Webhook, error)
	// UpdateWebhook stores every field of w but its SIDs and creation date.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	DeleteWebhook(ctx context.Context, service, sid Sid) error
	// CountWebhooks counts the service's webhooks in the database (never
	// from a cache: it decides the cap).
	CountWebhooks(ctx context.Context, service Sid) (int, error)
	// ListWebhooks pages through the service's webhooks; emitting an event
	// reads them all (at most MaxWebhooksPerService).
	ListWebhooks(ctx context.Context, service Sid, p Page) ([]*Webhook, bool, error)

	CreateAccessToken(ctx context.Context, t *AccessToken) error
	FindAccessToken(ctx context.Context, service, sid Sid) (*AccessToken, error)
	// UseAccessToken marks an unused token as used at now; ENotAuthorized if
	// it was used before.
	UseAccessToken(ctx context.Context, sid Sid, now time.Time) error

	// CreateNotification records a notification if the challenge has fewer
	// than max; ENotifyMax otherwise.
	CreateNotification(ctx context.Context, n *Notification, max int) error

	// Background work: each call changes at most limit rows, each row as a
	// compare-and-swap, and returns how many it changed.

	// ExpireChallenges stores status expired on pending challenges whose
	// expiration date is at or before now, and returns them as they are
	// now (for the challenge.expired webhook).
	ExpireChallenges(ctx context.Context, now time.Time, limit int) ([]*Challenge, error)
	// DeleteUnverifiedFactors deletes factors still unverified that were
	// created before createdBefore.
	DeleteUnverifiedFactors(ctx context.Context, createdBefore time.Time, limit int) (int, error)
	// PurgePasskeyLogins deletes logins expired at now.
	PurgePasskeyLogins(ctx context.Context, now time.Time, limit int) (int, error)
	// PurgeAccessTokens deletes access tokens created before createdBefore.
	PurgeAccessTokens(ctx context.Context, createdBefore time.Time, limit int) (int, error)
}

// VerificationStore keeps classic verifications and their send attempts.
// Every change is a compare-and-swap on the verification's row, so that
// the send and check limits hold whatever runs in parallel on however many
// nodes.
type VerificationStore interface {
	// CreateVerification stores a new pending verification with its first
	// send attempt (v.Attempts[0]). EConcurrent if another verification
	// with the same service and Key is live: a create for the same To
	// committed meanwhile.
	CreateVerification(ctx context.Context, v *Verification) error
	// FindVerification returns the service's verification, whatever its
	// status, without its attempts (ListSendAttempts); ENotFound
	// otherwise. The finds leave Attempts nil: a check, the hot path,
	// never shows them.
	FindVerification(ctx context.Context, service, sid Sid) (*Verification, error)
	// FindLiveVerification returns the service's live verification
	// (pending or max_attempts_reached, not yet released) with the given
	// Key; ENotFound if there is none. It may return one
	// that has expired at the caller's now: see ReleaseVerification. Inside
	// Tx it locks the row until the transaction ends.
	FindLiveVerification(ctx context.Context, service Sid, key string) (*Verification, error)
	// FindVerificationTo returns the newest live verification of the
	// service sent to to, whatever its Key; ENotFound if there is none.
	FindVerificationTo(ctx context.Context, service Sid, to string) (*Verification, error)
	// ResendVerification adds attempt a to a verification that is pending
	// and unexpired at now with fewer than max sends, counting the send
	// and setting its channel, in one conditional update; with hash not
	// nil it also replaces the code hash (a new CustomCode). It returns
	// the sends counted, or EMaxSends when max were made, ENotFound when
	// the verification is not pending at now.
	ResendVerification(ctx context.Context, sid Sid, a *SendAttempt, hash []byte, max int, now time.Time) (int, error)
	// TakeVerificationCheck reserves one of a pending, unexpired
	// verification's max checks before its code is compared, and returns
	// the count with it. EMaxChecks when max are taken (also once the
	// status is max_attempts_reached, until expiry); ENotFound when the
	// verification is not pending at now.
	TakeVerificationCheck(ctx context.Context, sid Sid, max int, now time.Time) (int, error)
	// SetVerificationStatus moves a pending, unexpired verification to
	// status (approved, canceled or max_attempts_reached), in one
	// conditional update. Approved and canceled release the Key, so that a
	// new create starts a new verification; approved also marks every
	// attempt converted. ENotFound when it is not pending at now.
	SetVerificationStatus(ctx context.Context, sid Sid, status VerificationStatus, now time.Time) error
	// ReleaseVerification frees the Key of a live verification that has
	// expired at now, storing status expired; false if it is not live and
	// expired (released meanwhile, or not expired).
	ReleaseVerification(ctx context.Context, sid Sid, now time.Time) (bool, error)
	// ExpireVerifications releases up to limit live verifications expired
	// at now and returns how many.
	ExpireVerifications(ctx context.Context, now time.Time, limit int) (int, error)
	// ListSendAttempts returns the verification's attempts, oldest first.
	ListSendAttempts(ctx context.Context, verification Sid) ([]*SendAttempt, error)
	// SettleSendAttempt records what the sender reported about a send.
	// ENotFound if the attempt is gone.
	SettleSendAttempt(ctx context.Context, sid Sid, r SendResult) error

	// CreateMessagingConfiguration stores a country's configuration;
	// EMessagingExists if the service has one for that country.
	CreateMessagingConfiguration(ctx context.Context, m *MessagingConfiguration) error
	// FindMessagingConfiguration returns the service's configuration of
	// country; ENotFound otherwise.
	FindMessagingConfiguration(ctx context.Context, service Sid, country string) (*MessagingConfiguration, error)
	// UpdateMessagingConfiguration stores m's Messaging Service SID and
	// date_updated; ENotFound if it is gone.
	UpdateMessagingConfiguration(ctx context.Context, m *MessagingConfiguration) error
	DeleteMessagingConfiguration(ctx context.Context, service Sid, country string) error
	ListMessagingConfigurations(ctx context.Context, service Sid, p Page) ([]*MessagingConfiguration, bool, error)
	// MessagingServiceFor returns the Messaging Service SID an SMS to
	// country uses: the country's configuration, else the one of
	// CountryAll, else "". One indexed read: it runs on every SMS create.
	MessagingServiceFor(ctx context.Context, service Sid, country string) (Sid, error)
}

// RateLimitStore keeps programmable rate limits, their buckets, and the
// counters of the values verification creates give for them.
type RateLimitStore interface {
	// CreateRateLimit stores r; ERateLimitExists if the service has a
	// rate limit of that UniqueName.
	CreateRateLimit(ctx context.Context, r *RateLimit) error
	// FindRateLimit returns the service's rate limit whose SID or
	// UniqueName is key; ENotFound otherwise.
	FindRateLimit(ctx context.Context, service Sid, key string) (*RateLimit, error)
	// UpdateRateLimit stores r's Description and date_updated.
	UpdateRateLimit(ctx context.Context, r *RateLimit) error
	// DeleteRateLimit deletes it with its buckets and their counters.
	DeleteRateLimit(ctx context.Context, service, sid Sid) error
	CountRateLimits(ctx context.Context, service Sid) (int, error)
	ListRateLimits(ctx context.Context, service Sid, p Page) ([]*RateLimit, bool, error)

	// CreateBucket stores b; EBucketExists if its rate limit has a bucket
	// of the same Interval.
	CreateBucket(ctx context.Context, b *Bucket) error
	FindBucket(ctx context.Context, rateLimit, sid Sid) (*Bucket, error)
	// UpdateBucket stores b's Max, Interval and date_updated;
	// EBucketExists as CreateBucket. Its counters start afresh at their
	// next take (TakeRates finds them in the old units).
	UpdateBucket(ctx context.Context, b *Bucket) error
	// DeleteBucket deletes the bucket; its counters go once idle
	// (PruneRateCounters).
	DeleteBucket(ctx context.Context, rateLimit, sid Sid) error
	CountBuckets(ctx context.Context, rateLimit Sid) (int, error)
	ListBuckets(ctx context.Context, rateLimit Sid, p Page) ([]*Bucket, bool, error)

	// RateBuckets returns the buckets of the service's rate limits named
	// in names (all of them if names is nil), with the name of each,
	// ordered by name and interval: one indexed read per create that
	// names rate limits.
	RateBuckets(ctx context.Context, service Sid, names []string) ([]NamedBucket, error)
	// TakeRates takes one unit from every bucket of the service's rate
	// limits named in values, from the counter of the value's key, and
	// returns the takes refused because their bucket was full, with how
	// long until each admits again. It is RateBuckets and TakeBuckets in
	// one; on PostgreSQL one statement, and one round trip.
	TakeRates(ctx context.Context, service Sid, values []RateValue, now time.Time) ([]RateRefusal, error)
	// TakeBuckets takes one unit from each counter in one statement (a
	// conditional upsert, exact on any number of nodes) and returns the
	// takes refused because their bucket was full, with how long until
	// each admits again. The units of the takes not refused are taken
	// even when others are refused: the caller rolls its transaction
	// back then.
	TakeBuckets(ctx context.Context, takes []RateTake, now time.Time) ([]RateRefusal, error)
	// TakeThrottle is TakeBuckets for the built-in limits (Limits): the
	// counters are keyed by RateTake.Key alone, and count on their own,
	// outside any caller's transaction.
	TakeThrottle(ctx context.Context, takes []RateTake, now time.Time) ([]RateRefusal, error)
	// PruneRateCounters deletes up to limit counters of either kind that
	// are idle at now (as if never used) and returns how many.
	PruneRateCounters(ctx context.Context, now time.Time, limit int) (int, error)
}

// SafeListStore keeps each account's Safe List of phone numbers.
type SafeListStore interface {
	// AddSafeNumber stores s; ESafeListed if the account has the number.
	AddSafeNumber(ctx context.Context, s *SafeNumber) error
	// FindSafeNumber returns the account's entry of number (E.164);
	// ENotFound otherwise.
	FindSafeNumber(ctx context.Context, account Sid, number string) (*SafeNumber, error)
	RemoveSafeNumber(ctx context.Context, account Sid, number string) error
}

// AttemptStore reads verification attempts for the Attempts API.
type AttemptStore interface {
	// ListAttempts pages through the account's attempts matching f, in
	// (date_created, sid) order (Page.Desc: newest first).
	ListAttempts(ctx context.Context, account Sid, f AttemptFilter, p Page) ([]*Attempt, bool, error)
	// FindAttempt returns the account's attempt; ENotFound otherwise.
	FindAttempt(ctx context.Context, account, sid Sid) (*Attempt, error)
	// SummarizeAttempts counts the account's attempts matching f, and
	// the converted ones, in one aggregate query.
	SummarizeAttempts(ctx context.Context, account Sid, f AttemptFilter) (AttemptSummary, error)
	// PruneVerifications deletes up to limit verifications that are no
	// longer live and have an attempt made before before, with all their
	// attempts, and returns how many. Live ones are never deleted, nor do
	// they keep released ones from being.
	PruneVerifications(ctx context.Context, before time.Time, limit int) (int, error)
}
