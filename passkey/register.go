package passkey

import (
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Registration is a parsed navigator.credentials.create() result, not yet
// verified.
type Registration struct {
	parsed *protocol.ParsedCredentialCreationData
}

// ParseRegistration parses the JSON a client posts after creating a
// credential (PublicKeyCredential.toJSON(), or the Verify Passkeys SDKs'
// equivalent).
func ParseRegistration(body []byte) (*Registration, error) {
	if len(body) > MaxBody {
		return nil, refuse(Malformed, "the body is larger than %d bytes", MaxBody)
	}
	body = normalize(body)
	if err := shape(body, false); err != nil {
		return nil, err
	}
	p, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, malformed("response.attestationObject", err)
	}
	if len(p.Response.AttestationObject.AuthData.AttData.CredentialID) == 0 {
		return nil, refuse(Malformed, "the attestation carries no credential")
	}
	return &Registration{parsed: p}, nil
}

// Challenge returns the challenge the client says it signed, decoded: the
// server finds the ceremony it issued by it.
func (r *Registration) Challenge() ([]byte, error) {
	return decodeChallenge(r.parsed.Response.CollectedClientData.Challenge)
}

func decodeChallenge(s string) ([]byte, error) {
	var b protocol.URLEncodedBase64
	if err := b.UnmarshalJSON([]byte(`"` + s + `"`)); err != nil || len(b) == 0 {
		return nil, refuse(Malformed, "clientDataJSON.challenge is not base64url")
	}
	return b, nil
}

// Verify checks the registration against the ceremony the server issued:
// relying party, challenge, the user handle it named (userID) and whether
// user verification was required, then the attestation statement (the
// library knows none, packed, fido-u2f, tpm, android-key, apple…). It
// returns the credential to store.
func (r *Registration) Verify(rp RP, challenge, userID []byte, uv string) (*Credential, error) {
	resp := r.parsed.Response
	c := resp.CollectedClientData
	if err := checkClient(clientData{string(c.Type), c.Challenge, c.Origin, c.CrossOrigin}, string(protocol.CreateCeremony), challenge, rp); err != nil {
		return nil, err
	}
	if err := checkAuthData(resp.AttestationObject.AuthData, rp, uv); err != nil {
		return nil, err
	}
	w, err := config(rp)
	if err != nil {
		return nil, err
	}
	session := webauthn.SessionData{
		Challenge:        EncodeChallenge(challenge),
		RelyingPartyID:   rp.ID,
		UserID:           userID,
		UserVerification: protocol.UserVerificationRequirement(uv),
		CredParams:       credParams(),
	}
	cred, err := w.CreateCredential(&user{id: userID}, session, r.parsed)
	if err != nil {
		return nil, refuse(BadAttestation, "the attestation does not verify: %s", detail(err))
	}
	out := &Credential{
		ID:                cred.ID,
		PublicKey:         cred.PublicKey,
		SignCount:         cred.Authenticator.SignCount,
		Attachment:        string(r.parsed.AuthenticatorAttachment),
		UserVerified:      cred.Flags.UserVerified,
		BackupEligible:    cred.Flags.BackupEligible,
		BackupState:       cred.Flags.BackupState,
		AttestationType:   cred.AttestationType,
		AttestationFormat: cred.AttestationFormat,
		AAGUID:            cred.Authenticator.AAGUID,
	}
	for _, t := range cred.Transport {
		out.Transports = append(out.Transports, string(t))
	}
	return out, nil
}

// detail is the most specific message of a library error.
func detail(err error) string {
	if pe, ok := err.(*protocol.Error); ok {
		if pe.DevInfo != "" {
			return pe.Details + ": " + pe.DevInfo
		}
		return pe.Details
	}
	return err.Error()
}
