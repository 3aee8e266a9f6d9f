package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

// serviceSettings is the JSON document in services.settings: the settings
// verifyd only stores and echoes. Keeping them in one column means a new
// echo-only setting needs no migration; the settings verifyd acts on (code
// length, TOTP defaults) have columns of their own.
type serviceSettings struct {
	LookupEnabled                  bool   `json:"lookup_enabled"`
	SkipSmsToLandlines             bool   `json:"skip_sms_to_landlines"`
	DtmfInputRequired              bool   `json:"dtmf_input_required"`
	TtsName                        string `json:"tts_name"`
	Psd2Enabled                    bool   `json:"psd2_enabled"`
	DoNotShareWarningEnabled       bool   `json:"do_not_share_warning_enabled"`
	CustomCodeEnabled              bool   `json:"custom_code_enabled"`
	DefaultTemplateSid             string `json:"default_template_sid"`
	VerifyEventSubscriptionEnabled bool   `json:"verify_event_subscription_enabled"`

	PushIncludeDate      bool   `json:"push_include_date"`
	PushApnCredentialSid string `json:"push_apn_credential_sid"`
	PushFcmCredentialSid string `json:"push_fcm_credential_sid"`

	WhatsappMsgServiceSid string `json:"whatsapp_msg_service_sid"`
	WhatsappFrom          string `json:"whatsapp_from"`

	PasskeysRelyingPartyID          string   `json:"passkeys_relying_party_id"`
	PasskeysRelyingPartyName        string   `json:"passkeys_relying_party_name"`
	PasskeysRelyingPartyOrigins     []string `json:"passkeys_relying_party_origins"`
	PasskeysAuthenticatorAttachment string   `json:"passkeys_authenticator_attachment"`
	PasskeysDiscoverableCredentials string   `json:"passkeys_discoverable_credentials"`
	PasskeysUserVerification        string   `json:"passkeys_user_verification"`
}

func settingsOf(v *verify.Service) serviceSettings {
	return serviceSettings{
		LookupEnabled:                   v.LookupEnabled,
		SkipSmsToLandlines:              v.SkipSmsToLandlines,
		DtmfInputRequired:               v.DtmfInputRequired,
		TtsName:                         v.TtsName,
		Psd2Enabled:                     v.Psd2Enabled,
		DoNotShareWarningEnabled:        v.DoNotShareWarningEnabled,
		CustomCodeEnabled:               v.CustomCodeEnabled,
		DefaultTemplateSid:              v.DefaultTemplateSid,
		VerifyEventSubscriptionEnabled:  v.VerifyEventSubscriptionEnabled,
		PushIncludeDate:                 v.Push.IncludeDate,
		PushApnCredentialSid:            v.Push.ApnCredentialSid,
		PushFcmCredentialSid:            v.Push.FcmCredentialSid,
		WhatsappMsgServiceSid:           v.Whatsapp.MsgServiceSid,
		WhatsappFrom:                    v.Whatsapp.From,
		PasskeysRelyingPartyID:          v.Passkeys.RelyingPartyID,
		PasskeysRelyingPartyName:        v.Passkeys.RelyingPartyName,
		PasskeysRelyingPartyOrigins:     v.Passkeys.RelyingPartyOrigins,
		PasskeysAuthenticatorAttachment: v.Passkeys.AuthenticatorAttachment,
		PasskeysDiscoverableCredentials: v.Passkeys.DiscoverableCredentials,
		PasskeysUserVerification:        v.Passkeys.UserVerification,
	}
}

func (st serviceSettings) applyTo(v *verify.Service) {
	v.LookupEnabled = st.LookupEnabled
	v.SkipSmsToLandlines = st.SkipSmsToLandlines
	v.DtmfInputRequired = st.DtmfInputRequired
	v.TtsName = st.TtsName
	v.Psd2Enabled = st.Psd2Enabled
	v.DoNotShareWarningEnabled = st.DoNotShareWarningEnabled
	v.CustomCodeEnabled = st.CustomCodeEnabled
	v.DefaultTemplateSid = st.DefaultTemplateSid
	v.VerifyEventSubscriptionEnabled = st.VerifyEventSubscriptionEnabled
	v.Push = verify.PushSettings{
		IncludeDate:      st.PushIncludeDate,
		ApnCredentialSid: st.PushApnCredentialSid,
		FcmCredentialSid: st.PushFcmCredentialSid,
	}
	v.Whatsapp = verify.WhatsappSettings{
		MsgServiceSid: st.WhatsappMsgServiceSid,
		From:          st.WhatsappFrom,
	}
	v.Passkeys = verify.PasskeySettings{
		RelyingPartyID:          st.PasskeysRelyingPartyID,
		RelyingPartyName:        st.PasskeysRelyingPartyName,
		RelyingPartyOrigins:     st.PasskeysRelyingPartyOrigins,
		AuthenticatorAttachment: st.PasskeysAuthenticatorAttachment,
		DiscoverableCredentials: st.PasskeysDiscoverableCredentials,
		UserVerification:        st.PasskeysUserVerification,
	}
}

