package verify

import (
	"context"
	"strings"
)

// CreateService creates a service in the account. FriendlyName is required;
// Totp.Issuer defaults to it.
func (v *Verifier) CreateService(ctx context.Context, account Sid, p ServiceParams) (*Service, error) {
	sid, err := v.newSid(PrefixService)
	if err != nil {
		return nil, err
	}
	return v.CreateServiceSid(ctx, account, sid, p)
}

// CreateServiceSid is CreateService with the SID given: the fixed service
// of the development mode, whose SID a CI job writes as a constant.
func (v *Verifier) CreateServiceSid(ctx context.Context, account, sid Sid, p ServiceParams) (*Service, error) {
	if p.FriendlyName == nil || *p.FriendlyName == "" {
		return nil, missing(EInvalidParam, "FriendlyName")
	}
	if !sid.Valid(PrefixService) {
		return nil, Errorf(EServiceSid, "Invalid service SID %q", sid)
	}
	now := v.now()
	s := &Service{
		Sid:         sid,
		AccountSid:  account,
		CodeLength:  DefaultCodeLength,
		Totp:        TotpSettings{TimeStep: DefaultTotpTimeStep, CodeLength: DefaultTotpCodeLength, Skew: DefaultTotpSkew},
		DateCreated: now,
		DateUpdated: now,
	}
	if p.TotpIssuer == nil {
		issuer := *p.FriendlyName
		p.TotpIssuer = &issuer
	}
	if err := applyServiceParams(s, p); err != nil {
		return nil, err
	}
	err := v.Store.Tx(ctx, func(st Store) error {
		if err := checkServiceCredentials(ctx, st, account, p); err != nil {
			return err
		}
		return st.CreateService(ctx, s)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// FetchService returns one of the account's services.
func (v *Verifier) FetchService(ctx context.Context, account, sid Sid) (*Service, error) {
	return v.service(ctx, account, sid)
}

// UpdateService changes the settings that p carries.
func (v *Verifier) UpdateService(ctx context.Context, account, sid Sid, p ServiceParams) (*Service, error) {
	var s *Service
	err := v.Store.Tx(ctx, func(st Store) error {
		var err error
		if s, err = v.in(st).service(ctx, account, sid); err != nil {
			return err
		}
		if p.FriendlyName != nil && *p.FriendlyName == "" {
			return Errorf(EInvalidParam, "Invalid parameter FriendlyName: must not be empty")
		}
		if err := applyServiceParams(s, p); err != nil {
			return err
		}
		if err := checkServiceCredentials(ctx, st, account, p); err != nil {
			return err
		}
		s.DateUpdated = v.now()
		return st.UpdateService(ctx, s)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// DeleteService deletes a service with all its entities, factors and
// challenges.
func (v *Verifier) DeleteService(ctx context.Context, account, sid Sid) error {
	if _, err := v.service(ctx, account, sid); err != nil {
		return err
	}
	return v.Store.DeleteService(ctx, account, sid)
}

// ListServices lists the account's services.
func (v *Verifier) ListServices(ctx context.Context, account Sid, p Page) ([]*Service, bool, error) {
	return v.Store.ListServices(ctx, account, p)
}

// applyServiceParams checks each parameter that was sent and copies it into s.
func applyServiceParams(s *Service, p ServiceParams) error {
	const code = EInvalidParam
	texts := []struct {
		name string
		val  *string
	}{
		{"FriendlyName", p.FriendlyName},
		{"TtsName", p.TtsName},
		{"DefaultTemplateSid", p.DefaultTemplateSid},
		{"Push.ApnCredentialSid", p.PushApnCredentialSid},
		{"Push.FcmCredentialSid", p.PushFcmCredentialSid},
		{"Totp.Issuer", p.TotpIssuer},
		{"Whatsapp.MsgServiceSid", p.WhatsappMsgServiceSid},
		{"Whatsapp.From", p.WhatsappFrom},
		{"Passkeys.RelyingParty.Id", p.PasskeysRelyingPartyID},
		{"Passkeys.RelyingParty.Name", p.PasskeysRelyingPartyName},
		{"Passkeys.RelyingParty.Origins", p.PasskeysRelyingPartyOrigins},
		{"Passkeys.AuthenticatorAttachment", p.PasskeysAuthenticatorAttach},
		{"Passkeys.DiscoverableCredentials", p.PasskeysDiscoverableCreds},
		{"Passkeys.UserVerification", p.PasskeysUserVerification},
	}
	for _, f := range texts {
		if f.val != nil {
			if err := checkText(code, f.name, *f.val, false); err != nil {
				return err
			}
		}
	}
	if p.FriendlyName != nil {
		if err := checkLen(code, "FriendlyName", *p.FriendlyName, MaxServiceNameLength); err != nil {
			return err
		}
		s.FriendlyName = *p.FriendlyName
	}
	if p.CodeLength != nil {
		if err := checkRange(code, "CodeLength", *p.CodeLength, MinCodeLength, MaxCodeLength); err != nil {
			return err
		}
		s.CodeLength = *p.CodeLength
	}
	setBool(&s.LookupEnabled, p.LookupEnabled)
	setBool(&s.SkipSmsToLandlines, p.SkipSmsToLandlines)
	setBool(&s.DtmfInputRequired, p.DtmfInputRequired)
	setBool(&s.Psd2Enabled, p.Psd2Enabled)
	setBool(&s.DoNotShareWarningEnabled, p.DoNotShareWarningEnabled)
	setBool(&s.CustomCodeEnabled, p.CustomCodeEnabled)
	setBool(&s.VerifyEventSubscriptionEnabled, p.VerifyEventSubscriptionEnabled)
	setBool(&s.Push.IncludeDate, p.PushIncludeDate)
	if p.TtsName != nil {
		if err := checkLen(code, "TtsName", *p.TtsName, 100); err != nil {
			return err
		}
		s.TtsName = *p.TtsName
	}
	sids := []struct {
		name, prefix string
		val          *string
		dst          *string
	}{
		{"DefaultTemplateSid", "HJ", p.DefaultTemplateSid, &s.DefaultTemplateSid},
		{"Push.ApnCredentialSid", "CR", p.PushApnCredentialSid, &s.Push.ApnCredentialSid},
		{"Push.FcmCredentialSid", "CR", p.PushFcmCredentialSid, &s.Push.FcmCredentialSid},
		{"Whatsapp.MsgServiceSid", "MG", p.WhatsappMsgServiceSid, &s.Whatsapp.MsgServiceSid},
	}
	for _, f := range sids {
		if f.val == nil {
			continue
		}
		if *f.val != "" && !Sid(*f.val).Valid(f.prefix) {
			return Errorf(code, "Invalid parameter %s: must be a %s SID", f.name, f.prefix)
		}
		*f.dst = *f.val
	}
	if p.TotpIssuer != nil {
		if err := checkLen(code, "Totp.Issuer", *p.TotpIssuer, 255); err != nil {
			return err
		}
		s.Totp.Issuer = *p.TotpIssuer
	}
	ints := []struct {
		name   string
		val    *int
		lo, hi int
		dst    *int
	}{
		{"Totp.TimeStep", p.TotpTimeStep, 20, 60, &s.Totp.TimeStep},
		{"Totp.CodeLength", p.TotpCodeLength, 3, 8, &s.Totp.CodeLength},
		{"Totp.Skew", p.TotpSkew, 0, 2, &s.Totp.Skew},
	}
	for _, f := range ints {
		if f.val == nil {
			continue
		}
		if err := checkRange(code, f.name, *f.val, f.lo, f.hi); err != nil {
			return err
		}
		*f.dst = *f.val
	}
	setString(&s.Whatsapp.From, p.WhatsappFrom)
	setString(&s.Passkeys.RelyingPartyID, p.PasskeysRelyingPartyID)
	setString(&s.Passkeys.RelyingPartyName, p.PasskeysRelyingPartyName)
	if p.PasskeysRelyingPartyOrigins != nil {
		s.Passkeys.RelyingPartyOrigins = nil
		for _, o := range strings.Split(*p.PasskeysRelyingPartyOrigins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				s.Passkeys.RelyingPartyOrigins = append(s.Passkeys.RelyingPartyOrigins, o)
			}
		}
	}
	if err := checkServiceRP(s.Passkeys, p); err != nil {
		return err
	}
	enums := []struct {
		name    string
		val     *string
		allowed []string
		dst     *string
	}{
		{"Passkeys.AuthenticatorAttachment", p.PasskeysAuthenticatorAttach, []string{"", "platform", "cross-platform", "any"}, &s.Passkeys.AuthenticatorAttachment},
		{"Passkeys.DiscoverableCredentials", p.PasskeysDiscoverableCreds, []string{"", "required", "preferred", "discouraged"}, &s.Passkeys.DiscoverableCredentials},
		{"Passkeys.UserVerification", p.PasskeysUserVerification, []string{"", "required", "preferred", "discouraged"}, &s.Passkeys.UserVerification},
	}
	for _, f := range enums {
		if f.val == nil {
			continue
		}
		if !oneOf(*f.val, f.allowed...) {
			return Errorf(code, "Invalid parameter %s: must be one of %s", f.name, strings.Join(f.allowed[1:], ", "))
		}
		*f.dst = *f.val
	}
	return nil
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func oneOf(s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}
