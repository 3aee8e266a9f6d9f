package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// attemptView is an attempt with what its verification says of it, named
// as a subquery so that the keyset pager's date_created and sid are the
// attempt's.
const attemptView = `SELECT * FROM (SELECT a.sid, a.verification_sid, a.account_sid, a.service_sid, a.channel, a.to_addr,
a.country, a.locale, a.tags, a.message_status, a.error_code, a.price, a.price_unit, a.converted, a.date_created,
a.date_updated, v.code_length, v.status AS verification_status, v.expires_at
FROM verification_attempts a JOIN verifications v ON v.sid = a.verification_sid) x`

func scanAttemptView(sc scanner) (*verify.Attempt, error) {
	a := &verify.Attempt{}
	var status string
	var expires int64
	if err := scanAttemptInto(sc, &a.SendAttempt, &a.CodeLength, &status, &expires); err != nil {
		return nil, err
	}
	a.VerificationStatus, a.ExpiresAt = verify.VerificationStatus(status), fromUnix(expires)
	return a, nil
}

// attemptWhere turns f into conditions on the attempts' columns.
func attemptWhere(account verify.Sid, f verify.AttemptFilter) ([]string, []any) {
	where, args := []string{"account_sid = ?"}, []any{string(account)}
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.After != nil {
		add("date_created >= ?", unix(*f.After))
	}
	if f.Before != nil {
		add("date_created <= ?", unix(*f.Before))
	}
	if f.To != "" {
		add("to_addr = ?", f.To)
	}
	if f.Prefix != "" {
		add("to_addr LIKE ?", f.Prefix+"%") // "+" and digits only: nothing to escape
	}
	if f.Country != "" {
		add("country = ?", f.Country)
	}
	if f.Channel != "" {
		add("channel = ?", f.Channel)
	}
	if f.Service != "" {
		add("service_sid = ?", string(f.Service))
	}
	if f.Verification != "" {
		add("verification_sid = ?", string(f.Verification))
	}
	if f.Converted != nil {
		add("converted = ?", boolInt(*f.Converted))
	}
	return where, args
}

// ListAttempts pages through the account's attempts matching f.
func (s *store) ListAttempts(ctx context.Context, account verify.Sid, f verify.AttemptFilter, p verify.Page) ([]*verify.Attempt, bool, error) {
	where, args := attemptWhere(account, f)
	items, more, err := list(ctx, s, attemptView, where, args, p, scanAttemptView)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list attempts of %s: %w", account, err)
	}
	return items, more, nil
}

// FindAttempt returns the account's attempt.
func (s *store) FindAttempt(ctx context.Context, account, sid verify.Sid) (*verify.Attempt, error) {
	a, err := scanAttemptView(s.queryRow(ctx, attemptView+` WHERE sid = ? AND account_sid = ?`, string(sid), string(account)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verify.Errorf(verify.ENotFound, "The requested resource /Attempts/%s was not found", sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find attempt %s: %w", sid, err)
	}
	return a, nil
}

// SummarizeAttempts counts in one aggregate over the account's index.
func (s *store) SummarizeAttempts(ctx context.Context, account verify.Sid, f verify.AttemptFilter) (verify.AttemptSummary, error) {
	where, args := attemptWhere(account, f)
	var sum verify.AttemptSummary
	err := s.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(converted), 0) FROM verification_attempts WHERE `+
		strings.Join(where, " AND "), args...).Scan(&sum.Total, &sum.Converted)
	if err != nil {
		return sum, fmt.Errorf("sqlstore: summarize attempts of %s: %w", account, err)
	}
	return sum, nil
}

// PruneVerifications deletes verifications released from the live index
// (approved, canceled, expired) with an attempt older than before; their
// attempts go with them (ON DELETE CASCADE), so a re-send made within the
// verification's short life goes with its first send. It finds them
// through the attempts' (account_sid, date_created) index, account by
// account, and skips live verifications in the subquery: were they left
// to the outer query, old attempts of live ones could fill every batch
// (a retention shorter than a code's life) and nothing would be pruned.
// limit counts attempts, so a batch with re-sends deletes fewer
// verifications than limit; DISTINCT would count verifications, but makes
// PostgreSQL walk the attempts in verification order instead of the
// account index.
func (s *store) PruneVerifications(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM verifications WHERE sid IN (
SELECT a.verification_sid FROM verification_attempts a JOIN verifications v ON v.sid = a.verification_sid
WHERE a.account_sid IN (SELECT sid FROM accounts) AND a.date_created < ? AND v.live_key IS NULL LIMIT ?)`, unix(before), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: prune verifications: %w", err)
	}
	return n, nil
}
