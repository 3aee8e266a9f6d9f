package verify

import "time"

// Account is a tenant: every resource belongs to exactly one account, and
// an account's credentials never reach another account's resources.
type Account struct {
	Sid Sid
	// TokenHash is the SHA-256 of the auth token. The token itself is never
	// stored, so a copy of the database does not hand out credentials.
	TokenHash []byte
	// SecondaryHash is the SHA-256 of the secondary auth token, nil if there
	// is none. As on Twilio, the secondary token is valid beside the primary
	// until it is promoted (it becomes the primary, and the old primary stops
	// working) or deleted, so that clients can move to a new token before the
	// old one is revoked.
	SecondaryHash []byte
	// SecondaryCreated is when the secondary token was made; zero if none.
	SecondaryCreated time.Time
	DateCreated      time.Time
	// TokenSealed and SecondarySealed tell whether the store also keeps
	// the primary and the secondary token sealed with the master key, to
	// sign webhooks (Store.SigningToken). A token set before that existed
	// is not, until its next login seals it (Verifier.Login). The sealed
	// value itself is never read into an Account.
	TokenSealed, SecondarySealed bool
}

// Service is a Verify Service (VA...), the container of entities, factors and
// settings. Settings verifyd does not act on yet are stored and echoed so
// that clients see what they set.
type Service struct {
	Sid          Sid
	AccountSid   Sid
	FriendlyName string
	CodeLength   int

	LookupEnabled                  bool
	SkipSmsToLandlines             bool
	DtmfInputRequired              bool
	TtsName                        string
	Psd2Enabled                    bool
	DoNotShareWarningEnabled       bool
	CustomCodeEnabled              bool
	DefaultTemplateSid             string
	VerifyEventSubscriptionEnabled bool

	Push     PushSettings
	Totp     TotpSettings
	Whatsapp WhatsappSettings
	Passkeys PasskeySettings

	DateCreated time.Time
	DateUpdated time.Time
}

// PushSettings are a Service's Push.* parameters.
type PushSettings struct {
	IncludeDate      bool
	ApnCredentialSid string
	FcmCredentialSid string
}

// TotpSettings are a Service's Totp.* parameters: the defaults for new TOTP
// factors of the service.
type TotpSettings struct {
	Issuer     string
	TimeStep   int
	CodeLength int
	Skew       int
}

// WhatsappSettings are a Service's Whatsapp.* parameters (stored and echoed).
type WhatsappSettings struct {
	MsgServiceSid string
	From          string
}

// PasskeySettings are a Service's Passkeys.* parameters (stored and echoed).
type PasskeySettings struct {
	RelyingPartyID          string
	RelyingPartyName        string
	RelyingPartyOrigins     []string
	AuthenticatorAttachment string
	DiscoverableCredentials string
	UserVerification        string
}

// Default and allowed values of service settings, from Twilio's docs.
const (
	DefaultCodeLength     = 6
	MinCodeLength         = 4
	MaxCodeLength         = 10
	MaxServiceNameLength  = 32
	DefaultTotpTimeStep   = 30
	DefaultTotpCodeLength = 6
	DefaultTotpSkew       = 1
	DefaultTotpAlg        = "sha1"
)

// Entity is a user of the customer's application inside one Service,
// addressed by its Identity rather than its SID.
type Entity struct {
	Sid         Sid
	AccountSid  Sid
	ServiceSid  Sid
	Identity    string
	DateCreated time.Time
	DateUpdated time.Time
}

// ValidIdentity reports whether id is 8-64 characters of dash-separated
// alphanumeric groups, as Twilio requires ("ff483d1f-...").
func ValidIdentity(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	prevDash := true // a leading dash is not allowed
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c == '-':
			if prevDash {
				return false
			}
			prevDash = true
		case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			prevDash = false
		default:
			return false
		}
	}
	return !prevDash
}
