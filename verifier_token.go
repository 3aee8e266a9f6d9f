package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// CreateAccessToken mints a push enrollment token for one identity of a
// service. The token is single use and lives TTL seconds (60-300, default
// 60).
func (v *Verifier) CreateAccessToken(ctx context.Context, account, service Sid, p AccessTokenParams) (*AccessToken, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	if p.Identity == nil || *p.Identity == "" {
		return nil, missing(EAccessToken, "Identity")
	}
	if !ValidIdentity(*p.Identity) {
		return nil, Errorf(EAccessToken, "Invalid parameter Identity: must be 8 to 64 characters of dash-separated alphanumeric groups")
	}
	if p.FactorType == nil || *p.FactorType == "" {
		return nil, missing(EAccessToken, "FactorType")
	}
	if *p.FactorType != string(FactorPush) {
		return nil, Errorf(EAccessToken, "Invalid parameter FactorType: must be push")
	}
	t := &AccessToken{
		AccountSid: account, ServiceSid: service, Identity: *p.Identity,
		FactorType: FactorPush, TTL: DefaultAccessTokenTTL, DateCreated: v.now(),
	}
	if p.FactorFriendlyName != nil {
		if err := checkLen(EAccessToken, "FactorFriendlyName", *p.FactorFriendlyName, MaxFriendlyName); err != nil {
			return nil, err
		}
		if err := checkText(EAccessToken, "FactorFriendlyName", *p.FactorFriendlyName, false); err != nil {
			return nil, err
		}
		t.FactorFriendlyName = *p.FactorFriendlyName
	}
	if p.TTL != nil {
		if err := checkRange(EAccessToken, "Ttl", *p.TTL, MinAccessTokenTTL, MaxAccessTokenTTL); err != nil {
			return nil, err
		}
		t.TTL = *p.TTL
	}
	var err error
	if t.Sid, err = v.newSid(PrefixAccessToken); err != nil {
		return nil, err
	}
	if err := v.Store.CreateAccessToken(ctx, t); err != nil {
		return nil, err
	}
	t.Token = v.tokenFor(t.Sid)
	return t, nil
}

// FetchAccessToken returns an access token of a service, token included.
func (v *Verifier) FetchAccessToken(ctx context.Context, account, service, sid Sid) (*AccessToken, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	if !sid.Valid(PrefixAccessToken) {
		return nil, notFound("/Services/" + string(service) + "/AccessTokens/" + string(sid))
	}
	t, err := v.Store.FindAccessToken(ctx, service, sid)
	if err != nil {
		return nil, err
	}
	t.Token = v.tokenFor(t.Sid)
	return t, nil
}

// tokenFor derives the opaque token of an access token SID: the SID followed
// by base64url(HMAC-SHA256(TokenKey, SID)). Deriving instead of storing means
// a database dump holds no usable enrollment tokens, and the SID inside lets
// the server find the row without an index on a secret.
func (v *Verifier) tokenFor(sid Sid) string { return tokenUnder(v.TokenKey, sid) }

// tokenValid reports whether token is the token of sid under TokenKey or
// one of PreviousTokenKeys.
func (v *Verifier) tokenValid(token string, sid Sid) bool {
	ok := hmac.Equal([]byte(token), []byte(v.tokenFor(sid)))
	for _, k := range v.PreviousTokenKeys {
		ok = hmac.Equal([]byte(token), []byte(tokenUnder(k, sid))) || ok
	}
	return ok
}

func tokenUnder(key []byte, sid Sid) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("verifyd access token v1\x00"))
	m.Write([]byte(sid))
	return string(sid) + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// EnrollFactor creates a push factor for a device that presents an
// enrollment access token instead of account credentials. The token must be
// unexpired, unused, and issued for this service, identity and factor type;
// it is spent in the transaction that creates the factor, so it enrolls at
// most one factor and a refused request leaves it usable. Every token
// failure is ENotAuthorized, so a device learns nothing about other tokens.
func (v *Verifier) EnrollFactor(ctx context.Context, token string, service Sid, identity string, p FactorParams) (*NewFactor, error) {
	deny := Errorf(ENotAuthorized, "Not authorized to create a factor with this access token")
	if len(token) <= 34 || !service.Valid(PrefixService) {
		return nil, deny
	}
	sid := Sid(token[:34])
	if !sid.Valid(PrefixAccessToken) || !v.tokenValid(token, sid) {
		return nil, deny
	}
	at, err := v.Store.FindAccessToken(ctx, service, sid)
	if IsCode(err, ENotFound) {
		return nil, deny
	}
	if err != nil {
		return nil, err
	}
	now := v.now()
	if at.DateUsed != nil || at.Identity != identity || !now.Before(at.DateCreated.Add(time.Duration(at.TTL)*time.Second)) {
		return nil, deny
	}
	if p.FactorType == nil || *p.FactorType != string(at.FactorType) {
		return nil, deny
	}
	if (p.FriendlyName == nil || *p.FriendlyName == "") && at.FactorFriendlyName != "" {
		p.FriendlyName = &at.FactorFriendlyName
	}
	return v.createFactor(ctx, at.AccountSid, service, identity, p, func(st Store) error {
		if err := st.UseAccessToken(ctx, sid, now); err != nil {
			if IsCode(err, ENotAuthorized) {
				return deny
			}
			return err
		}
		return nil
	})
}

// CreateNotification records a request to notify the device of a pending
// push challenge again, and in the same transaction the push outbox row
// (pushRow) that the notify worker delivers; a factor with platform none
// has nothing to deliver to.
func (v *Verifier) CreateNotification(ctx context.Context, account, service Sid, identity string, challenge Sid, ttl *int) (*Notification, error) {
	c, err := v.challenge(ctx, account, service, identity, challenge)
	if err != nil {
		return nil, err
	}
	n := &Notification{
		AccountSid: account, ServiceSid: service, EntitySid: c.EntitySid, Identity: identity,
		ChallengeSid: c.Sid, Priority: "high", TTL: DefaultNotifyTTL, DateCreated: v.now(),
	}
	if ttl != nil {
		if err := checkRange(EPushParam, "Ttl", *ttl, 0, MaxNotificationTTL); err != nil {
			return nil, err
		}
		n.TTL = *ttl
	}
	if c.FactorType != FactorPush {
		return nil, Errorf(EPushParam, "Notifications can only be sent for push challenges")
	}
	if err := answerable(c); err != nil {
		return nil, err
	}
	f, err := v.Store.FindFactor(ctx, c.EntitySid, c.FactorSid)
	if err != nil {
		return nil, err
	}
	if f.Push.NotificationPlatform == PlatformNone {
		return nil, Errorf(ENotifyNone, "The factor's notification platform is none: there is no device to notify")
	}
	if n.Sid, err = v.newSid(PrefixNotification); err != nil {
		return nil, err
	}
	svc, err := v.service(ctx, account, service)
	if err != nil {
		return nil, err
	}
	// The re-send's TTL is the requested one; pushRow's deadline still
	// stops at the challenge's expiration. The NT SID is the row's ID.
	push, err := pushRow(svc, f, c, string(n.Sid), n.TTL, n.DateCreated)
	if err != nil {
		return nil, err
	}
	err = v.Store.Tx(ctx, func(st Store) error {
		if err := st.CreateNotification(ctx, n, MaxNotifications); err != nil {
			return err
		}
		if push != nil {
			return st.EnqueueOutbox(ctx, push)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}
