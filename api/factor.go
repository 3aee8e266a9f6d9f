package api

import (
	"encoding/base64"
	"net/http"

	"github.com/verifyd/verify"
)

// factorResponse is verify.v2.service.entity.factor on the wire.
type factorResponse struct {
	Sid          verify.Sid        `json:"sid"`
	AccountSid   verify.Sid        `json:"account_sid"`
	ServiceSid   verify.Sid        `json:"service_sid"`
	EntitySid    verify.Sid        `json:"entity_sid"`
	Identity     string            `json:"identity"`
	DateCreated  date              `json:"date_created"`
	DateUpdated  date              `json:"date_updated"`
	FriendlyName string            `json:"friendly_name"`
	Status       string            `json:"status"`
	FactorType   string            `json:"factor_type"`
	Config       any               `json:"config"`
	Metadata     map[string]string `json:"metadata"` // null when unset
	URL          string            `json:"url"`
}

// newFactorResponse is verify.v2.service.entity.new_factor: the factor plus
// its binding, which create factor is the only call to return. options is
// null for push and TOTP factors.
type newFactorResponse struct {
	factorResponse
	Binding any `json:"binding"`
	Options any `json:"options"`
}

// totpConfig is the config of a TOTP factor.
type totpConfig struct {
	Alg        string `json:"alg"`
	Skew       int    `json:"skew"`
	CodeLength int    `json:"code_length"`
	TimeStep   int    `json:"time_step"`
}

// pushConfig is the config of a push factor. credential_sid is not in
// Twilio's example, but both SDKs refuse a factor response without it: it
// becomes the kid of every device JWT (push-protocol.md §5.1).
type pushConfig struct {
	SdkVersion           string     `json:"sdk_version"`
	AppID                string     `json:"app_id"`
	NotificationPlatform string     `json:"notification_platform"`
	NotificationToken    string     `json:"notification_token,omitempty"`
	CredentialSid        verify.Sid `json:"credential_sid"`
}

type totpBinding struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

type pushBinding struct {
	Alg       string `json:"alg"`
	PublicKey string `json:"public_key"` // standard base64 of the DER key
}

func (s *Server) factorURL(f *verify.Factor) string {
	return s.entityURL(f.ServiceSid, f.Identity) + "/Factors/" + string(f.Sid)
}

func (s *Server) factorJSON(f *verify.Factor) factorResponse {
	var config any = struct{}{}
	switch {
	case f.Totp != nil:
		config = totpConfig{Alg: f.Totp.Alg, Skew: f.Totp.Skew, CodeLength: f.Totp.CodeLength, TimeStep: f.Totp.TimeStep}
	case f.Push != nil:
		config = pushConfig{
			SdkVersion:           f.Push.SdkVersion,
			AppID:                f.Push.AppID,
			NotificationPlatform: f.Push.NotificationPlatform,
			NotificationToken:    f.Push.NotificationToken,
			CredentialSid:        f.Push.CredentialSid,
		}
	case f.Passkey != nil:
		config = passkeyConfig(f.Passkey)
	}
	return factorResponse{
		Sid:          f.Sid,
		AccountSid:   f.AccountSid,
		ServiceSid:   f.ServiceSid,
		EntitySid:    f.EntitySid,
		Identity:     f.Identity,
		DateCreated:  dateOf(f.DateCreated),
		DateUpdated:  dateOf(f.DateUpdated),
		FriendlyName: f.FriendlyName,
		Status:       string(f.Status),
		FactorType:   string(f.Type),
		Config:       config,
		Metadata:     f.Metadata,
		URL:          s.factorURL(f),
	}
}

func (s *Server) newFactorJSON(nf *verify.NewFactor) newFactorResponse {
	var binding any
	switch {
	case nf.Totp != nil:
		binding = totpBinding{Secret: nf.Secret, URI: nf.URI}
	case nf.Push != nil:
		binding = pushBinding{Alg: nf.Push.Alg, PublicKey: base64.StdEncoding.EncodeToString(nf.Push.PublicKey)}
	}
	r := newFactorResponse{factorResponse: s.factorJSON(nf.Factor), Binding: binding}
	if o := passkeyOptionsJSON(nf.Options); o != nil {
		r.Options = o
	}
	return r
}

