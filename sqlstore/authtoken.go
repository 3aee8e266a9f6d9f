package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

// Sealed auth tokens (migration 0008). Login compares hashes; the sealed
// copies exist only so that verifyd can sign its webhooks with the primary
// token (X-Twilio-Signature). They are sealed like TOTP secrets, under the
// ring's primary key, re-sealed by a key rotation (reseal.go), and never
// leave the store except through SigningToken.
//
// Invariant: a sealed token is NULL or opens to the token whose hash is in
// the same row's hash column of the same role. Every write that changes a
// hash clears or replaces the sealed value in the same statement, and
// SealToken writes only where the hash still matches the token it seals.

// tokenColumn is the sealed column of a role, and tokenHashColumn the hash
// it must match.
func tokenColumn(role verify.TokenRole) (sealed, hash string) {
	if role == verify.TokenSecondary {
		return "sealed_secondary_token", "secondary_token_hash"
	}
	return "sealed_token", "token_hash"
}

// tokenAD is the identity a sealed token is bound to, the "SID" of
// keyring.seal and open: the account SID, a NUL (which no SID holds, so no
// factor SID can be confused with it) and the column's purpose. A sealed
// primary copied into another account's row, or into the secondary column
// (where promotion or a stale copy could make it the signing key), does
// not open.
func tokenAD(account verify.Sid, role verify.TokenRole) verify.Sid {
	purpose := "auth token primary"
	if role == verify.TokenSecondary {
		purpose = "auth token secondary"
	}
	return account + "\x00" + verify.Sid(purpose)
}

// SealToken stores token sealed in the column of role, if that column is
// empty and the row's hash for role is still HashToken(token); it reports
// whether it wrote. The condition makes it one conditional UPDATE, safe to
// race: of a burst of logins one seals and the others change nothing, and
// a token rotated meanwhile is never sealed in its successor's place.
func (s *store) SealToken(ctx context.Context, account verify.Sid, role verify.TokenRole, token string) (bool, error) {
	sealed, err := s.seal(tokenAD(account, role), []byte(token))
	if err != nil {
		return false, fmt.Errorf("sqlstore: seal token of %s: %w", account, err)
	}
	col, hash := tokenColumn(role)
	ok, err := s.execOne(ctx, `UPDATE accounts SET `+col+` = ? WHERE sid = ? AND `+hash+` = ? AND `+col+` IS NULL`,
		sealed, string(account), verify.HashToken(token))
	if err != nil {
		return false, fmt.Errorf("sqlstore: seal token of %s: %w", account, err)
	}
	return ok, nil
}

// SigningToken opens the account's sealed primary token. ENotFound if the
// account does not exist; an EInternal error wrapping
// verify.ErrNoSigningToken if its token is not kept sealed yet.
func (s *store) SigningToken(ctx context.Context, account verify.Sid) (string, error) {
	var sealed []byte
	err := s.queryRow(ctx, `SELECT sealed_token FROM accounts WHERE sid = ?`, string(account)).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", accountNotFound(account)
	}
	if err != nil {
		return "", fmt.Errorf("sqlstore: signing token of %s: %w", account, err)
	}
	if sealed == nil {
		return "", &verify.Error{Code: verify.EInternal, Message: "Internal server error",
			Err: fmt.Errorf("account %s: %w", account, verify.ErrNoSigningToken)}
	}
	plain, err := s.unseal(tokenAD(account, verify.TokenPrimary), sealed)
	if err != nil {
		return "", fmt.Errorf("sqlstore: signing token of %s: %w", account, err)
	}
	return string(plain), nil
}

// resealAsPrimary reads the account's sealed secondary token and seals it
// again as a primary: nil if there is none. PromoteSecondaryToken calls it
// inside its transaction, after reading (and locking) the row.
func (s *store) resealAsPrimary(ctx context.Context, account verify.Sid) ([]byte, error) {
	var sealed []byte
	if err := s.queryRow(ctx, `SELECT sealed_secondary_token FROM accounts WHERE sid = ?`, string(account)).Scan(&sealed); err != nil {
		return nil, err
	}
	if sealed == nil {
		return nil, nil
	}
	plain, err := s.unseal(tokenAD(account, verify.TokenSecondary), sealed)
	if err != nil {
		return nil, fmt.Errorf("open the sealed secondary token: %w", err)
	}
	return s.seal(tokenAD(account, verify.TokenPrimary), plain)
}
