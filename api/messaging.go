package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// messagingResponse is verify.v2.service.messaging_configuration on the
// wire; it has no SID of its own, the country is its key.
type messagingResponse struct {
	AccountSid          verify.Sid `json:"account_sid"`
	ServiceSid          verify.Sid `json:"service_sid"`
	Country             string     `json:"country"`
	MessagingServiceSid verify.Sid `json:"messaging_service_sid"`
	DateCreated         date       `json:"date_created"`
	DateUpdated         date       `json:"date_updated"`
	URL                 string     `json:"url"`
}

func (s *Server) messagingJSON(m *verify.MessagingConfiguration) messagingResponse {
	return messagingResponse{AccountSid: m.AccountSid, ServiceSid: m.ServiceSid, Country: m.Country,
		MessagingServiceSid: m.MessagingServiceSid, DateCreated: dateOf(m.DateCreated), DateUpdated: dateOf(m.DateUpdated),
		URL: s.serviceURL(m.ServiceSid) + "/MessagingConfigurations/" + m.Country}
}

func (s *Server) handleMessagingCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	m, err := s.Verifier.CreateMessagingConfiguration(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")),
		p.str("Country"), p.str("MessagingServiceSid"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.messagingJSON(m))
}

func (s *Server) handleMessagingFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	m, err := s.Verifier.FetchMessagingConfiguration(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Country"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.messagingJSON(m))
}

func (s *Server) handleMessagingUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	m, err := s.Verifier.UpdateMessagingConfiguration(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")),
		r.PathValue("Country"), p.str("MessagingServiceSid"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.messagingJSON(m))
}

func (s *Server) handleMessagingDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := s.Verifier.DeleteMessagingConfiguration(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Country")); err != nil {
		s.error(w, r, err)
		return
	}
	writeNoContent(w)
}

func (s *Server) handleMessagingList(w http.ResponseWriter, r *http.Request, pr *principal) {
	_, pg, err := readListParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	service := verify.Sid(r.PathValue("ServiceSid"))
	items, more, err := s.Verifier.ListMessagingConfigurations(r.Context(), pr.Account, service, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeList(s, w, r, "messaging_configurations", s.serviceURL(service)+"/MessagingConfigurations", nil, pg, items, more,
		func(m *verify.MessagingConfiguration) verify.Cursor {
			return verify.Cursor{Time: m.DateCreated, Sid: verify.Sid(m.Country)}
		},
		func(m *verify.MessagingConfiguration) any { return s.messagingJSON(m) })
}
