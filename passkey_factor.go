package verify

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/verifyd/verify/passkey"
)

// FactorPasskeys is a WebAuthn credential (a passkey) registered through
// the Passkeys endpoints.
const FactorPasskeys FactorType = "passkeys"

// Limits and timings of passkeys. Twilio documents no cap on passkeys per
// entity; 20 is the push cap, enough for every device a person owns and
// small enough that excludeCredentials and allowCredentials stay short.
// PasskeyTimeout is the timeout of Twilio's options (600000 ms): how long a
// registration or a login ceremony may take, and how long a passkeys
// challenge lives.
const (
	MaxPasskeyFactors = 20
	PasskeyTimeout    = 10 * time.Minute
)

// Twilio's codes of passkeys requests (limits.md §2.3; the error pages).
const (
	EPasskeyRP        = 60371 // relying party invalid or missing
	EPasskeyRPID      = 60372 // relying party id invalid or missing
	EPasskeyID        = 60375 // id is not the base64url of rawId
	EPasskeyRawID     = 60376 // rawId invalid
	EPasskeyAttach    = 60377 // authenticatorAttachment invalid
	EPasskeyResponse  = 60378 // response invalid or missing
	EPasskeyAuthData  = 60379 // response.authenticatorData invalid or missing
	EPasskeyClient    = 60380 // response.clientDataJSON invalid or missing
	EPasskeySignature = 60381 // response.signature invalid or missing
	EPasskeyRPMatch   = 60382 // the response is for another relying party
	EPasskeyAttest    = 60386 // response.attestationObject invalid or missing
	EPasskeyName      = 60388 // friendly_name (the user's display name) missing
	EContactID        = 60420 // identity or userHandle malformed
	EPasskeyVerifyCT  = 60434 // VerifyFactor body is not JSON
	EPasskeyApproveCT = 60433 // ApproveChallenge body is not JSON
)

// PasskeyFactor is the passkeys-specific part of a factor: the relying
// party and preferences it was created with, and, once verified, the
// credential.
type PasskeyFactor struct {
	Config PasskeyConfig `json:"config"`
	// Credential is nil until VerifyFactor registers one.
	Credential *passkey.Credential `json:"credential,omitempty"`
	// CloneWarnings counts assertions refused because the signature
	// counter did not advance: a sign that the authenticator's key was
	// copied. They are kept for the operator; the next assertion with a
	// higher counter is accepted, as WebAuthn leaves the policy to the
	// relying party and refusing the owner for good would lock them out.
	CloneWarnings int `json:"clone_warnings,omitempty"`
	// Stored is the document as the store read it, which SwapPasskey
	// compares with: encoding it again would not give the same text once
	// a field is added or a node of another version wrote it.
	Stored string `json:"-"`
}

// PasskeyConfig is a passkeys factor's config: its relying party and the
// authenticator it asks for. The service's Passkeys.* settings are its
// defaults.
type PasskeyConfig struct {
	RelyingParty            passkey.RP `json:"relying_party"`
	AuthenticatorAttachment string     `json:"authenticator_attachment"`
	DiscoverableCredentials string     `json:"discoverable_credentials"`
	UserVerification        string     `json:"user_verification"`
}

// PasskeyConfigParams is the config object of a passkeys factor create;
// unset fields fall back to the service's settings.
type PasskeyConfigParams struct {
	RelyingPartyID          *string
	RelyingPartyName        *string
	RelyingPartyOrigins     []string // nil: not sent
	AuthenticatorAttachment *string
	DiscoverableCredentials *string
	UserVerification        *string
}

// PasskeyOptions are the WebAuthn options a client passes to
// navigator.credentials.create() (Create) or .get().
type PasskeyOptions struct {
	Create    bool
	RP        passkey.RP
	UserID    []byte // the entity SID's characters: the user handle
	UserName  string
	Challenge []byte
	Timeout   time.Duration
	// Credentials are excludeCredentials (Create) or allowCredentials.
	Credentials      []*passkey.Credential
	Attachment       string // platform, cross-platform, or "" for any
	ResidentKey      string // required, preferred or discouraged
	UserVerification string
}

// PasskeyChallenge is a passkeys challenge with the options its client
// signs.
type PasskeyChallenge struct {
	*Challenge
	Options *PasskeyOptions
}

// passkeyConfig resolves a factor's config from the create's params and
// the service's settings, and checks it.
func passkeyConfig(svc *Service, p *PasskeyConfigParams) (PasskeyConfig, error) {
	s := svc.Passkeys
	c := PasskeyConfig{
		RelyingParty:            passkey.RP{ID: s.RelyingPartyID, Name: s.RelyingPartyName, Origins: s.RelyingPartyOrigins},
		AuthenticatorAttachment: s.AuthenticatorAttachment,
		DiscoverableCredentials: s.DiscoverableCredentials,
		UserVerification:        s.UserVerification,
	}
	if p != nil {
		setString(&c.RelyingParty.ID, p.RelyingPartyID)
		setString(&c.RelyingParty.Name, p.RelyingPartyName)
		if p.RelyingPartyOrigins != nil {
			c.RelyingParty.Origins = p.RelyingPartyOrigins
		}
		enums := []struct {
			name    string
			val     *string
			allowed []string
			dst     *string
		}{
			{"config.authenticator_attachment", p.AuthenticatorAttachment, []string{"platform", "cross-platform", "any"}, &c.AuthenticatorAttachment},
			{"config.discoverable_credentials", p.DiscoverableCredentials, []string{passkey.Required, passkey.Preferred, passkey.Discouraged}, &c.DiscoverableCredentials},
			{"config.user_verification", p.UserVerification, []string{passkey.Required, passkey.Preferred, passkey.Discouraged}, &c.UserVerification},
		}
		for _, f := range enums {
			if f.val == nil {
				continue
			}
			if !oneOf(*f.val, f.allowed...) {
				return c, Errorf(EFactorConfig, "Invalid parameter %s: must be one of %s", f.name, strings.Join(f.allowed, ", "))
			}
			*f.dst = *f.val
		}
	}
	if c.RelyingParty.Name == "" {
		c.RelyingParty.Name = svc.FriendlyName
	}
	c.AuthenticatorAttachment = nonEmpty(c.AuthenticatorAttachment, "any")
	c.DiscoverableCredentials = nonEmpty(c.DiscoverableCredentials, passkey.Preferred)
	c.UserVerification = nonEmpty(c.UserVerification, passkey.Preferred)
	return c, checkRP(c.RelyingParty)
}

