package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// notificationResponse is verify.v2.service.entity.challenge.notification
// on the wire. Twilio's resource has no url.
type notificationResponse struct {
	Sid          verify.Sid `json:"sid"`
	AccountSid   verify.Sid `json:"account_sid"`
	ServiceSid   verify.Sid `json:"service_sid"`
	EntitySid    verify.Sid `json:"entity_sid"`
	Identity     string     `json:"identity"`
	ChallengeSid verify.Sid `json:"challenge_sid"`
	Priority     string     `json:"priority"`
	TTL          int        `json:"ttl"`
	DateCreated  date       `json:"date_created"`
}

func notificationJSON(n *verify.Notification) notificationResponse {
	return notificationResponse{
		Sid:          n.Sid,
		AccountSid:   n.AccountSid,
		ServiceSid:   n.ServiceSid,
		EntitySid:    n.EntitySid,
		Identity:     n.Identity,
		ChallengeSid: n.ChallengeSid,
		Priority:     n.Priority,
		TTL:          n.TTL,
		DateCreated:  dateOf(n.DateCreated),
	}
}

func (s *Server) handleNotificationCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ttl := p.int("Ttl")
	if p.err != nil {
		s.error(w, r, p.err)
		return
	}
	n, err := s.Verifier.CreateNotification(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")),
		r.PathValue("Identity"), verify.Sid(r.PathValue("ChallengeSid")), ttl)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, notificationJSON(n))
}
