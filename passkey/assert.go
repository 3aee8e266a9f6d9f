package passkey

import (
	"bytes"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Assertion is a parsed navigator.credentials.get() result, not yet
// verified.
type Assertion struct {
	parsed *protocol.ParsedCredentialAssertionData
}

// ParseAssertion parses the JSON a client posts after signing a challenge.
func ParseAssertion(body []byte) (*Assertion, error) {
	if len(body) > MaxBody {
		return nil, refuse(Malformed, "the body is larger than %d bytes", MaxBody)
	}
	body = normalize(body)
	if err := shape(body, true); err != nil {
		return nil, err
	}
	p, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, malformed("response.authenticatorData", err)
	}
	if len(p.Response.Signature) == 0 {
		return nil, refuse(Malformed, "response.signature is missing")
	}
	return &Assertion{parsed: p}, nil
}

// Challenge returns the challenge the client says it signed, decoded.
func (a *Assertion) Challenge() ([]byte, error) {
	return decodeChallenge(a.parsed.Response.CollectedClientData.Challenge)
}

// CredentialID is the ID of the credential that signed.
func (a *Assertion) CredentialID() []byte { return a.parsed.RawID }

// UserHandle is the user handle the authenticator returned: the owner's
// handle as registered, or nil (an authenticator may omit it when the
// server named the credentials it allows).
func (a *Assertion) UserHandle() []byte { return a.parsed.Response.UserHandle }

// Verify checks the assertion against the ceremony the server issued and
// the credential of cred's owner (userID) that signed it, and returns the
// credential with its signature counter and backup state advanced. A
// counter that did not move forward (other than an authenticator that
// keeps none) is refused as Cloned, with the credential unchanged: the
// caller records it.
func (a *Assertion) Verify(rp RP, challenge, userID []byte, uv string, cred Credential) (*Credential, error) {
	if !bytes.Equal(a.CredentialID(), cred.ID) {
		return nil, refuse(UnknownKey, "the assertion is not signed by this credential")
	}
	if h := a.UserHandle(); len(h) > 0 && !bytes.Equal(h, userID) {
		return nil, refuse(WrongUser, "userHandle is not the owner of the credential")
	}
	resp := a.parsed.Response
	c := resp.CollectedClientData
	if err := checkClient(clientData{string(c.Type), c.Challenge, c.Origin, c.CrossOrigin}, string(protocol.AssertCeremony), challenge, rp); err != nil {
		return nil, err
	}
	if err := checkAuthData(resp.AuthenticatorData, rp, uv); err != nil {
		return nil, err
	}
	w, err := config(rp)
	if err != nil {
		return nil, err
	}
	lib := webauthn.Credential{
		ID:                cred.ID,
		PublicKey:         cred.PublicKey,
		AttestationType:   cred.AttestationType,
		AttestationFormat: cred.AttestationFormat,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: cred.UserVerified,
			BackupEligible: cred.BackupEligible, BackupState: cred.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: cred.AAGUID, SignCount: cred.SignCount},
	}
	session := webauthn.SessionData{
		Challenge:        EncodeChallenge(challenge),
		RelyingPartyID:   rp.ID,
		UserID:           userID,
		UserVerification: protocol.UserVerificationRequirement(uv),
	}
	got, err := w.ValidateLogin(&user{id: userID, creds: []webauthn.Credential{lib}}, session, a.parsed)
	if err != nil {
		return nil, refuse(BadSignature, "the assertion does not verify: %s", detail(err))
	}
	if got.Authenticator.CloneWarning {
		return nil, refuse(Cloned, "the signature counter went from %d to %d: the authenticator may be cloned",
			cred.SignCount, resp.AuthenticatorData.Counter)
	}
	out := cred
	out.SignCount = got.Authenticator.SignCount
	out.BackupState = got.Flags.BackupState
	out.UserVerified = out.UserVerified || resp.AuthenticatorData.Flags.UserVerified()
	return &out, nil
}
