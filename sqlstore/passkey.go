package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

// marshalPasskey encodes a passkeys factor's part as its column values:
// the JSON document and the credential ID (nil until one is registered).
// encoding/json writes a struct's fields in a fixed order, so the same
// value always gives the same text: SwapPasskey compares on it.
func marshalPasskey(p *verify.PasskeyFactor) (doc string, credentialID any, err error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", nil, err
	}
	if p.Credential != nil {
		credentialID = base64.RawURLEncoding.EncodeToString(p.Credential.ID)
	}
	return string(b), credentialID, nil
}

func unmarshalPasskey(doc string) (*verify.PasskeyFactor, error) {
	p := &verify.PasskeyFactor{}
	if doc == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(doc), p); err != nil {
		return nil, err
	}
	p.Stored = doc
	return p, nil
}

// FindServiceFactor returns the service's factor, whatever its entity.
func (s *store) FindServiceFactor(ctx context.Context, service, sid verify.Sid) (*verify.Factor, error) {
	return s.findFactor(ctx, string(sid), func() error { return factorNotFound(sid) },
		`sid = ? AND service_sid = ?`, string(sid), string(service))
}

// FindPasskeyFactor returns the service's passkeys factor whose credential
// has the given ID: one lookup in factors_passkey_credential.
func (s *store) FindPasskeyFactor(ctx context.Context, service verify.Sid, credentialID []byte) (*verify.Factor, error) {
	return s.findFactor(ctx, "by credential",
		func() error { return verify.Errorf(verify.ENotFound, "No passkey with this credential ID was found") },
		`service_sid = ? AND passkey_credential_id = ?`,
		string(service), base64.RawURLEncoding.EncodeToString(credentialID))
}

// RegisterPasskey stores f.Passkey with its credential and moves the
// factor from unverified to verified, in one conditional update; of two
// registrations racing, one verifies and the other gets EFactorState. A
// credential ID registered before in the service is EBindingExists.
func (s *store) RegisterPasskey(ctx context.Context, f *verify.Factor, now time.Time) error {
	doc, id, err := marshalPasskey(f.Passkey)
	if err != nil {
		return fmt.Errorf("sqlstore: register passkey of %s: %w", f.Sid, err)
	}
	ok, err := s.execOne(ctx, `UPDATE factors SET status = ?, failed_attempts = 0, passkey = ?,
passkey_credential_id = ?, date_updated = ?
WHERE sid = ? AND status = ? AND factor_type = ?`,
		string(verify.FactorVerified), doc, id, unix(now),
		string(f.Sid), string(verify.FactorUnverified), string(verify.FactorPasskeys))
	if s.d.isUnique(err) {
		return verify.Errorf(verify.EBindingExists, "This passkey is registered already")
	}
	if err != nil {
		return fmt.Errorf("sqlstore: register passkey of %s: %w", f.Sid, err)
	}
	if !ok {
		return verify.Errorf(verify.EFactorState, "Factor %s is not unverified any more", f.Sid)
	}
	return nil
}

// SwapPasskey replaces the factor's passkey document old by next if it is
// still old, and reports whether it did: the compare-and-swap that keeps
// the signature counter from going back when assertions race. It compares
// with the text old was read from (Stored), which encoding old again need
// not give back.
func (s *store) SwapPasskey(ctx context.Context, factor verify.Sid, old, next *verify.PasskeyFactor) (bool, error) {
	was := old.Stored
	if was == "" {
		var err error
		if was, _, err = marshalPasskey(old); err != nil {
			return false, fmt.Errorf("sqlstore: swap passkey of %s: %w", factor, err)
		}
	}
	now, _, err := marshalPasskey(next)
	if err != nil {
		return false, fmt.Errorf("sqlstore: swap passkey of %s: %w", factor, err)
	}
	ok, err := s.execOne(ctx, `UPDATE factors SET passkey = ? WHERE sid = ? AND passkey = ?`, now, string(factor), was)
	if err != nil {
		return false, fmt.Errorf("sqlstore: swap passkey of %s: %w", factor, err)
	}
	return ok, nil
}

// FindServiceChallenge returns the service's challenge, whatever its
// entity.
func (s *store) FindServiceChallenge(ctx context.Context, service, sid verify.Sid) (*verify.Challenge, error) {
	return s.findChallenge(ctx, sid, "service_sid", service)
}

// CreatePasskeyLogin stores c, a pending passkeys challenge that names no
// factor (and maybe no entity), in passkey_logins.
func (s *store) CreatePasskeyLogin(ctx context.Context, c *verify.Challenge) error {
	_, err := s.exec(ctx, `INSERT INTO passkey_logins
(sid, account_sid, service_sid, entity_sid, identity, expiration_date, date_created)
VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(c.Sid), string(c.AccountSid), string(c.ServiceSid), nullString(string(c.EntitySid)),
		c.Identity, unix(c.ExpirationDate), unix(c.DateCreated))
	if err != nil {
		return fmt.Errorf("sqlstore: create passkey login %s: %w", c.Sid, err)
	}
	return nil
}

// FindPasskeyLogin returns the service's waiting login as a pending
// passkeys challenge; ENotFound if there is none (approved, expired and
// swept, or never made).
func (s *store) FindPasskeyLogin(ctx context.Context, service, sid verify.Sid) (*verify.Challenge, error) {
	var (
		account, identity string
		entity            sql.NullString
		expires, created  int64
	)
	err := s.queryRow(ctx, `SELECT account_sid, entity_sid, identity, expiration_date, date_created
FROM passkey_logins WHERE sid = ? AND service_sid = ?`, string(sid), string(service)).
		Scan(&account, &entity, &identity, &expires, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verify.Errorf(verify.ENotFound, "Challenge %s was not found", sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find passkey login %s: %w", sid, err)
	}
	return &verify.Challenge{
		Sid: sid, AccountSid: verify.Sid(account), ServiceSid: service,
		EntitySid: verify.Sid(entity.String), Identity: identity, FactorType: verify.FactorPasskeys,
		Status: verify.ChallengePending, RespondedReason: verify.ReasonNone,
		ExpirationDate: fromUnix(expires), DateCreated: fromUnix(created), DateUpdated: fromUnix(created),
	}, nil
}

// ClosePasskeyLogin deletes the login if it has not expired at now, in
// one conditional delete: of two approvals racing, one closes it and the
// other gets EChallengeDone. The caller has refused an expired login
// before (60323); one that expires in between gets EChallengeDone too.
func (s *store) ClosePasskeyLogin(ctx context.Context, sid verify.Sid, now time.Time) error {
	ok, err := s.execOne(ctx, `DELETE FROM passkey_logins WHERE sid = ? AND expiration_date > ?`, string(sid), unix(now))
	if err != nil {
		return fmt.Errorf("sqlstore: close passkey login %s: %w", sid, err)
	}
	if !ok {
		return verify.Errorf(verify.EChallengeDone, "Challenge %s was already responded to or has expired", sid)
	}
	return nil
}
