package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// accessTokenResponse is verify.v2.service.access_token on the wire. token
// is the enrollment credential a device later sends as its Basic-auth
// password on create factor; its format is ours (the SDK never parses it).
type accessTokenResponse struct {
	Sid                verify.Sid `json:"sid"`
	AccountSid         verify.Sid `json:"account_sid"`
	ServiceSid         verify.Sid `json:"service_sid"`
	EntityIdentity     string     `json:"entity_identity"`
	FactorType         string     `json:"factor_type"`
	FactorFriendlyName *string    `json:"factor_friendly_name"` // null when not given
	Token              string     `json:"token"`
	URL                string     `json:"url"`
	TTL                int        `json:"ttl"`
	DateCreated        date       `json:"date_created"`
}

func (s *Server) accessTokenJSON(t *verify.AccessToken) accessTokenResponse {
	return accessTokenResponse{
		Sid:                t.Sid,
		AccountSid:         t.AccountSid,
		ServiceSid:         t.ServiceSid,
		EntityIdentity:     t.Identity,
		FactorType:         string(t.FactorType),
		FactorFriendlyName: nullable(t.FactorFriendlyName),
		Token:              t.Token,
		URL:                s.serviceURL(t.ServiceSid) + "/AccessTokens/" + string(t.Sid),
		TTL:                t.TTL,
		DateCreated:        dateOf(t.DateCreated),
	}
}

// handleAccessTokenCreate answers 201, the first of the two statuses the
// spec documents for CreateAccessToken, like every other create.
func (s *Server) handleAccessTokenCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EAccessToken)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ap := verify.AccessTokenParams{
		Identity:           p.str("Identity"),
		FactorType:         p.str("FactorType"),
		FactorFriendlyName: p.str("FactorFriendlyName"),
		TTL:                p.int("Ttl"),
	}
	if p.err != nil {
		s.error(w, r, p.err)
		return
	}
	t, err := s.Verifier.CreateAccessToken(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), ap)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.accessTokenJSON(t))
}

func (s *Server) handleAccessTokenFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	t, err := s.Verifier.FetchAccessToken(r.Context(), pr.Account,
		verify.Sid(r.PathValue("ServiceSid")), verify.Sid(r.PathValue("Sid")))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.accessTokenJSON(t))
}
