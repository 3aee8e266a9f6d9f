package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/passkey"
)

// The four Passkeys operations take JSON, not a form (ENDPOINTS.md §1),
// and answer with the factor or challenge plus the WebAuthn options its
// client passes to navigator.credentials: binary values in base64url, as
// PublicKeyCredential.parseCreationOptionsFromJSON and
// parseRequestOptionsFromJSON take them.

// passkeyConfigJSON is a passkeys factor's config on the wire.
type passkeyConfigJSON struct {
	RelyingParty            relyingPartyJSON `json:"relying_party"`
	AuthenticatorAttachment string           `json:"authenticator_attachment"`
	DiscoverableCredentials string           `json:"discoverable_credentials"`
	UserVerification        string           `json:"user_verification"`
}

type relyingPartyJSON struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Origins []string `json:"origins"`
}

func passkeyConfig(p *verify.PasskeyFactor) passkeyConfigJSON {
	c := p.Config
	origins := c.RelyingParty.Origins
	if origins == nil {
		origins = []string{}
	}
	return passkeyConfigJSON{
		RelyingParty:            relyingPartyJSON{ID: c.RelyingParty.ID, Name: c.RelyingParty.Name, Origins: origins},
		AuthenticatorAttachment: c.AuthenticatorAttachment,
		DiscoverableCredentials: c.DiscoverableCredentials,
		UserVerification:        c.UserVerification,
	}
}

// optionsJSON is the options object: {"publicKey": …}.
type optionsJSON struct {
	PublicKey any `json:"publicKey"`
}

type rpEntityJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type userEntityJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

type credParamJSON struct {
	Type string `json:"type"`
	Alg  int    `json:"alg"`
}

type descriptorJSON struct {
	Type       string   `json:"type"`
	ID         string   `json:"id"`
	Transports []string `json:"transports,omitempty"`
}

type selectionJSON struct {
	AuthenticatorAttachment string `json:"authenticatorAttachment,omitempty"`
	RequireResidentKey      bool   `json:"requireResidentKey"`
	ResidentKey             string `json:"residentKey"`
	UserVerification        string `json:"userVerification"`
}

// creationJSON is PublicKeyCredentialCreationOptionsJSON. pubKeyCredParams
// is an array, as WebAuthn requires; the spec's example shows one object.
type creationJSON struct {
	RP                     rpEntityJSON     `json:"rp"`
	User                   userEntityJSON   `json:"user"`
	Challenge              string           `json:"challenge"`
	PubKeyCredParams       []credParamJSON  `json:"pubKeyCredParams"`
	Timeout                int64            `json:"timeout"`
	ExcludeCredentials     []descriptorJSON `json:"excludeCredentials"`
	AuthenticatorSelection selectionJSON    `json:"authenticatorSelection"`
	Attestation            string           `json:"attestation"`
}

