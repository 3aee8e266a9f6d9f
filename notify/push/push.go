// Package push delivers the push outbox rows (kind verify.OutboxPush): a
// Verify Push challenge's notification to the phone, through APNs
// (notify/apns) or FCM (notify/fcm) with the service's credential.
//
// Sender satisfies notify.Sender. It reads the frozen verify.PushPayload,
// opens the credential named there, keeps one client per credential (an
// APNs connection and provider token, an FCM access token) until the
// credential's content changes, and maps the answer onto the worker's
// outcomes (docs/delivery.md §8):
//
//	delivered                    nil
//	Retry (429, 5xx, no answer)  notify.RetryAfter with the server's delay, or a plain error
//	TokenDead (410, UNREGISTERED) the factor's token marked dead, then notify.Permanent
//	Permanent (bad credential…)  notify.Permanent
//	challenge past expiry        notify.Permanent, nothing sent
//	no credential named          notify.Permanent, nothing sent
//	factor deleted, token dead   notify.Permanent, nothing sent
//	challenge answered, deleted  notify.Permanent, nothing sent
//
// Errors name SIDs, statuses and reasons only: never the device token
// whole, a secret, or the message text (the worker logs and stores them).
package push

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify"
	"github.com/verifyd/verify/notify/apns"
	"github.com/verifyd/verify/notify/fcm"
)

// Store is what the sender needs from persistence.
type Store interface {
	OpenPushCredential(ctx context.Context, sid verify.Sid) (*verify.PushCredential, error)
	FindFactor(ctx context.Context, entity, sid verify.Sid) (*verify.Factor, error)
	FindChallenge(ctx context.Context, entity, sid verify.Sid) (*verify.Challenge, error)
	KillPushToken(ctx context.Context, factor verify.Sid, token string) (bool, error)
}

// Sender sends push rows. Its exported fields are set before the first
// Send and not changed after.
type Sender struct {
	Store Store
	// APNsURL, if set, replaces both Apple hosts (VERIFYD_APNS_URL);
	// otherwise each credential's Sandbox flag picks the host.
	APNsURL string
	// FCMURL is FCM's base URL (VERIFYD_FCM_URL); empty means
	// fcm.DefaultBaseURL. The OAuth token endpoint is the service
	// account's token_uri.
	FCMURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TLS, for tests only, is the TLS configuration of outgoing
	// connections (a fake's CA). Nil in production: the system roots, and
	// SSL_CERT_FILE, decide.
	TLS *tls.Config

	mu      sync.Mutex
	clients map[verify.Sid]*client
}

var _ notify.Sender = (*Sender)(nil)

// client is the APNs or FCM client of one credential, built from the
// content whose fingerprint is fp.
type client struct {
	fp   [sha256.Size]byte
	apns *apns.Client
	fcm  *fcm.Client
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Send delivers one push row.
func (s *Sender) Send(ctx context.Context, m notify.Message) error {
	var p verify.PushPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return notify.Permanent(fmt.Errorf("push %s: bad payload: %w", m.ID, err))
	}
	now := s.now()
	if !now.Before(p.Expiration) {
		return notify.Permanent(fmt.Errorf("push for challenge %s: the challenge expired at %s; nothing sent", p.ChallengeSid, p.Expiration.UTC().Format(time.RFC3339)))
	}
	if p.TTL > 0 && !now.Before(p.Expires()) {
		return notify.Permanent(fmt.Errorf("push for challenge %s: its TTL of %d s ran out; nothing sent", p.ChallengeSid, p.TTL))
	}
	if p.CredentialSid == "" {
		return notify.Permanent(fmt.Errorf("push for challenge %s: service has no %s credential (Push.%sCredentialSid); nothing sent",
			p.ChallengeSid, p.Platform, map[string]string{verify.PlatformAPN: "Apn", verify.PlatformFCM: "Fcm"}[p.Platform]))
	}
	// The payload is frozen, but a row queued before its token died (or
	// its factor was deleted) must not be sent: one read says.
	f, err := s.Store.FindFactor(ctx, p.EntitySid, p.FactorSid)
	if verify.IsCode(err, verify.ENotFound) {
		return notify.Permanent(fmt.Errorf("push for challenge %s: factor %s was deleted; nothing sent", p.ChallengeSid, p.FactorSid))
	}
	if err != nil {
		return fmt.Errorf("push for challenge %s: %w", p.ChallengeSid, err)
	}
	if f.Push != nil && f.Push.TokenDead && f.Push.NotificationToken == p.Token {
		return notify.Permanent(fmt.Errorf("push for challenge %s: factor %s's notification token is dead; nothing sent", p.ChallengeSid, p.FactorSid))
	}
	// A challenge answered (on another device, or through the API) while
	// the row waited must not ring the phone (delivery.md §8 step 1): one
	// read by primary key. The row is dead rather than delivered, so the
	// operator sees nothing was sent; the reason names no secret.
	ch, err := s.Store.FindChallenge(ctx, p.EntitySid, p.ChallengeSid)
	if verify.IsCode(err, verify.ENotFound) {
		return notify.Permanent(fmt.Errorf("push for challenge %s: challenge was deleted; nothing sent", p.ChallengeSid))
	}
	if err != nil {
		return fmt.Errorf("push for challenge %s: %w", p.ChallengeSid, err)
	}
	if ch.Status != verify.ChallengePending {
		return notify.Permanent(fmt.Errorf("push for challenge %s: challenge no longer pending (%s); nothing sent", p.ChallengeSid, ch.Status))
	}
	c, err := s.client(ctx, p.CredentialSid, p.Platform)
	if err != nil {
		return err
	}
	switch p.Platform {
	case verify.PlatformAPN:
		ttl := time.Duration(0)
		if p.TTL > 0 {
			ttl = min(apns.MaxTTL, p.Expires().Sub(now))
		}
		_, err = c.apns.Send(ctx, apns.Notification{DeviceToken: p.Token, Topic: p.AppID, ChallengeSid: string(p.ChallengeSid),
			FactorSid: string(p.FactorSid), Message: p.Message, TTL: ttl, Expiration: p.Expiration})
		return s.outcome(ctx, &p, err, apnsKind(err), apnsRetryAfter(err))
	default:
		_, err = c.fcm.Send(ctx, fcm.Message{Token: p.Token, ChallengeSid: string(p.ChallengeSid),
			FactorSid: string(p.FactorSid), Message: p.Message, Expiration: p.Expires()})
		var fe *fcm.Error
		var after time.Duration
		if errors.As(err, &fe) {
			after = fe.RetryAfter
		}
		kind := map[fcm.Outcome]apns.Kind{fcm.Retry: apns.Retry, fcm.TokenDead: apns.TokenDead, fcm.Permanent: apns.Permanent}[fcm.OutcomeOf(err)]
		return s.outcome(ctx, &p, err, kind, after)
	}
}