// checkServiceRP checks the relying party settings a service create or
// update sends, so that a mistake is refused where it is made, not at the
// first passkey: an id that is not a bare domain (60372), an origin that
// is not one (60371). Settings left empty are checked at factor creation,
// where a factor's config may still supply them.
func checkServiceRP(s PasskeySettings, p ServiceParams) error {
	if p.PasskeysRelyingPartyID != nil && s.RelyingPartyID != "" {
		if err := checkRPID(s.RelyingPartyID); err != nil {
			return err
		}
	}
	if p.PasskeysRelyingPartyOrigins != nil {
		for _, o := range s.RelyingPartyOrigins {
			if err := checkOrigin(o); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkRPID(id string) error {
	if id == "" {
		return Errorf(EPasskeyRPID, "The relying party id is missing: set config.relying_party.id or the service's Passkeys.RelyingParty.Id")
	}
	if strings.ContainsAny(id, ":/") || passkey.ValidRPID(id) != nil {
		return Errorf(EPasskeyRPID, "Invalid relying party id %q: a domain without scheme or port, such as example.com", id)
	}
	return nil
}

func checkOrigin(o string) error {
	if u, err := url.Parse(o); err != nil || u.Scheme == "" || (u.Scheme == "http" || u.Scheme == "https") && (u.Host == "" || u.Path != "" && u.Path != "/") {
		return Errorf(EPasskeyRP, "Invalid relying party origin %q: an origin such as https://example.com, or an app's", o)
	}
	return nil
}

// checkRP refuses a relying party no ceremony could pass: an RP ID that is
// not a bare domain (60372), no origins or an origin that is neither an
// http(s) origin nor an app's (60371).
func checkRP(rp passkey.RP) error {
	if err := checkRPID(rp.ID); err != nil {
		return err
	}
	if len(rp.Origins) == 0 {
		return Errorf(EPasskeyRP, "The relying party has no origins: set config.relying_party.origins or the service's Passkeys.RelyingParty.Origins")
	}
	for _, o := range rp.Origins {
		if err := checkOrigin(o); err != nil {
			return err
		}
	}
	if err := passkey.CheckOrigins(rp); err != nil {
		return &Error{Code: EPasskeyRP, Message: "Invalid relying party origins: " + strings.TrimPrefix(err.Error(), "passkey: "), Err: err}
	}
	return nil
}

// malformedCodes are Twilio's codes of the WebAuthn body's fields; any
// other field (the body, response, type) is EPasskeyResponse.
var malformedCodes = map[string]int{
	"id": EPasskeyID, "rawId": EPasskeyRawID, "authenticatorAttachment": EPasskeyAttach,
	"response.clientDataJSON": EPasskeyClient, "response.attestationObject": EPasskeyAttest,
	"response.authenticatorData": EPasskeyAuthData, "response.signature": EPasskeySignature,
	"response.userHandle": EContactID,
}

// passkeyError turns a refusal of the passkey package into Twilio's code:
// a malformed field has the code of that field (400); a response that is
// well formed but does not verify is refused as other factors' proofs are,
// 60311 for a registration and 60324 for an assertion (403), and one made
// for another relying party is 60382.
func passkeyError(err error, registration bool) error {
	var e *passkey.Error
	if !errors.As(err, &e) {
		return err
	}
	msg := strings.TrimPrefix(e.Error(), "passkey: ")
	code := EChallengeVerify
	if registration {
		code = EFactorVerify
	}
	switch e.Reason {
	case passkey.Malformed:
		code = malformedCodes[e.Field]
		if code == 0 {
			code = EPasskeyResponse
		}
	case passkey.WrongType:
		code = EPasskeyClient
	case passkey.WrongRPID:
		code = EPasskeyRPMatch
	case passkey.BadConfig:
		code = EPasskeyRP
	}
	return &Error{Code: code, Message: msg, Err: err}
}

// errPasskeysOnly refuses an operation of the form endpoints on a
// passkeys factor or challenge: a WebAuthn response is JSON, and only the
// Passkeys endpoints take it.
func errPasskeysOnly(what, operation string) error {
	return Errorf(EFactorType, "A passkeys factor is %s through POST /v2/Services/{ServiceSid}/Passkeys/%s", what, operation)
}

// newPasskeyOptions are the options of a ceremony on behalf of f's config.
func newPasskeyOptions(create bool, c PasskeyConfig, challenge Sid, creds []*passkey.Credential) *PasskeyOptions {
	o := &PasskeyOptions{
		Create: create, RP: c.RelyingParty, Challenge: []byte(challenge), Timeout: PasskeyTimeout,
		Credentials: creds, ResidentKey: c.DiscoverableCredentials, UserVerification: c.UserVerification,
	}
	if c.AuthenticatorAttachment != "any" {
		o.Attachment = c.AuthenticatorAttachment
	}
	return o
}
