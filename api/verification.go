package api

import (
	"net/http"
	"strings"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify/inbox"
)

// sendAttemptJSON is one element of send_code_attempts. Twilio's examples
// spell the channel in upper case there (SMS, EMAIL), unlike everywhere
// else (verifications.md §2.3).
type sendAttemptJSON struct {
	AttemptSid verify.Sid `json:"attempt_sid"`
	Channel    string     `json:"channel"`
	Time       date       `json:"time"`
}

// verificationResponse is verify.v2.service.verification on the wire.
// lookup is an empty object: verifyd has no carrier lookup provider, and
// Twilio answers {} when it did none. sna is null: there is no SNA here.
type verificationResponse struct {
	Sid              verify.Sid        `json:"sid"`
	ServiceSid       verify.Sid        `json:"service_sid"`
	AccountSid       verify.Sid        `json:"account_sid"`
	To               string            `json:"to"`
	Channel          string            `json:"channel"`
	Status           string            `json:"status"`
	Valid            bool              `json:"valid"`
	Lookup           struct{}          `json:"lookup"`
	Amount           *string           `json:"amount"`
	Payee            *string           `json:"payee"`
	SendCodeAttempts []sendAttemptJSON `json:"send_code_attempts"`
	DateCreated      date              `json:"date_created"`
	DateUpdated      date              `json:"date_updated"`
	Sna              *struct{}         `json:"sna"`
	URL              string            `json:"url"`
}

func (s *Server) verificationJSON(v *verify.Verification) verificationResponse {
	out := verificationResponse{
		Sid: v.Sid, ServiceSid: v.ServiceSid, AccountSid: v.AccountSid, To: v.To, Channel: v.Channel,
		Status: string(v.Status), Valid: v.Valid(), Amount: v.Amount, Payee: v.Payee,
		SendCodeAttempts: make([]sendAttemptJSON, len(v.Attempts)),
		DateCreated:      dateOf(v.DateCreated), DateUpdated: dateOf(v.DateUpdated),
		URL: s.serviceURL(v.ServiceSid) + "/Verifications/" + string(v.Sid),
	}
	for i, a := range v.Attempts {
		out.SendCodeAttempts[i] = sendAttemptJSON{AttemptSid: a.Sid, Channel: strings.ToUpper(a.Channel), Time: dateOf(a.DateCreated)}
	}
	return out
}

// verificationCheckResponse is verify.v2.service.verification_check: no
// url, and sna_attempts_error_codes empty as in every spec example.
type verificationCheckResponse struct {
	Sid                   verify.Sid `json:"sid"`
	ServiceSid            verify.Sid `json:"service_sid"`
	AccountSid            verify.Sid `json:"account_sid"`
	To                    string     `json:"to"`
	Channel               string     `json:"channel"`
	Status                string     `json:"status"`
	Valid                 bool       `json:"valid"`
	Amount                *string    `json:"amount"`
	Payee                 *string    `json:"payee"`
	DateCreated           date       `json:"date_created"`
	DateUpdated           date       `json:"date_updated"`
	SnaAttemptsErrorCodes []struct{} `json:"sna_attempts_error_codes"`
}

func (s *Server) handleVerificationCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	vp := verify.VerificationParams{
		To: p.str("To"), Channel: p.str("Channel"), CustomFriendlyName: p.str("CustomFriendlyName"),
		CustomMessage: p.str("CustomMessage"), SendDigits: p.str("SendDigits"), Locale: p.str("Locale"),
		CustomCode: p.str("CustomCode"), Amount: p.str("Amount"), Payee: p.str("Payee"),
		RateLimits: p.str("RateLimits"), ChannelConfiguration: p.str("ChannelConfiguration"),
		AppHash: p.str("AppHash"), TemplateSid: p.str("TemplateSid"),
		TemplateCustomSubstitutions: p.str("TemplateCustomSubstitutions"), DeviceIP: p.str("DeviceIp"),
		EnableSnaClientToken: p.bool("EnableSnaClientToken"), RiskCheck: p.str("RiskCheck"), Tags: p.str("Tags"),
	}
	if p.err != nil {
		s.error(w, r, p.err)
		return
	}
	v, err := s.Verifier.CreateVerification(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), vp)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.verificationJSON(v))
}

func (s *Server) handleVerificationFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	v, err := s.Verifier.FetchVerification(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Sid"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.verificationJSON(v))
}

func (s *Server) handleVerificationUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v, err := s.Verifier.UpdateVerification(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Sid"), p.str("Status"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.verificationJSON(v))
}

// handleVerificationCheck answers 200 whatever the outcome, as Twilio
// does: a wrong code is a pending verification, not an error; clients
// such as ntfy break on 201 (verifications.md §3).
func (s *Server) handleVerificationCheck(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v, err := s.Verifier.CheckVerification(r.Context(), pr.Account, verify.Sid(r.PathValue("ServiceSid")), verify.VerificationCheckParams{
		Code: p.str("Code"), To: p.str("To"), VerificationSid: p.str("VerificationSid"), Amount: p.str("Amount"), Payee: p.str("Payee"),
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, verificationCheckResponse{
		Sid: v.Sid, ServiceSid: v.ServiceSid, AccountSid: v.AccountSid, To: v.To, Channel: v.Channel,
		Status: string(v.Status), Valid: v.Valid(), Amount: v.Amount, Payee: v.Payee,
		DateCreated: dateOf(v.DateCreated), DateUpdated: dateOf(v.DateUpdated), SnaAttemptsErrorCodes: []struct{}{},
	})
}

// pathDevInbox is the development inbox's path (serve --dev only).
const pathDevInbox = "/_verifyd/dev/inbox"

// handleDevInbox lists the codes the development sender received for the
// signed-in account, newest first: {"messages": [...]}, filtered by To and
// ServiceSid, at most PageSize (default 50, at most 1000).
func (s *Server) handleDevInbox(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := inbox.Filter{Account: pr.Account, Limit: verify.DefaultPageSize}
	if to := p.str("To"); to != nil {
		f.To = *to
		if n, ok := verify.NormalizeTo(*to); ok {
			f.To = n
		}
	}
	if svc := p.str("ServiceSid"); svc != nil {
		f.Service = verify.Sid(*svc)
	}
	if n := p.int("PageSize"); n != nil {
		if *n < 1 || *n > verify.MaxPageSize {
			p.fail("PageSize", "between 1 and 1000")
		}
		f.Limit = *n
	}
	if p.err != nil {
		s.error(w, r, p.err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Messages []inbox.Message `json:"messages"`
	}{s.Inbox.List(f)})
}