// factorPath returns the service, identity and factor SID of a factor path.
func factorPath(r *http.Request) (verify.Sid, string, verify.Sid) {
	return verify.Sid(r.PathValue("ServiceSid")), r.PathValue("Identity"), verify.Sid(r.PathValue("Sid"))
}

// factorConfig reads the Config.* parameters. Config.AppId is not in
// Twilio's UpdateFactor list, but the Push SDKs send it on a token refresh
// (push-protocol.md §5.3), so update reads it too.
func factorConfig(p *params) verify.FactorConfig {
	return verify.FactorConfig{
		AppID:                p.str("Config.AppId"),
		NotificationPlatform: p.str("Config.NotificationPlatform"),
		NotificationToken:    p.str("Config.NotificationToken"),
		SdkVersion:           p.str("Config.SdkVersion"),
		TimeStep:             p.int("Config.TimeStep"),
		Skew:                 p.int("Config.Skew"),
		CodeLength:           p.int("Config.CodeLength"),
		Alg:                  p.str("Config.Alg"),
	}
}

func (s *Server) handleFactorCreate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	fp := verify.FactorParams{
		FriendlyName:     p.str("FriendlyName"),
		FactorType:       p.str("FactorType"),
		BindingAlg:       p.str("Binding.Alg"),
		BindingPublicKey: p.str("Binding.PublicKey"),
		BindingSecret:    p.str("Binding.Secret"),
		Config:           factorConfig(p),
		Metadata:         p.str("Metadata"),
	}
	if p.err != nil {
		s.error(w, r, p.err)
		return
	}
	service, identity, _ := factorPath(r)
	var nf *verify.NewFactor
	if pr.EnrollToken != "" {
		nf, err = s.Verifier.EnrollFactor(r.Context(), pr.EnrollToken, service, identity, fp)
	} else {
		nf, err = s.Verifier.CreateFactor(r.Context(), pr.Account, service, identity, fp)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, s.newFactorJSON(nf))
}

func (s *Server) handleFactorFetch(w http.ResponseWriter, r *http.Request, pr *principal) {
	service, identity, sid := factorPath(r)
	f, err := s.Verifier.FetchFactor(r.Context(), pr.Account, service, identity, sid)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.factorJSON(f))
}

// handleFactorUpdate serves both update and verify factor: the Verifier
// tells them apart by whether AuthPayload was sent.
func (s *Server) handleFactorUpdate(w http.ResponseWriter, r *http.Request, pr *principal) {
	p, err := readParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	fu := verify.FactorUpdate{
		AuthPayload:  p.str("AuthPayload"),
		FriendlyName: p.str("FriendlyName"),
		Config:       factorConfig(p),
		Metadata:     p.str("Metadata"),
	}
	if p.err != nil {
		s.error(w, r, p.err)
		return
	}
	service, identity, sid := factorPath(r)
	f, err := s.Verifier.UpdateFactor(r.Context(), pr.Account, service, identity, sid, fu)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.factorJSON(f))
}

func (s *Server) handleFactorDelete(w http.ResponseWriter, r *http.Request, pr *principal) {
	service, identity, sid := factorPath(r)
	if err := s.Verifier.DeleteFactor(r.Context(), pr.Account, service, identity, sid); err != nil {
		s.error(w, r, err)
		return
	}
	writeNoContent(w)
}

func (s *Server) handleFactorList(w http.ResponseWriter, r *http.Request, pr *principal) {
	_, pg, err := readListParams(r, verify.EPushParam)
	if err != nil {
		s.error(w, r, err)
		return
	}
	service, identity, _ := factorPath(r)
	items, more, err := s.Verifier.ListFactors(r.Context(), pr.Account, service, identity, pg.page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeFactorList(w, service, identity, pg, items, more)
}
