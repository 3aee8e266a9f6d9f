// Package passkey wraps github.com/go-webauthn/webauthn, the WebAuthn
// verification verifyd's passkeys factors rest on: it parses what a browser
// or a Verify Passkeys SDK posts after navigator.credentials.create() or
// .get(), and checks it against a relying party, a challenge and, for an
// assertion, the stored credential. No CBOR or COSE is parsed here; the
// library does it. What this package adds is the first checks made by
// hand on the library's parsed values (ceremony type, challenge, origin,
// RP ID hash, user presence and verification), so that a refusal says
// which of them failed instead of one opaque "verification error", and
// Twilio's quirks: the spec's own registration example carries rawId in
// hex.
package passkey

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
)

// MaxBody is the largest registration or assertion body accepted. A real
// one is under 2 KiB (attestation certificates can make it a few KiB);
// anything near this is an attempt to make the server parse a lot.
const MaxBody = 64 << 10

// RP is a relying party: the domain credentials are bound to, its display
// name, and the origins (https://… or an app's opaque origin such as
// android:apk-key-hash:…) allowed to use them.
type RP struct {
	ID      string
	Name    string
	Origins []string
}

// Requirement values of user verification and discoverable credentials.
const (
	Required    = "required"
	Preferred   = "preferred"
	Discouraged = "discouraged"
)

// Algorithms offered in pubKeyCredParams, most preferred first: ES256 as
// Twilio offers, then Ed25519 and RS256 (Windows Hello), which the library
// verifies as well.
var Algorithms = []int{int(webauthncose.AlgES256), int(webauthncose.AlgEdDSA), int(webauthncose.AlgRS256)}

// Credential is a registered passkey: what an assertion is verified with.
type Credential struct {
	ID []byte `json:"id"`
	// PublicKey is the COSE key from the attestation.
	PublicKey []byte `json:"public_key"`
	SignCount uint32 `json:"sign_count"`
	// Transports are the hints the client gave at registration.
	Transports        []string `json:"transports,omitempty"`
	Attachment        string   `json:"attachment,omitempty"`
	UserVerified      bool     `json:"user_verified"`
	BackupEligible    bool     `json:"backup_eligible"`
	BackupState       bool     `json:"backup_state"`
	AttestationType   string   `json:"attestation_type,omitempty"`
	AttestationFormat string   `json:"attestation_format,omitempty"`
	AAGUID            []byte   `json:"aaguid,omitempty"`
}

// Reason says which check refused a registration or an assertion.
type Reason int

// Reasons of refusal.
const (
	Malformed      Reason = iota + 1 // not a WebAuthn response: JSON, base64url, CBOR, missing fields
	WrongType                        // clientDataJSON.type is not the ceremony's
	WrongChallenge                   // clientDataJSON.challenge is not the one issued
	WrongOrigin                      // clientDataJSON.origin is not one of the relying party's
	WrongRPID                        // the authenticator data is for another relying party
	NoUserPresence                   // the authenticator did not see a user
	NoVerification                   // user verification is required and was not done
	BadAttestation                   // the attestation statement does not verify
	BadSignature                     // the assertion's signature does not verify
	WrongUser                        // userHandle is not the credential's owner
	UnknownKey                       // no credential of the user has this ID
	Cloned                           // the signature counter went back: a cloned authenticator
	BadConfig                        // the relying party itself is not usable
)

// Error is a refusal, with the check that made it and, for Malformed, the
// field of the body at fault ("rawId", "response.clientDataJSON", …).
type Error struct {
	Reason Reason
	Field  string
	Detail string
}

func (e *Error) Error() string { return "passkey: " + e.Detail }

func refuse(r Reason, format string, args ...any) error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the reason of a refusal made here, 0 for any other error.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return 0
}

