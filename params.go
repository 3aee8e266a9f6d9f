package verify

import "time"

// The *Params types carry a request's parameters from the transport to
// Verifier, already converted to Go types but not yet checked against
// Twilio's limits: that is Verifier's job. A nil pointer means the parameter
// was not sent. JSON-valued parameters (Metadata, HiddenDetails, each
// Details.Fields item) arrive raw, as the client sent them.

// ServiceParams are the parameters of create and update service.
type ServiceParams struct {
	FriendlyName                   *string
	CodeLength                     *int
	LookupEnabled                  *bool
	SkipSmsToLandlines             *bool
	DtmfInputRequired              *bool
	TtsName                        *string
	Psd2Enabled                    *bool
	DoNotShareWarningEnabled       *bool
	CustomCodeEnabled              *bool
	DefaultTemplateSid             *string
	VerifyEventSubscriptionEnabled *bool

	PushIncludeDate      *bool
	PushApnCredentialSid *string
	PushFcmCredentialSid *string

	TotpIssuer     *string
	TotpTimeStep   *int
	TotpCodeLength *int
	TotpSkew       *int

	WhatsappMsgServiceSid *string
	WhatsappFrom          *string

	PasskeysRelyingPartyID      *string
	PasskeysRelyingPartyName    *string
	PasskeysRelyingPartyOrigins *string // one comma-separated string
	PasskeysAuthenticatorAttach *string
	PasskeysDiscoverableCreds   *string
	PasskeysUserVerification    *string
}

// FactorParams are the parameters of create factor.
type FactorParams struct {
	FriendlyName *string
	FactorType   *string

	BindingAlg       *string
	BindingPublicKey *string
	BindingSecret    *string

	Config FactorConfig
	// Passkey is the config object of a passkeys factor create (JSON);
	// nil through the form endpoint, where the service's settings apply.
	Passkey *PasskeyConfigParams

	Metadata *string
}

// FactorConfig are the Config.* parameters of create and update factor:
// the push ones for a push factor, the TOTP ones for a TOTP factor.
type FactorConfig struct {
	AppID                *string
	NotificationPlatform *string
	NotificationToken    *string
	SdkVersion           *string
	TimeStep             *int
	Skew                 *int
	CodeLength           *int
	Alg                  *string
}

// totp reports whether any TOTP setting was sent.
func (c FactorConfig) totp() bool {
	return c.Alg != nil || c.TimeStep != nil || c.CodeLength != nil || c.Skew != nil
}

// push reports whether any push setting was sent.
func (c FactorConfig) push() bool {
	return c.AppID != nil || c.NotificationPlatform != nil || c.NotificationToken != nil || c.SdkVersion != nil
}

// FactorUpdate are the parameters of update factor. With AuthPayload set the
// call verifies the factor.
type FactorUpdate struct {
	AuthPayload  *string
	FriendlyName *string

	Config FactorConfig
	// Passkey is the config object of a passkeys factor create (JSON);
	// nil through the form endpoint, where the service's settings apply.
	Passkey *PasskeyConfigParams

	Metadata *string
}

// ChallengeParams are the parameters of create challenge.
type ChallengeParams struct {
	FactorSid      *string
	ExpirationDate *time.Time
	DetailsMessage *string
	DetailsFields  []string // raw JSON objects, one per repeated key
	HiddenDetails  *string
	AuthPayload    *string
}

// ChallengeUpdate are the parameters of update challenge.
type ChallengeUpdate struct {
	AuthPayload *string
	Metadata    *string
	// Render returns the challenge as the API shows it, decoded from its
	// JSON (so numbers are float64 and objects map[string]any): a push
	// answer must repeat SignatureFields exactly as the device read them.
	Render func(*Challenge) (map[string]any, error)
	// Device is the push factor whose device JWT authenticated the request,
	// or nil for account credentials: a device answers only its own
	// factor's challenges.
	Device *Factor
}

// ChallengeQuery are the filters of list challenges, unchecked.
type ChallengeQuery struct {
	FactorSid *string
	Status    *string
	Order     *string // asc (default) or desc
}

// AccessTokenParams are the parameters of create access token.
type AccessTokenParams struct {
	Identity           *string
	FactorType         *string
	FactorFriendlyName *string
	TTL                *int
}
