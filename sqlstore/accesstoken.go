package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

const accessTokenColumns = `sid, account_sid, service_sid, identity, factor_type,
factor_friendly_name, ttl, date_created, date_used`

// CreateAccessToken inserts the token. Token itself is not stored: the
// domain derives it from the SID and the server key, so a copy of the
// database holds no usable enrollment credential.
func (s *store) CreateAccessToken(ctx context.Context, t *verify.AccessToken) error {
	_, err := s.exec(ctx, `INSERT INTO access_tokens (`+accessTokenColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(t.Sid), string(t.AccountSid), string(t.ServiceSid), t.Identity,
		string(t.FactorType), t.FactorFriendlyName, t.TTL, unix(t.DateCreated), unixPtr(t.DateUsed))
	if err != nil {
		return fmt.Errorf("sqlstore: create access token %s: %w", t.Sid, err)
	}
	return nil
}

// FindAccessToken returns the service's token with Token left empty, or
// ENotFound, also when it belongs to another service.
func (s *store) FindAccessToken(ctx context.Context, service, sid verify.Sid) (*verify.AccessToken, error) {
	t := &verify.AccessToken{}
	var tsid, account, svc, typ string
	var created int64
	var used sql.NullInt64
	err := s.queryRow(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens
WHERE sid = ? AND service_sid = ?`, string(sid), string(service)).Scan(
		&tsid, &account, &svc, &t.Identity, &typ, &t.FactorFriendlyName, &t.TTL, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verify.Errorf(verify.ENotFound, "Access token %s was not found", sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find access token %s: %w", sid, err)
	}
	t.Sid, t.AccountSid, t.ServiceSid = verify.Sid(tsid), verify.Sid(account), verify.Sid(svc)
	t.FactorType = verify.FactorType(typ)
	t.DateCreated, t.DateUsed = fromUnix(created), fromUnixPtr(used)
	return t, nil
}

// UseAccessToken spends the token at now in one compare-and-swap, so one
// token enrolls at most one factor. ENotFound if it does not exist,
// ENotAuthorized if it was spent before.
func (s *store) UseAccessToken(ctx context.Context, sid verify.Sid, now time.Time) error {
	ok, err := s.execOne(ctx, `UPDATE access_tokens SET date_used = ? WHERE sid = ? AND date_used IS NULL`,
		unix(now), string(sid))
	if err != nil {
		return fmt.Errorf("sqlstore: use access token %s: %w", sid, err)
	}
	if ok {
		return nil
	}
	var n int
	err = s.queryRowW(ctx, `SELECT COUNT(*) FROM access_tokens WHERE sid = ?`, string(sid)).Scan(&n)
	if err != nil {
		return fmt.Errorf("sqlstore: use access token %s: %w", sid, err)
	}
	if n == 0 {
		return verify.Errorf(verify.ENotFound, "Access token %s was not found", sid)
	}
	return verify.Errorf(verify.ENotAuthorized, "Access token was already used")
}
