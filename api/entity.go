package api

import (
	"net/http"
	"net/url"

	"github.com/verifyd/verify"
)

// entityResponse is verify.v2.service.entity on the wire.
type entityResponse struct {
	Sid         verify.Sid  `json:"sid"`
	Identity    string      `json:"identity"`
	AccountSid  verify.Sid  `json:"account_sid"`
	ServiceSid  verify.Sid  `json:"service_sid"`
	DateCreated date        `json:"date_created"`
	DateUpdated date        `json:"date_updated"`
	URL         string      `json:"url"`
	Links       entityLinks `json:"links"`
}

type entityLinks struct {
	Factors    string `json:"factors"`
	NewFactors string `json:"new_factors"` // the same url as factors, as in Twilio's spec
	Challenges string `json:"challenges"`
}

// entityURL is the url of an entity, addressed by identity. Identities are
// URL-safe, so escaping changes nothing for valid ones; it only keeps a
// stray character from producing a broken url.
func (s *Server) entityURL(service verify.Sid, identity string) string {
	return s.serviceURL(service) + "/Entities/" + url.PathEscape(identity)
}

func (s *Server) entityJSON(e *verify.Entity) entityResponse {
	u := s.entityURL(e.ServiceSid, e.Identity)
	return entityResponse{
		Sid:         e.Sid,
		Identity:    e.Identity,
		AccountSid:  e.AccountSid,
		ServiceSid:  e.ServiceSid,
		DateCreated: dateOf(e.DateCreated),
		DateUpdated: dateOf(e.DateUpdated),
		URL:         u,
		Links:       entityLinks{Factors: u + "/Factors", NewFactors: u + "/Factors", Challenges: u + "/Challenges"},
	}
}

func (s *Server) handleEntityCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	e, err := s.Verifier.CreateEntity(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), p.str("Identity"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.entityJSON(e))
}

func (s *Server) handleEntityFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	e, err := s.Verifier.FetchEntity(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Identity"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.entityJSON(e))
}

func (s *Server) handleEntityDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	err := s.Verifier.DeleteEntity(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Identity"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeNoContent(w)
}

func (s *Server) handleEntityList(w http.ResponseWriter, r *http.Request, pr *principal) {
	_, pg, err := readListParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	service := verify.Sid(r.PathValue("ServiceSid"))
	items, more, err := s.Verifier.ListEntities(r.Context(), pr.Account, service, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeList(s, w, r, "entities", s.serviceURL(service)+"/Entities", nil, pg, items, more,
		func(e *verify.Entity) verify.Cursor { return verify.Cursor{Time: e.DateCreated, Sid: e.Sid} },
		func(e *verify.Entity) any { return s.entityJSON(e) })
}