// requestJSON is PublicKeyCredentialRequestOptionsJSON.
type requestJSON struct {
	Challenge        string           `json:"challenge"`
	Timeout          int64            `json:"timeout"`
	RPID             string           `json:"rpId"`
	AllowCredentials []descriptorJSON `json:"allowCredentials"`
	UserVerification string           `json:"userVerification"`
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func descriptors(creds []*passkey.Credential) []descriptorJSON {
	out := []descriptorJSON{}
	for _, c := range creds {
		if c != nil {
			out = append(out, descriptorJSON{Type: "public-key", ID: b64url(c.ID), Transports: c.Transports})
		}
	}
	return out
}

func passkeyOptionsJSON(o *verify.PasskeyOptions) *optionsJSON {
	if o == nil {
		return nil
	}
	timeout := o.Timeout.Milliseconds()
	if !o.Create {
		return &optionsJSON{PublicKey: requestJSON{
			Challenge: b64url(o.Challenge), Timeout: timeout, RPID: o.RP.ID,
			AllowCredentials: descriptors(o.Credentials), UserVerification: o.UserVerification,
		}}
	}
	params := make([]credParamJSON, len(passkey.Algorithms))
	for i, a := range passkey.Algorithms {
		params[i] = credParamJSON{Type: "public-key", Alg: a}
	}
	return &optionsJSON{PublicKey: creationJSON{
		RP:                 rpEntityJSON{ID: o.RP.ID, Name: o.RP.Name},
		User:               userEntityJSON{ID: b64url(o.UserID), Name: o.UserName, DisplayName: o.UserName},
		Challenge:          b64url(o.Challenge),
		PubKeyCredParams:   params,
		Timeout:            timeout,
		ExcludeCredentials: descriptors(o.Credentials),
		AuthenticatorSelection: selectionJSON{
			AuthenticatorAttachment: o.Attachment,
			RequireResidentKey:      o.ResidentKey == passkey.Required,
			ResidentKey:             o.ResidentKey,
			UserVerification:        o.UserVerification,
		},
		Attestation: "none",
	}}
}

// passkeyChallengeResponse is the inline object of the Passkeys challenge
// operations: a challenge plus its options.
type passkeyChallengeResponse struct {
	challengeResponse
	Options *optionsJSON `json:"options"`
}

// passkeyChallengeJSON encodes pc. A login that names no one yet has no
// entity, identity or factor, which read as "" as in the spec's example,
// and no URL of its own: it points at the collection, as Twilio's does.
func (s *Server) passkeyChallengeJSON(pc *verify.PasskeyChallenge) passkeyChallengeResponse {
	c := s.challengeJSON(pc.Challenge)
	if pc.EntitySid == "" || pc.FactorSid == "" {
		c.URL = s.BaseURL + pathServices + "/" + string(pc.ServiceSid) + "/Passkeys/Challenges"
	}
	return passkeyChallengeResponse{challengeResponse: c, Options: passkeyOptionsJSON(pc.Options)}
}

// readPasskeyBody reads a Passkeys request body: JSON, at most
// passkey.MaxBody bytes. ctCode is the operation's code for a body that
// is not JSON.
func readPasskeyBody(r *http.Request, ctCode int) ([]byte, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, verify.Errorf(ctCode, "Unsupported content type: send application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, passkey.MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, verify.Errorf(verify.EPasskeyResponse, "The body is larger than %d bytes", passkey.MaxBody)
	}
	if err != nil {
		return nil, verify.Errorf(verify.EPasskeyResponse, "The body could not be read")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		// twilio-go sends no body for a request struct left nil: for the
		// creates that is {} (a login with no identity); a WebAuthn
		// response then lacks its fields, which is refused by name.
		body = []byte("{}")
	}
	return body, nil
}

// decodePasskeyJSON decodes a JSON object body into v, refusing anything
// else with code.
func decodePasskeyJSON(body []byte, v any, code int) error {
	if err := json.Unmarshal(body, v); err != nil {
		return verify.Errorf(code, "The body is not a valid JSON object of this operation: %v", err)
	}
	return nil
}

// passkeyFactorRequest is CreateNewPasskeysFactorRequest.
type passkeyFactorRequest struct {
	FriendlyName *string `json:"friendly_name"`
	Identity     *string `json:"identity"`
	Config       *struct {
		RelyingParty *struct {
			ID      *string  `json:"id"`
			Name    *string  `json:"name"`
			Origins []string `json:"origins"`
		} `json:"relying_party"`
		AuthenticatorAttachment *string `json:"authenticator_attachment"`
		DiscoverableCredentials *string `json:"discoverable_credentials"`
		UserVerification        *string `json:"user_verification"`
	} `json:"config"`
}

func (s *Server) handlePasskeyFactorCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	body, err := readPasskeyBody(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req passkeyFactorRequest
	if err := decodePasskeyJSON(body, &req, verify.EPushParam); err != nil {
		s.error(w, r, err)
		return
	}
	var config *verify.PasskeyConfigParams
	if c := req.Config; c != nil {
		config = &verify.PasskeyConfigParams{
			AuthenticatorAttachment: c.AuthenticatorAttachment,
			DiscoverableCredentials: c.DiscoverableCredentials,
			UserVerification:        c.UserVerification,
		}
		if rp := c.RelyingParty; rp != nil {
			config.RelyingPartyID, config.RelyingPartyName, config.RelyingPartyOrigins = rp.ID, rp.Name, rp.Origins
		}
	}
	nf, err := s.Verifier.CreatePasskeyFactor(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), req.Identity, req.FriendlyName, config)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.newFactorJSON(nf))
}

func (s *Server) handlePasskeyFactorVerify(w http.ResponseWriter, r *http.Request, pr *principal) {
	body, err := readPasskeyBody(r, verify.EPasskeyVerifyCT)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f, err := s.Verifier.VerifyPasskeyFactor(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.factorJSON(f))
}

// passkeyChallengeRequest is CreatePasskeysChallengeRequest.
type passkeyChallengeRequest struct {
	Identity  string `json:"identity"`
	FactorSid string `json:"factor_sid"`
}

func (s *Server) handlePasskeyChallengeCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	body, err := readPasskeyBody(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req passkeyChallengeRequest
	if err := decodePasskeyJSON(body, &req, verify.EPushParam); err != nil {
		s.error(w, r, err)
		return
	}
	pc, err := s.Verifier.CreatePasskeyChallenge(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), req.Identity, req.FactorSid)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.passkeyChallengeJSON(pc))
}

func (s *Server) handlePasskeyChallengeApprove(w http.ResponseWriter, r *http.Request, pr *principal) {
	body, err := readPasskeyBody(r, verify.EPasskeyApproveCT)
	if err != nil {
		s.error(w, r, err)
		return
	}
	pc, err := s.Verifier.ApprovePasskeyChallenge(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.passkeyChallengeJSON(pc))
}