const serviceColumns = `sid, account_sid, friendly_name, code_length, totp_issuer, totp_time_step,
totp_code_length, totp_skew, settings, date_created, date_updated`

func scanService(sc scanner) (*verify.Service, error) {
	v := &verify.Service{}
	var sid, account, settings string
	var created, updated int64
	if err := sc.Scan(&sid, &account, &v.FriendlyName, &v.CodeLength, &v.Totp.Issuer,
		&v.Totp.TimeStep, &v.Totp.CodeLength, &v.Totp.Skew, &settings, &created, &updated); err != nil {
		return nil, err
	}
	var st serviceSettings
	if err := json.Unmarshal([]byte(settings), &st); err != nil {
		return nil, fmt.Errorf("service %s settings: %w", sid, err)
	}
	st.applyTo(v)
	v.Sid, v.AccountSid = verify.Sid(sid), verify.Sid(account)
	v.DateCreated, v.DateUpdated = fromUnix(created), fromUnix(updated)
	return v, nil
}

// CreateService inserts the service; the caller has set every field.
func (s *store) CreateService(ctx context.Context, v *verify.Service) error {
	settings, err := json.Marshal(settingsOf(v))
	if err != nil {
		return fmt.Errorf("sqlstore: create service %s: %w", v.Sid, err)
	}
	_, err = s.exec(ctx, `INSERT INTO services (`+serviceColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(v.Sid), string(v.AccountSid), v.FriendlyName, v.CodeLength, v.Totp.Issuer,
		v.Totp.TimeStep, v.Totp.CodeLength, v.Totp.Skew, string(settings),
		unix(v.DateCreated), unix(v.DateUpdated))
	if err != nil {
		return fmt.Errorf("sqlstore: create service %s: %w", v.Sid, err)
	}
	return nil
}

// FindService returns the account's service, or ENotFound, also when the
// service belongs to another account. Inside a transaction it also locks the
// service until the transaction ends, so that a read-modify-write of its
// settings (update service) cannot lose a concurrent update on another node.
func (s *store) FindService(ctx context.Context, account, sid verify.Sid) (*verify.Service, error) {
	v, err := scanService(s.queryRow(ctx, `SELECT `+serviceColumns+` FROM services
WHERE sid = ? AND account_sid = ?`+s.lockRow(), string(sid), string(account)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verify.Errorf(verify.ENotFound, "Service %s was not found", sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find service %s: %w", sid, err)
	}
	return v, nil
}

// UpdateService replaces every setting of the service and its DateUpdated;
// SIDs and DateCreated stay. ENotFound if it does not exist.
func (s *store) UpdateService(ctx context.Context, v *verify.Service) error {
	settings, err := json.Marshal(settingsOf(v))
	if err != nil {
		return fmt.Errorf("sqlstore: update service %s: %w", v.Sid, err)
	}
	ok, err := s.execOne(ctx, `UPDATE services SET friendly_name = ?, code_length = ?,
totp_issuer = ?, totp_time_step = ?, totp_code_length = ?, totp_skew = ?, settings = ?,
date_updated = ?
WHERE sid = ? AND account_sid = ?`,
		v.FriendlyName, v.CodeLength, v.Totp.Issuer, v.Totp.TimeStep, v.Totp.CodeLength,
		v.Totp.Skew, string(settings), unix(v.DateUpdated), string(v.Sid), string(v.AccountSid))
	if err != nil {
		return fmt.Errorf("sqlstore: update service %s: %w", v.Sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "Service %s was not found", v.Sid)
	}
	return nil
}

// DeleteService deletes the service; the foreign keys cascade to its
// entities, factors, challenges, notifications and access tokens.
// ENotFound if the account has no such service.
func (s *store) DeleteService(ctx context.Context, account, sid verify.Sid) error {
	ok, err := s.execOne(ctx, `DELETE FROM services WHERE sid = ? AND account_sid = ?`,
		string(sid), string(account))
	if err != nil {
		return fmt.Errorf("sqlstore: delete service %s: %w", sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "Service %s was not found", sid)
	}
	return nil
}

// ListServices pages through the account's services.
func (s *store) ListServices(ctx context.Context, account verify.Sid, p verify.Page) ([]*verify.Service, bool, error) {
	items, more, err := list(ctx, s, `SELECT `+serviceColumns+` FROM services`,
		[]string{"account_sid = ?"}, []any{string(account)}, p, scanService)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list services of %s: %w", account, err)
	}
	return items, more, nil
}
