package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// serviceResponse is verify.v2.service on the wire. Optional settings that
// are unset render as null, as Twilio's examples show; friendly_name is
// always a string.
type serviceResponse struct {
	Sid                            verify.Sid       `json:"sid"`
	AccountSid                     verify.Sid       `json:"account_sid"`
	FriendlyName                   string           `json:"friendly_name"`
	CodeLength                     int              `json:"code_length"`
	LookupEnabled                  bool             `json:"lookup_enabled"`
	Psd2Enabled                    bool             `json:"psd2_enabled"`
	SkipSmsToLandlines             bool             `json:"skip_sms_to_landlines"`
	DtmfInputRequired              bool             `json:"dtmf_input_required"`
	TtsName                        *string          `json:"tts_name"`
	DoNotShareWarningEnabled       bool             `json:"do_not_share_warning_enabled"`
	CustomCodeEnabled              bool             `json:"custom_code_enabled"`
	Push                           servicePush      `json:"push"`
	Totp                           serviceTotp      `json:"totp"`
	Whatsapp                       serviceWhatsapp  `json:"whatsapp"`
	Passkeys                       servicePasskeys  `json:"passkeys"`
	DefaultTemplateSid             *string          `json:"default_template_sid"`
	VerifyEventSubscriptionEnabled bool             `json:"verify_event_subscription_enabled"`
	DateCreated                    date             `json:"date_created"`
	DateUpdated                    date             `json:"date_updated"`
	URL                            string           `json:"url"`
	Links                          serviceLinksJSON `json:"links"`
}

type servicePush struct {
	IncludeDate      bool    `json:"include_date"`
	ApnCredentialSid *string `json:"apn_credential_sid"`
	FcmCredentialSid *string `json:"fcm_credential_sid"`
}

type serviceTotp struct {
	Issuer     *string `json:"issuer"`
	TimeStep   int     `json:"time_step"`
	CodeLength int     `json:"code_length"`
	Skew       int     `json:"skew"`
}

type serviceWhatsapp struct {
	MsgServiceSid *string `json:"msg_service_sid"`
	From          *string `json:"from"`
}

type servicePasskeys struct {
	RelyingParty            relyingParty `json:"relying_party"`
	AuthenticatorAttachment *string      `json:"authenticator_attachment"`
	DiscoverableCredentials *string      `json:"discoverable_credentials"`
	UserVerification        *string      `json:"user_verification"`
}

type relyingParty struct {
	ID      *string  `json:"id"`
	Name    *string  `json:"name"`
	Origins []string `json:"origins"` // null when none
}

type serviceLinksJSON struct {
	VerificationChecks      string `json:"verification_checks"`
	Verifications           string `json:"verifications"`
	RateLimits              string `json:"rate_limits"`
	MessagingConfigurations string `json:"messaging_configurations"`
	Entities                string `json:"entities"`
	Webhooks                string `json:"webhooks"`
	AccessTokens            string `json:"access_tokens"`
}

func (s *Server) serviceURL(sid verify.Sid) string {
	return s.BaseURL + pathServices + "/" + string(sid)
}

func (s *Server) serviceJSON(v *verify.Service) serviceResponse {
	u := s.serviceURL(v.Sid)
	return serviceResponse{
		Sid:                      v.Sid,
		AccountSid:               v.AccountSid,
		FriendlyName:             v.FriendlyName,
		CodeLength:               v.CodeLength,
		LookupEnabled:            v.LookupEnabled,
		Psd2Enabled:              v.Psd2Enabled,
		SkipSmsToLandlines:       v.SkipSmsToLandlines,
		DtmfInputRequired:        v.DtmfInputRequired,
		TtsName:                  nullable(v.TtsName),
		DoNotShareWarningEnabled: v.DoNotShareWarningEnabled,
		CustomCodeEnabled:        v.CustomCodeEnabled,
		Push: servicePush{
			IncludeDate:      v.Push.IncludeDate,
			ApnCredentialSid: nullable(v.Push.ApnCredentialSid),
			FcmCredentialSid: nullable(v.Push.FcmCredentialSid),
		},
		Totp: serviceTotp{
			Issuer:     nullable(v.Totp.Issuer),
			TimeStep:   v.Totp.TimeStep,
			CodeLength: v.Totp.CodeLength,
			Skew:       v.Totp.Skew,
		},
		Whatsapp: serviceWhatsapp{
			MsgServiceSid: nullable(v.Whatsapp.MsgServiceSid),
			From:          nullable(v.Whatsapp.From),
		},
		Passkeys: servicePasskeys{
			RelyingParty: relyingParty{
				ID:      nullable(v.Passkeys.RelyingPartyID),
				Name:    nullable(v.Passkeys.RelyingPartyName),
				Origins: v.Passkeys.RelyingPartyOrigins,
			},
			AuthenticatorAttachment: nullable(v.Passkeys.AuthenticatorAttachment),
			DiscoverableCredentials: nullable(v.Passkeys.DiscoverableCredentials),
			UserVerification:        nullable(v.Passkeys.UserVerification),
		},
		DefaultTemplateSid:             nullable(v.DefaultTemplateSid),
		VerifyEventSubscriptionEnabled: v.VerifyEventSubscriptionEnabled,
		DateCreated:                    dateOf(v.DateCreated),
		DateUpdated:                    dateOf(v.DateUpdated),
		URL:                            u,
		Links: serviceLinksJSON{
			VerificationChecks:      u + "/VerificationCheck",
			Verifications:           u + "/Verifications",
			RateLimits:              u + "/RateLimits",
			MessagingConfigurations: u + "/MessagingConfigurations",
			Entities:                u + "/Entities",
			Webhooks:                u + "/Webhooks",
			AccessTokens:            u + "/AccessTokens",
		},
	}
}

