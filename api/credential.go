package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// Push credentials live at /v1/Credentials, the path, parameters and
// response shape that Twilio's Notify v1 and Conversations v1 share, so
// that twilio-go's rest/notify/v1 (and rest/conversations/v1) work through
// the same host rewrite as Verify. Their invalid-parameter code is 20001,
// as on those APIs, and not found is 20404.
const pathCredentials = "/v1/Credentials"

// credentialResponse is notify.v1.credential. It has no field for any
// secret: the store does not even read them for these routes. sandbox is
// a string, "True" or "False" as in Twilio's examples: twilio-go decodes it
// into a *string and fails the whole call on a JSON boolean.
type credentialResponse struct {
	Sid          verify.Sid `json:"sid"`
	AccountSid   verify.Sid `json:"account_sid"`
	FriendlyName string     `json:"friendly_name"`
	Type         string     `json:"type"`
	Sandbox      string     `json:"sandbox"`
	DateCreated  date       `json:"date_created"`
	DateUpdated  date       `json:"date_updated"`
	URL          string     `json:"url"`
}

func (s *Server) credentialJSON(c *verify.PushCredential) credentialResponse {
	sandbox := "False"
	if c.Sandbox {
		sandbox = "True"
	}
	return credentialResponse{
		Sid: c.Sid, AccountSid: c.AccountSid, FriendlyName: c.FriendlyName, Type: string(c.Type), Sandbox: sandbox,
		DateCreated: dateOf(c.DateCreated), DateUpdated: dateOf(c.DateUpdated),
		URL: s.BaseURL + pathCredentials + "/" + string(c.Sid),
	}
}

// readCredentialParams reads Twilio's parameters and verifyd's two
// extensions for APNs token mode, KeyId and TeamId (twilio-go cannot send
// them; curl or a plain HTTP client can).
func readCredentialParams(r *http.Request) (verify.CredentialParams, error) {
	p, err := readParams(r, verify.EParam)
	if err != nil {
		return verify.CredentialParams{}, err
	}
	cp := verify.CredentialParams{
		Type: p.str("Type"), FriendlyName: p.str("FriendlyName"), Certificate: p.str("Certificate"),
		PrivateKey: p.str("PrivateKey"), Sandbox: p.bool("Sandbox"), APIKey: p.str("ApiKey"), Secret: p.str("Secret"),
		KeyID: p.str("KeyId"), TeamID: p.str("TeamId"),
	}
	return cp, p.err
}

func (s *Server) handleCredentialCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	cp, err := readCredentialParams(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	c, err := s.Verifier.CreatePushCredential(r.Context(), pr.Account, cp)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.credentialJSON(c))
}

func (s *Server) handleCredentialFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	c, err := s.Verifier.FetchPushCredential(r.Context(), pr.Account, verify.Sid(r.PathValue("Sid")))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.credentialJSON(c))
}

func (s *Server) handleCredentialUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	cp, err := readCredentialParams(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	c, err := s.Verifier.UpdatePushCredential(r.Context(), pr.Account, verify.Sid(r.PathValue("Sid")), cp)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.credentialJSON(c))
}

func (s *Server) handleCredentialDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := s.Verifier.DeletePushCredential(r.Context(), pr.Account, verify.Sid(r.PathValue("Sid"))); err != nil {
		s.error(w, r, err)
		return
	}
	writeNoContent(w)
}

func (s *Server) handleCredentialList(w http.ResponseWriter, r *http.Request, pr *principal) {
	_, pg, err := readListParams(r, verify.EParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	items, more, err := s.Verifier.ListPushCredentials(r.Context(), pr.Account, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeList(s, w, r, "credentials", s.BaseURL+pathCredentials, nil, pg, items, more,
		func(c *verify.PushCredential) verify.Cursor { return verify.Cursor{Time: c.DateCreated, Sid: c.Sid} },
		func(c *verify.PushCredential) any { return s.credentialJSON(c) })
}