func apnsKind(err error) apns.Kind {
	var e *apns.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return apns.Permanent // a local refusal: an invalid notification
}

func apnsRetryAfter(err error) time.Duration {
	var e *apns.Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// outcome maps a send's result onto the worker's, with the same kinds for
// both services. The errors of apns and fcm already redact the token.
func (s *Sender) outcome(ctx context.Context, p *verify.PushPayload, err error, kind apns.Kind, after time.Duration) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("push for challenge %s via %s: %w", p.ChallengeSid, p.CredentialSid, err)
	switch kind {
	case apns.Retry:
		if after > 0 {
			return notify.RetryAfter(err, after)
		}
		return err
	case apns.TokenDead:
		// Only the token that was refused is marked: if the device sent a
		// new one since, the CAS changes nothing and the new one stays live.
		if _, kerr := s.Store.KillPushToken(ctx, p.FactorSid, p.Token); kerr != nil {
			return fmt.Errorf("%w; marking factor %s's token dead failed: %v", err, p.FactorSid, kerr)
		}
		return notify.Permanent(fmt.Errorf("%w; factor %s's notification token marked dead", err, p.FactorSid))
	default:
		return notify.Permanent(err)
	}
}

// client returns the client for the credential, building it on first use
// and again whenever the credential was updated (new key, new service
// account) since.
func (s *Sender) client(ctx context.Context, sid verify.Sid, platform string) (*client, error) {
	cred, err := s.Store.OpenPushCredential(ctx, sid)
	if verify.IsCode(err, verify.ENotFound) {
		return nil, notify.Permanent(fmt.Errorf("push credential %s: not found (deleted?)", sid))
	}
	if err != nil {
		return nil, fmt.Errorf("push credential %s: %w", sid, err)
	}
	if string(cred.Type) != platform {
		return nil, notify.Permanent(fmt.Errorf("push credential %s is of type %s, the factor's platform is %s", sid, cred.Type, platform))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fp := fingerprint(cred)
	if c, ok := s.clients[sid]; ok && c.fp == fp {
		return c, nil
	}
	c := &client{fp: fp}
	switch cred.Type {
	case verify.CredentialAPN:
		cfg := apns.Config{Sandbox: cred.Sandbox, BaseURL: s.APNsURL, Now: s.Now, TLS: s.TLS}
		if cred.TokenMode() {
			if cfg.SigningKey, err = apns.ParseP8([]byte(cred.Secret.PrivateKey)); err == nil {
				cfg.KeyID, cfg.TeamID = cred.KeyID, cred.TeamID
			}
		} else {
			var cert tls.Certificate
			if cert, err = tls.X509KeyPair([]byte(cred.Secret.Certificate), []byte(cred.Secret.PrivateKey)); err == nil {
				cfg.Certificate = &cert
			}
		}
		if err == nil {
			c.apns, err = apns.New(cfg)
		}
	default:
		cfg := fcm.Config{ServiceAccount: []byte(cred.Secret.ServiceAccount), BaseURL: s.FCMURL, Now: s.Now}
		if s.TLS != nil {
			// ForceAttemptHTTP2 because a Transport with its own TLS
			// configuration otherwise speaks HTTP/1.1, and FCM is reached
			// over HTTP/2 in production (http.DefaultTransport).
			cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				TLSClientConfig: s.TLS.Clone(), ForceAttemptHTTP2: true}}
		}
		c.fcm, err = fcm.New(cfg)
	}
	if err != nil {
		// The messages of ParseP8, X509KeyPair and fcm.New name no key
		// material.
		return nil, notify.Permanent(fmt.Errorf("push credential %s: %w", sid, err))
	}
	if old, ok := s.clients[sid]; ok && old.apns != nil {
		old.apns.Close()
	}
	if s.clients == nil {
		s.clients = map[verify.Sid]*client{}
	}
	s.clients[sid] = c
	return c, nil
}

// fingerprint identifies what a client is built from. DateUpdated would
// not do: it has a resolution of one second, so an update in the same
// second as the client was built (a key replaced right after a failed
// send) would leave the old key in use until the next restart.
func fingerprint(c *verify.PushCredential) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range []string{string(c.Type), strconv.FormatBool(c.Sandbox), c.KeyID, c.TeamID,
		c.Secret.Certificate, c.Secret.PrivateKey, c.Secret.ServiceAccount} {
		// Length-prefixed, so that no two different credentials write the
		// same bytes.
		fmt.Fprintf(h, "%d:%s", len(f), f)
	}
	var fp [sha256.Size]byte
	h.Sum(fp[:0])
	return fp
}