// serviceParams reads the form of create and update service.
func serviceParams(p *params) (verify.ServiceParams, error) {
	sp := verify.ServiceParams{
		FriendlyName:                   p.str("FriendlyName"),
		CodeLength:                     p.int("CodeLength"),
		LookupEnabled:                  p.bool("LookupEnabled"),
		SkipSmsToLandlines:             p.bool("SkipSmsToLandlines"),
		DtmfInputRequired:              p.bool("DtmfInputRequired"),
		TtsName:                        p.str("TtsName"),
		Psd2Enabled:                    p.bool("Psd2Enabled"),
		DoNotShareWarningEnabled:       p.bool("DoNotShareWarningEnabled"),
		CustomCodeEnabled:              p.bool("CustomCodeEnabled"),
		DefaultTemplateSid:             p.str("DefaultTemplateSid"),
		VerifyEventSubscriptionEnabled: p.bool("VerifyEventSubscriptionEnabled"),

		PushIncludeDate:      p.bool("Push.IncludeDate"),
		PushApnCredentialSid: p.str("Push.ApnCredentialSid"),
		PushFcmCredentialSid: p.str("Push.FcmCredentialSid"),

		TotpIssuer:     p.str("Totp.Issuer"),
		TotpTimeStep:   p.int("Totp.TimeStep"),
		TotpCodeLength: p.int("Totp.CodeLength"),
		TotpSkew:       p.int("Totp.Skew"),

		WhatsappMsgServiceSid: p.str("Whatsapp.MsgServiceSid"),
		WhatsappFrom:          p.str("Whatsapp.From"),

		PasskeysRelyingPartyID:      p.str("Passkeys.RelyingParty.Id"),
		PasskeysRelyingPartyName:    p.str("Passkeys.RelyingParty.Name"),
		PasskeysRelyingPartyOrigins: p.str("Passkeys.RelyingParty.Origins"),
		PasskeysAuthenticatorAttach: p.str("Passkeys.AuthenticatorAttachment"),
		PasskeysDiscoverableCreds:   p.str("Passkeys.DiscoverableCredentials"),
		PasskeysUserVerification:    p.str("Passkeys.UserVerification"),
	}
	return sp, p.err
}

// readServiceParams reads the body of create and update service.
func readServiceParams(r *http.Request) (verify.ServiceParams, error) {
	p, err := readParams(r, verify.EInvalidParam)
	if err != nil {
		return verify.ServiceParams{}, err
	}
	return serviceParams(p)
}

func (s *Server) handleServiceCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	sp, err := readServiceParams(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v, err := s.Verifier.CreateService(r.Context(), pr.Account, sp)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.serviceJSON(v))
}

func (s *Server) handleServiceFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	v, err := s.Verifier.FetchService(r.Context(), pr.Account, verify.Sid(r.PathValue("Sid")))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.serviceJSON(v))
}

func (s *Server) handleServiceUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	sp, err := readServiceParams(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v, err := s.Verifier.UpdateService(r.Context(), pr.Account, verify.Sid(r.PathValue("Sid")), sp)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.serviceJSON(v))
}

func (s *Server) handleServiceDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	if err := s.Verifier.DeleteService(r.Context(), pr.Account, verify.Sid(r.PathValue("Sid"))); err != nil {
		s.error(w, r, err)
		return
	}
	writeNoContent(w)
}

func (s *Server) handleServiceList(w http.ResponseWriter, r *http.Request, pr *principal) {
	_, pg, err := readListParams(r, verify.EInvalidParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	items, more, err := s.Verifier.ListServices(r.Context(), pr.Account, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeList(s, w, r, "services", s.BaseURL+pathServices, nil, pg, items, more,
		func(v *verify.Service) verify.Cursor { return verify.Cursor{Time: v.DateCreated, Sid: v.Sid} },
		func(v *verify.Service) any { return s.serviceJSON(v) })
}
