package device

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Factor is a factor response as the SDK maps it (FactorMapper.toPushFactor).
type Factor struct {
	Sid, FriendlyName, AccountSid, Status string
	CredentialSid, NotificationPlatform   string
	DateCreated                           time.Time
	Metadata                              map[string]string
}

// NormalizeBaseURL makes base end in "/v2/", the SDK's BASE_URL shape, to
// which paths are appended without a leading slash: "https://h:4010",
// "https://h:4010/v2" and "https://h:4010/v2/" are all ".../v2/".
func NormalizeBaseURL(base string) string {
	base = strings.TrimRight(base, "/")
	if !strings.HasSuffix(base, "/v2") {
		base += "/v2"
	}
	return base + "/"
}

// config is PushFactory.config: SdkVersion, AppId, then platform "none" and
// no token when the token is blank, else the platform and the token.
func config(platform, pushToken string) []param {
	ps := []param{{"Config.SdkVersion", SDKVersion}, {"Config.AppId", AppID}}
	if strings.TrimSpace(pushToken) == "" {
		return append(ps, param{"Config.NotificationPlatform", "none"})
	}
	if platform == "" || platform == "none" {
		platform = "fcm" // the Android SDK's only push platform
	}
	return append(ps, param{"Config.NotificationPlatform", platform}, param{"Config.NotificationToken", pushToken})
}

func (s *State) entityPath() string { return "Services/" + s.ServiceSid + "/Entities/" + s.Identity }
func (s *State) factorPath() string { return s.entityPath() + "/Factors/" + s.FactorSid }

// Enroll creates a push factor as PushFactory.create does: a new P-256
// key, then create factor authenticated with the enrollment access token,
// never retried. On success c.State is the new factor; the caller saves it.
func (c *Client) Enroll(ctx context.Context, baseURL, serviceSid, identity, accessToken, friendlyName string, platform, pushToken string, metadata map[string]string) (*State, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	form := []param{
		{"FriendlyName", friendlyName},
		{"FactorType", "push"},
		{"Binding.PublicKey", base64.StdEncoding.EncodeToString(spki)},
		{"Binding.Alg", "ES256"},
	}
	form = append(form, config(platform, pushToken)...)
	if metadata != nil {
		// JSONObject(map).toString(); Go sorts the keys where Android keeps
		// the map's order, which a server must not care about.
		md, err := json.Marshal(metadata)
		if err != nil {
			return nil, err
		}
		form = append(form, param{"Metadata", string(md)})
	}
	st := &State{BaseURL: NormalizeBaseURL(baseURL), ServiceSid: serviceSid, Identity: identity}
	if err := st.setKey(key); err != nil {
		return nil, err
	}
	tmp := &Client{HTTP: c.HTTP, Now: c.Now, State: st, UserAgent: c.UserAgent}
	resp, err := tmp.send(ctx, http.MethodPost, st.entityPath()+"/Factors", accessToken, form)
	if err != nil {
		return nil, fmt.Errorf("create factor: %w", err)
	}
	f, err := parseFactor(resp.body)
	if err != nil {
		return nil, fmt.Errorf("create factor: %w", err)
	}
	st.FactorSid, st.FriendlyName, st.AccountSid, st.Status = f.Sid, f.FriendlyName, f.AccountSid, f.Status
	st.CredentialSid, st.NotificationPlatform = f.CredentialSid, f.NotificationPlatform
	st.DateCreated, st.Metadata = f.DateCreated.UTC().Format(time.RFC3339), f.Metadata
	c.State = st
	return st, nil
}

// parseFactor requires what FactorMapper.toPushFactor requires: sid,
// friendly_name, account_sid, status, date_created and
// config.credential_sid. An unknown status reads as unverified and an
// unknown platform as fcm, as on Android.
func parseFactor(body []byte) (*Factor, error) {
	o, err := parseObject("factor", body)
	if err != nil {
		return nil, err
	}
	f := &Factor{}
	for _, m := range []struct {
		key string
		dst *string
	}{{"sid", &f.Sid}, {"friendly_name", &f.FriendlyName}, {"account_sid", &f.AccountSid}, {"status", &f.Status}} {
		if *m.dst, err = o.str(m.key, true); err != nil {
			return nil, err
		}
	}
	if f.Status != "verified" {
		f.Status = "unverified"
	}
	dc, err := o.str("date_created", true)
	if err != nil {
		return nil, err
	}
	if f.DateCreated, err = parseDate("date_created", dc); err != nil {
		return nil, err
	}
	cfgRaw, ok := o["config"]
	if !ok {
		return nil, fmt.Errorf("response lacks %q", "config")
	}
	cfg, err := parseObject("factor config", cfgRaw)
	if err != nil {
		return nil, err
	}
	if f.CredentialSid, err = cfg.str("credential_sid", true); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	switch p, _ := cfg.str("notification_platform", false); p {
	case "fcm", "apn", "none":
		f.NotificationPlatform = p
	default:
		f.NotificationPlatform = "fcm"
	}
	if f.Metadata, err = o.strMap("metadata"); err != nil {
		return nil, err
	}
	return f, nil
}

// Verify proves possession of the key (§5.2): AuthPayload is the standard
// base64 of a DER ECDSA signature over the factor SID, not a JWT. The
// status read back is stored in c.State.
func (c *Client) Verify(ctx context.Context) (string, error) {
	key, err := c.State.Key()
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(c.State.FactorSid))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		return "", err
	}
	resp, err := c.call(ctx, http.MethodPost, c.State.factorPath(), []param{{"AuthPayload", base64.StdEncoding.EncodeToString(sig)}}, false)
	if err != nil {
		return "", fmt.Errorf("verify factor: %w", err)
	}
	o, err := parseObject("verify factor", resp.body)
	if err != nil {
		return "", err
	}
	status, err := o.str("status", true)
	if err != nil {
		return "", fmt.Errorf("verify factor: %w", err)
	}
	if status != "verified" {
		status = "unverified"
	}
	c.State.Status = status
	return status, nil
}

// UpdatePushToken is the SDK's token refresh (§5.3). Like the SDK it
// validates the response but saves nothing from it: credential_sid and
// account_sid never change after enrollment.
func (c *Client) UpdatePushToken(ctx context.Context, platform, token string) (*Factor, error) {
	if c.State == nil {
		return nil, ErrNotEnrolled
	}
	form := append([]param{{"FriendlyName", c.State.FriendlyName}}, config(platform, token)...)
	resp, err := c.call(ctx, http.MethodPost, c.State.factorPath(), form, false)
	if err != nil {
		return nil, fmt.Errorf("update factor: %w", err)
	}
	f, err := parseFactor(resp.body)
	if err != nil {
		return nil, fmt.Errorf("update factor: %w", err)
	}
	return f, nil
}

// Delete removes the factor on the server (§5.4). As in the SDK, 404 (it
// is already gone) and a second 401 (the server no longer knows the
// credential) count as success.
func (c *Client) Delete(ctx context.Context) error {
	if c.State == nil {
		return ErrNotEnrolled
	}
	_, err := c.call(ctx, http.MethodDelete, c.State.factorPath(), nil, true)
	if e := (*Error)(nil); errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete factor: %w", err)
	}
	return nil
}
