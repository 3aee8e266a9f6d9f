package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

// accountColumns reads whether each token is kept sealed, never the sealed
// bytes: only SigningToken and PromoteSecondaryToken read those.
const accountColumns = `sid, token_hash, secondary_token_hash, secondary_token_date, date_created,
	sealed_token IS NOT NULL, sealed_secondary_token IS NOT NULL`

func scanAccount(sc scanner) (*verify.Account, error) {
	a := &verify.Account{}
	var sid string
	var secondary sql.NullInt64
	var created int64
	if err := sc.Scan(&sid, &a.TokenHash, &a.SecondaryHash, &secondary, &created, &a.TokenSealed, &a.SecondarySealed); err != nil {
		return nil, err
	}
	a.Sid, a.DateCreated = verify.Sid(sid), fromUnix(created)
	if secondary.Valid {
		a.SecondaryCreated = fromUnix(secondary.Int64)
	}
	return a, nil
}

func accountNotFound(sid verify.Sid) error {
	return verify.Errorf(verify.ENotFound, "Account %s was not found", sid)
}

// FindAccount returns the account with the given SID, or ENotFound.
func (s *store) FindAccount(ctx context.Context, sid verify.Sid) (*verify.Account, error) {
	a, err := scanAccount(s.queryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE sid = ?`, string(sid)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accountNotFound(sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find account %s: %w", sid, err)
	}
	return a, nil
}

// PutAccount creates the account, or replaces its primary token hash (and
// drops the secondary token) when a.TokenHash differs from the hash the
// last PutAccount set, kept in configured_token_hash; the creation date of
// an existing account is kept. It seals nothing (it has only the hash) and
// clears both sealed tokens when it replaces the hashes, so that a sealed
// token always matches its hash; the caller that has the token then seals
// it with SealToken. The comparison is in the upsert itself, so
// nodes starting together apply a new configuration once, atomically.
func (s *store) PutAccount(ctx context.Context, a *verify.Account) error {
	_, err := s.exec(ctx, `INSERT INTO accounts (sid, token_hash, configured_token_hash, date_created) VALUES (?, ?, ?, ?)
ON CONFLICT (sid) DO UPDATE SET token_hash = excluded.token_hash, configured_token_hash = excluded.configured_token_hash,
	secondary_token_hash = NULL, secondary_token_date = NULL, sealed_token = NULL, sealed_secondary_token = NULL
WHERE accounts.configured_token_hash IS NULL OR accounts.configured_token_hash <> excluded.configured_token_hash`,
		string(a.Sid), a.TokenHash, a.TokenHash, unix(a.DateCreated))
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

// ListAccounts pages through every account in (date_created, sid) order.
func (s *store) ListAccounts(ctx context.Context, p verify.Page) ([]*verify.Account, bool, error) {
	items, more, err := list(ctx, s, `SELECT `+accountColumns+` FROM accounts`, nil, nil, p, scanAccount)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list accounts: %w", err)
	}
	return items, more, nil
}

// DeleteAccount deletes the account row; the foreign keys cascade to its
// services, API keys and push credentials, and from the services to their
// entities, factors, challenges, notifications and access tokens
// (migrations 0001, 0005 and 0007). The outbox has no foreign key (a
// delivery outlives what it is about), so its rows go by account_sid
// (migration 0020) in the same transaction: what is still pending for the
// account could not be signed or sent any more.
// Every table that holds an account's rows goes with it, which the store
// suite's DeleteAccount test checks table by table.
func (s *store) DeleteAccount(ctx context.Context, sid verify.Sid) error {
	var ok bool
	err := s.atomic(ctx, func(t *store) error {
		var err error
		if ok, err = t.execOne(ctx, `DELETE FROM accounts WHERE sid = ?`, string(sid)); err != nil || !ok {
			return err
		}
		_, err = t.exec(ctx, `DELETE FROM outbox WHERE account_sid = ?`, string(sid))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete account %s: %w", sid, err)
	}
	if !ok {
		return accountNotFound(sid)
	}
	return nil
}

// SetSecondaryToken stores the secondary token hash of the account,
// replacing the one it had, and clears the sealed secondary, which was the
// old token's; the caller seals the new one with SealToken.
func (s *store) SetSecondaryToken(ctx context.Context, account verify.Sid, hash []byte, now time.Time) error {
	ok, err := s.execOne(ctx, `UPDATE accounts SET secondary_token_hash = ?, secondary_token_date = ?, sealed_secondary_token = NULL
WHERE sid = ?`,
		hash, unix(now), string(account))
	if err != nil {
		return fmt.Errorf("sqlstore: set secondary token of %s: %w", account, err)
	}
	if !ok {
		return accountNotFound(account)
	}
	return nil
}

func noSecondary(account verify.Sid) error {
	return verify.Errorf(verify.ENotFound, "Account %s has no secondary auth token", account)
}

// DeleteSecondaryToken clears the secondary token, its hash and its sealed
// value, if there is one.
func (s *store) DeleteSecondaryToken(ctx context.Context, account verify.Sid) error {
	ok, err := s.execOne(ctx, `UPDATE accounts SET secondary_token_hash = NULL, secondary_token_date = NULL, sealed_secondary_token = NULL
WHERE sid = ? AND secondary_token_hash IS NOT NULL`, string(account))
	if err != nil {
		return fmt.Errorf("sqlstore: delete secondary token of %s: %w", account, err)
	}
	if !ok {
		return noSecondary(account)
	}
	return nil
}

// PromoteSecondaryToken reads the account (locking its row on PostgreSQL)
// and swaps the tokens with an update conditioned on both hashes it read,
// in one transaction: a concurrent promotion, deletion or replacement of
// the secondary makes this one change nothing and report no secondary,
// and no reader ever sees one token moved without the other. The sealed
// secondary becomes the sealed primary in the same update: opened and
// sealed again, since the column is part of its additional data. A
// secondary not kept sealed (created before migration 0008 and not used
// since) leaves the new primary unsealed until its next login.
func (s *store) PromoteSecondaryToken(ctx context.Context, account verify.Sid) (*verify.Account, error) {
	var before *verify.Account
	err := s.atomic(ctx, func(t *store) error {
		a, err := scanAccount(t.queryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE sid = ?`+t.lockRow(), string(account)))
		if errors.Is(err, sql.ErrNoRows) {
			return accountNotFound(account)
		}
		if err != nil {
			return err
		}
		if a.SecondaryHash == nil {
			return noSecondary(account)
		}
		primary, err := t.resealAsPrimary(ctx, account)
		if err != nil {
			return err
		}
		ok, err := t.execOne(ctx, `UPDATE accounts SET token_hash = secondary_token_hash, sealed_token = ?,
	secondary_token_hash = NULL, secondary_token_date = NULL, sealed_secondary_token = NULL
WHERE sid = ? AND token_hash = ? AND secondary_token_hash = ?`, primary, string(account), a.TokenHash, a.SecondaryHash)
		if err != nil {
			return err
		}
		if !ok {
			return noSecondary(account)
		}
		before = a
		return nil
	})
	if err != nil {
		if verify.IsCode(err, verify.ENotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("sqlstore: promote secondary token of %s: %w", account, err)
	}
	return before, nil
}
