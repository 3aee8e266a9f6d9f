package verify

import (
	"encoding/json"
	"time"
)

// PushPayload is the payload of a push outbox row: the challenge's
// notification as it was decided when the challenge (or a Notification,
// the re-send) was committed. It is frozen rather than re-read at send
// time so that the sender needs no query in the common case and a token
// that was marked dead can be compared with the one actually sent.
type PushPayload struct {
	ChallengeSid Sid    `json:"challenge_sid"`
	FactorSid    Sid    `json:"factor_sid"`
	EntitySid    Sid    `json:"entity_sid"`
	Identity     string `json:"identity"`
	// Message is the challenge's Details.Message, shown on the phone.
	Message  string `json:"message"`
	Platform string `json:"platform"` // apn or fcm
	// Token is the factor's notification token (an APNs device token or
	// an FCM registration token): not a secret, but never logged whole.
	Token         string `json:"token"`
	AppID         string `json:"app_id"`
	CredentialSid Sid    `json:"credential_sid"`
	// Expiration is the challenge's expiration_date: a push is pointless
	// after it.
	Expiration time.Time `json:"expiration"`
	// TTL is how long APNs and FCM may keep trying, in seconds (0: once,
	// not stored), counted from Created.
	TTL     int       `json:"ttl"`
	Created time.Time `json:"created"`
}

// Expires is when the notification stops being worth delivering: TTL
// after it was requested, and never past the challenge's expiration.
func (p *PushPayload) Expires() time.Time {
	e := p.Created.Add(time.Duration(p.TTL) * time.Second)
	if p.Expiration.Before(e) {
		return p.Expiration
	}
	return e
}

// pushRow returns the outbox row that notifies f's device of c, with id as
// its ID, or nil when there is nothing to send: platform none (the app
// polls, push-protocol.md §9), no notification token, or a token APNs or
// FCM refused as unregistered (PushFactor.TokenDead).
//
// A service that names no credential for the platform still gets its
// challenge (201; the app can poll), as docs/delivery.md §5.1 recommends,
// and a row with an empty CredentialSid: the sender fails it at once as
// permanent ("no credential", §8), so the operator sees the undelivered
// push in the outbox and the worker's log rather than nowhere.
func pushRow(svc *Service, f *Factor, c *Challenge, id string, ttl int, now time.Time) (*OutboxMessage, error) {
	if f.Push == nil || f.Push.NotificationToken == "" || f.Push.TokenDead {
		return nil, nil
	}
	var cred string
	switch f.Push.NotificationPlatform {
	case PlatformAPN:
		cred = svc.Push.ApnCredentialSid
	case PlatformFCM:
		cred = svc.Push.FcmCredentialSid
	default:
		return nil, nil
	}
	p := PushPayload{
		ChallengeSid: c.Sid, FactorSid: f.Sid, EntitySid: c.EntitySid, Identity: c.Identity,
		Message: c.Details.Message, Platform: f.Push.NotificationPlatform, Token: f.Push.NotificationToken,
		AppID: f.Push.AppID, CredentialSid: Sid(cred), Expiration: c.ExpirationDate, TTL: ttl, Created: now,
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return &OutboxMessage{ID: id, Kind: OutboxPush, Account: svc.AccountSid, Ref: string(c.Sid), Payload: b,
		Status: OutboxPending, NextAttempt: now, Deadline: p.Expires(), DateCreated: now}, nil
}

// initialPushTTL is the TTL of the push sent on create: the Notifications
// default, cut to the challenge's remaining life (docs/delivery.md §5.4).
func initialPushTTL(c *Challenge, now time.Time) int {
	return min(DefaultNotifyTTL, int(c.ExpirationDate.Sub(now)/time.Second))
}
