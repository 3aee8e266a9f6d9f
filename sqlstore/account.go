package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

// FindAccount returns the account with the given SID, or ENotFound.
func (s *store) FindAccount(ctx context.Context, sid verify.Sid) (*verify.Account, error) {
	a := &verify.Account{Sid: sid}
	var created int64
	err := s.queryRow(ctx, `SELECT token_hash, date_created FROM accounts WHERE sid = ?`,
		string(sid)).Scan(&a.TokenHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verify.Errorf(verify.ENotFound, "Account %s was not found", sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find account %s: %w", sid, err)
	}
	a.DateCreated = fromUnix(created)
	return a, nil
}

// PutAccount creates the account, or replaces the token hash of an existing
// one (rotating its auth token) while keeping its creation date.
func (s *store) PutAccount(ctx context.Context, a *verify.Account) error {
	_, err := s.exec(ctx, `INSERT INTO accounts (sid, token_hash, date_created) VALUES (?, ?, ?)
ON CONFLICT (sid) DO UPDATE SET token_hash = excluded.token_hash`,
		string(a.Sid), a.TokenHash, unix(a.DateCreated))
	if err != nil {
		return fmt.Errorf("sqlstore: put account %s: %w", a.Sid, err)
	}
	return nil
}

// CountAccounts returns how many accounts exist, so that the server can tell
// a fresh installation from one that is set up.
func (s *store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count accounts: %w", err)
	}
	return n, nil
}
