package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// webhookResponse is verify.v2.service.webhook on the wire. webhook_method
// is always POST: Twilio has no parameter to change it (delivery.md §1.2).
type webhookResponse struct {
	Sid           verify.Sid `json:"sid"`
	ServiceSid    verify.Sid `json:"service_sid"`
	AccountSid    verify.Sid `json:"account_sid"`
	FriendlyName  string     `json:"friendly_name"`
	EventTypes    []string   `json:"event_types"`
	Status        string     `json:"status"`
	Version       string     `json:"version"`
	WebhookURL    string     `json:"webhook_url"`
	WebhookMethod string     `json:"webhook_method"`
	DateCreated   date       `json:"date_created"`
	DateUpdated   date       `json:"date_updated"`
	URL           string     `json:"url"`
}

func (s *Server) webhookJSON(h *verify.Webhook) webhookResponse {
	return webhookResponse{
		Sid: h.Sid, ServiceSid: h.ServiceSid, AccountSid: h.AccountSid, FriendlyName: h.FriendlyName,
		EventTypes: h.EventTypes, Status: h.Status, Version: h.Version, WebhookURL: h.URL, WebhookMethod: "POST",
		DateCreated: dateOf(h.DateCreated), DateUpdated: dateOf(h.DateUpdated),
		URL: s.serviceURL(h.ServiceSid) + "/Webhooks/" + string(h.Sid),
	}
}

// webhookParams reads the form of create and update. EventTypes is a
// repeated key, one value per event, as twilio-go sends it.
func webhookParams(p *params) verify.WebhookParams {
	return verify.WebhookParams{
		FriendlyName: p.str("FriendlyName"),
		URL:          p.str("WebhookUrl"),
		EventTypes:   p.strs("EventTypes"), // nil when not sent
		Status:       p.str("Status"),
		Version:      p.str("Version"),
	}
}

func (s *Server) handleWebhookCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	h, err := s.Verifier.CreateWebhook(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), webhookParams(p))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.webhookJSON(h))
}

func (s *Server) handleWebhookFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	h, err := s.Verifier.FetchWebhook(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), verify.Sid(r.PathValue("Sid")))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.webhookJSON(h))
}

func (s *Server) handleWebhookUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	h, err := s.Verifier.UpdateWebhook(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), verify.Sid(r.PathValue("Sid")), webhookParams(p))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.webhookJSON(h))
}

func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := s.Verifier.DeleteWebhook(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), verify.Sid(r.PathValue("Sid"))); err != nil {
		s.error(w, r, err)
		return
	}
	writeNoContent(w)
}

func (s *Server) handleWebhookList(w http.ResponseWriter, r *http.Request, pr *principal) {
	_, pg, err := readListParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	service := verify.Sid(r.PathValue("ServiceSid"))
	items, more, err := s.Verifier.ListWebhooks(r.Context(), pr.Account, service, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeList(s, w, r, "webhooks", s.serviceURL(service)+"/Webhooks", nil, pg, items, more,
		func(h *verify.Webhook) verify.Cursor { return verify.Cursor{Time: h.DateCreated, Sid: h.Sid} },
		func(h *verify.Webhook) any { return s.webhookJSON(h) })
}