// EncodeChallenge is how a challenge's bytes travel: base64url, unpadded.
func EncodeChallenge(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// clientData is what both ceremonies check in clientDataJSON.
type clientData struct {
	typ, challenge, origin string
	crossOrigin            bool
}

// checkClient makes the checks of clientDataJSON that can be told apart:
// WebAuthn §7.1 steps 7–9 and §7.2 steps 11–13.
func checkClient(c clientData, want string, challenge []byte, rp RP) error {
	if c.typ != want {
		return refuse(WrongType, "clientDataJSON.type is %q, not %q", c.typ, want)
	}
	if c.challenge != EncodeChallenge(challenge) {
		return refuse(WrongChallenge, "clientDataJSON.challenge is not the challenge issued")
	}
	if c.crossOrigin {
		return refuse(WrongOrigin, "cross-origin ceremonies are not allowed")
	}
	if !originAllowed(c.origin, rp.Origins) {
		return refuse(WrongOrigin, "origin %q is not one of the relying party's origins", c.origin)
	}
	return nil
}

// originAllowed compares origins as the library does: scheme and host
// case-insensitively for web origins, exactly for opaque ones.
func originAllowed(origin string, allowed []string) bool {
	for _, a := range allowed {
		if a == origin || !protocol.IsOpaqueOrigin(a) && strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	return false
}

// checkAuthData checks the RP ID hash and the user flags: §7.1 steps 13–15
// and §7.2 steps 15–17.
func checkAuthData(ad protocol.AuthenticatorData, rp RP, uv string) error {
	want := sha256.Sum256([]byte(rp.ID))
	if !bytes.Equal(ad.RPIDHash, want[:]) {
		return refuse(WrongRPID, "the authenticator data is not for relying party %q", rp.ID)
	}
	if !ad.Flags.UserPresent() {
		return refuse(NoUserPresence, "the authenticator did not report user presence")
	}
	if uv == Required && !ad.Flags.UserVerified() {
		return refuse(NoVerification, "user verification is required and the authenticator did not perform it")
	}
	return nil
}

// config builds the library's configuration of rp: web origins and the
// opaque origins of apps apart, as it wants them.
func config(rp RP) (*webauthn.WebAuthn, error) {
	c := &webauthn.Config{RPID: rp.ID, RPDisplayName: rp.Name}
	for _, o := range rp.Origins {
		if protocol.IsOpaqueOrigin(o) {
			c.RPOpaqueOrigins = append(c.RPOpaqueOrigins, o)
		} else {
			c.RPOrigins = append(c.RPOrigins, o)
		}
	}
	if c.RPDisplayName == "" {
		c.RPDisplayName = rp.ID
	}
	w, err := webauthn.New(c)
	if err != nil {
		return nil, refuse(BadConfig, "relying party: %v", err)
	}
	return w, nil
}

// ValidRPID reports whether id can be a relying party ID: a domain, with
// no scheme or port.
func ValidRPID(id string) error {
	if id == "" {
		return refuse(BadConfig, "the relying party id is missing")
	}
	if err := protocol.ValidateRPID(id); err != nil {
		return refuse(BadConfig, "the relying party id %q is not a domain: %v", id, err)
	}
	return nil
}

// CheckOrigins reports whether the library takes rp's origins: at least
// one web origin (it needs one even when apps use opaque ones), opaque
// origins of a kind it knows, and web origins of at most a few registrable
// domains. rp.ID is checked by ValidRPID.
func CheckOrigins(rp RP) error {
	_, err := config(rp)
	return err
}

// normalize rewrites what the official clients send and WebAuthn spells
// otherwise, so that the library, which is strict, reads it: a missing or
// empty type is public-key (the spec's default; twilio-go omits it), and a
// rawId that is the hex of the credential ID (as in the spec's own
// VerifyFactor example) becomes its base64url. Any other body is returned
// as it is, for shape to judge.
func normalize(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m == nil {
		return body
	}
	changed := false
	var typ string
	if t, ok := m["type"]; !ok || string(t) == "null" || (json.Unmarshal(t, &typ) == nil && typ == "") {
		m["type"], changed = json.RawMessage(`"public-key"`), true
	}
	var id, raw string
	if json.Unmarshal(m["id"], &id) == nil && json.Unmarshal(m["rawId"], &raw) == nil && id != raw {
		fromHex, errHex := hex.DecodeString(raw)
		fromID, errID := base64.RawURLEncoding.DecodeString(id)
		if errHex == nil && errID == nil && bytes.Equal(fromHex, fromID) {
			m["rawId"], _ = json.Marshal(id)
			changed = true
		}
	}
	if !changed {
		return body
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// malformed turns a parse failure of the library into a refusal that
// blames field: the checks of shape have passed, so what is left to fail
// is the binary structure the library decodes.
func malformed(field string, err error) error {
	return &Error{Reason: Malformed, Field: field, Detail: field + " does not parse: " + detail(err)}
}

// user is the library's view of an entity: its handle and its passkeys.
type user struct {
	id    []byte
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.id }
func (u *user) WebAuthnName() string                       { return string(u.id) }
func (u *user) WebAuthnDisplayName() string                { return string(u.id) }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credParams are Algorithms as the library's session wants them.
func credParams() []protocol.CredentialParameter {
	out := make([]protocol.CredentialParameter, len(Algorithms))
	for i, a := range Algorithms {
		out[i] = protocol.CredentialParameter{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.COSEAlgorithmIdentifier(a)}
	}
	return out
}
