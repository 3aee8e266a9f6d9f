package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

const apiKeyColumns = `sid, account_sid, friendly_name, secret_hash, date_created, date_updated`

func scanAPIKey(sc scanner) (*verify.APIKey, error) {
	k := &verify.APIKey{}
	var sid, account string
	var created, updated int64
	if err := sc.Scan(&sid, &account, &k.FriendlyName, &k.SecretHash, &created, &updated); err != nil {
		return nil, err
	}
	k.Sid, k.AccountSid = verify.Sid(sid), verify.Sid(account)
	k.DateCreated, k.DateUpdated = fromUnix(created), fromUnix(updated)
	return k, nil
}

// CreateAPIKey stores a new key; the account must exist.
func (s *store) CreateAPIKey(ctx context.Context, k *verify.APIKey) error {
	_, err := s.exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		string(k.Sid), string(k.AccountSid), k.FriendlyName, k.SecretHash, unix(k.DateCreated), unix(k.DateUpdated))
	if err != nil {
		if s.d.isForeignKey(err) {
			return verify.Errorf(verify.ENotFound, "Account %s was not found", k.AccountSid)
		}
		return fmt.Errorf("sqlstore: create API key %s: %w", k.Sid, err)
	}
	return nil
}

// FindAPIKey returns the key with the given SID, of whatever account.
func (s *store) FindAPIKey(ctx context.Context, sid verify.Sid) (*verify.APIKey, error) {
	k, err := scanAPIKey(s.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE sid = ?`, string(sid)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verify.Errorf(verify.ENotFound, "Key %s was not found", sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find API key %s: %w", sid, err)
	}
	return k, nil
}

// UpdateAPIKey stores the key's name and update date.
func (s *store) UpdateAPIKey(ctx context.Context, k *verify.APIKey) error {
	ok, err := s.execOne(ctx, `UPDATE api_keys SET friendly_name = ?, date_updated = ? WHERE sid = ? AND account_sid = ?`,
		k.FriendlyName, unix(k.DateUpdated), string(k.Sid), string(k.AccountSid))
	if err != nil {
		return fmt.Errorf("sqlstore: update API key %s: %w", k.Sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "Key %s was not found", k.Sid)
	}
	return nil
}

// DeleteAPIKey deletes the account's key.
func (s *store) DeleteAPIKey(ctx context.Context, account, sid verify.Sid) error {
	ok, err := s.execOne(ctx, `DELETE FROM api_keys WHERE sid = ? AND account_sid = ?`, string(sid), string(account))
	if err != nil {
		return fmt.Errorf("sqlstore: delete API key %s: %w", sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "Key %s was not found", sid)
	}
	return nil
}

// ListAPIKeys pages through the account's keys.
func (s *store) ListAPIKeys(ctx context.Context, account verify.Sid, p verify.Page) ([]*verify.APIKey, bool, error) {
	items, more, err := list(ctx, s, `SELECT `+apiKeyColumns+` FROM api_keys`,
		[]string{"account_sid = ?"}, []any{string(account)}, p, scanAPIKey)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list API keys of %s: %w", account, err)
	}
	return items, more, nil
}
