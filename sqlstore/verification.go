package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verifyd/verify"
)

const verificationColumns = `sid, account_sid, service_sid, to_addr, live_key, channel, status, amount, payee,
code_hash, code_length, custom_code, sends, checks, expires_at, date_created, date_updated`

func scanVerification(sc scanner) (*verify.Verification, error) {
	v := &verify.Verification{}
	var sid, account, service, status string
	var key, amount, payee sql.NullString
	var custom int
	var expires, created, updated int64
	if err := sc.Scan(&sid, &account, &service, &v.To, &key, &v.Channel, &status, &amount, &payee,
		&v.CodeHash, &v.CodeLength, &custom, &v.Sends, &v.Checks, &expires, &created, &updated); err != nil {
		return nil, err
	}
	v.Sid, v.AccountSid, v.ServiceSid = verify.Sid(sid), verify.Sid(account), verify.Sid(service)
	v.Key, v.Status, v.CustomCode = key.String, verify.VerificationStatus(status), custom != 0
	if amount.Valid {
		v.Amount = &amount.String
	}
	if payee.Valid {
		v.Payee = &payee.String
	}
	v.ExpiresAt, v.DateCreated, v.DateUpdated = fromUnix(expires), fromUnix(created), fromUnix(updated)
	return v, nil
}

const attemptColumns = `sid, verification_sid, account_sid, service_sid, channel, to_addr, country, locale, tags,
message_status, error_code, price, price_unit, converted, date_created, date_updated`

func scanAttempt(sc scanner) (*verify.SendAttempt, error) {
	a := &verify.SendAttempt{}
	return a, scanAttemptInto(sc, a)
}

// scanAttemptInto scans attemptColumns into a, then extra columns.
func scanAttemptInto(sc scanner, a *verify.SendAttempt, extra ...any) error {
	var sid, ver, account, service string
	var tags sql.NullString
	var converted int
	var created, updated int64
	dst := append([]any{&sid, &ver, &account, &service, &a.Channel, &a.To, &a.Country, &a.Locale, &tags,
		&a.MessageStatus, &a.ErrorCode, &a.Price, &a.PriceUnit, &converted, &created, &updated}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return err
	}
	var err error
	if a.Tags, err = unmarshalMap(tags); err != nil {
		return fmt.Errorf("tags of %s: %w", sid, err)
	}
	a.Sid, a.VerificationSid, a.AccountSid, a.ServiceSid = verify.Sid(sid), verify.Sid(ver), verify.Sid(account), verify.Sid(service)
	a.Converted, a.DateCreated, a.DateUpdated = converted != 0, fromUnix(created), fromUnix(updated)
	return nil
}

func (s *store) insertAttempt(ctx context.Context, a *verify.SendAttempt) error {
	tags, err := marshalMap(a.Tags)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO verification_attempts (`+attemptColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(a.Sid), string(a.VerificationSid), string(a.AccountSid), string(a.ServiceSid), a.Channel, a.To,
		a.Country, a.Locale, tags, a.MessageStatus, a.ErrorCode, a.Price, a.PriceUnit, boolInt(a.Converted),
		unix(a.DateCreated), unix(a.DateUpdated))
	return err
}

// CreateVerification inserts the verification and its first attempt in
// one transaction. The live_key index turns a create that lost a race
// for the same To into EConcurrent (60212), Twilio's answer to concurrent
// requests for one number.
func (s *store) CreateVerification(ctx context.Context, v *verify.Verification) error {
	err := s.atomic(ctx, func(t *store) error {
		_, err := t.exec(ctx, `INSERT INTO verifications (`+verificationColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			string(v.Sid), string(v.AccountSid), string(v.ServiceSid), v.To, v.Key, v.Channel, string(v.Status),
			v.Amount, v.Payee, v.CodeHash, v.CodeLength, boolInt(v.CustomCode), v.Sends, v.Checks,
			unix(v.ExpiresAt), unix(v.DateCreated), unix(v.DateUpdated))
		if err != nil {
			if t.d.isUnique(err) {
				return &verify.Error{Code: verify.EConcurrent, Message: "Too many concurrent requests for phone number " + v.To, Err: err}
			}
			return err
		}
		for _, a := range v.Attempts {
			if err := t.insertAttempt(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.As(err, new(*verify.Error)) {
		err = fmt.Errorf("sqlstore: create verification %s: %w", v.Sid, err)
	}
	return err
}

// ListSendAttempts reads a verification's attempts, oldest first.
func (s *store) ListSendAttempts(ctx context.Context, verification verify.Sid) ([]*verify.SendAttempt, error) {
	rows, err := s.query(ctx, `SELECT `+attemptColumns+` FROM verification_attempts
WHERE verification_sid = ? ORDER BY date_created, sid`, string(verification))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list attempts of %s: %w", verification, err)
	}
	defer rows.Close()
	var out []*verify.SendAttempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list attempts of %s: %w", verification, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *store) findVerification(ctx context.Context, what, query string, args ...any) (*verify.Verification, error) {
	v, err := scanVerification(s.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verify.Errorf(verify.ENotFound, "Verification %s was not found", what)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find verification: %w", err)
	}
	return v, nil
}

// FindVerification returns the service's verification, any status.
func (s *store) FindVerification(ctx context.Context, service, sid verify.Sid) (*verify.Verification, error) {
	return s.findVerification(ctx, string(sid), `SELECT `+verificationColumns+` FROM verifications
WHERE sid = ? AND service_sid = ?`, string(sid), string(service))
}

// FindLiveVerification returns the live verification of a key, locked
// inside a transaction: a re-send and a create for the same To on two
// nodes then run one after the other.
func (s *store) FindLiveVerification(ctx context.Context, service verify.Sid, key string) (*verify.Verification, error) {
	return s.findVerification(ctx, "for this To", `SELECT `+verificationColumns+` FROM verifications
WHERE service_sid = ? AND live_key = ?`+s.lockRow(), string(service), key)
}

// FindVerificationTo returns the newest live verification sent to to.
func (s *store) FindVerificationTo(ctx context.Context, service verify.Sid, to string) (*verify.Verification, error) {
	return s.findVerification(ctx, "for this To", `SELECT `+verificationColumns+` FROM verifications
WHERE service_sid = ? AND to_addr = ? AND live_key IS NOT NULL ORDER BY date_created DESC, sid DESC LIMIT 1`,
		string(service), to)
}

// ResendVerification counts a send with one conditional UPDATE, then
// stores the attempt.
func (s *store) ResendVerification(ctx context.Context, sid verify.Sid, a *verify.SendAttempt, hash []byte, max int, now time.Time) (int, error) {
	var n int
	err := s.atomic(ctx, func(t *store) error {
		err := t.queryRowW(ctx, `UPDATE verifications SET sends = sends + 1, channel = ?, date_updated = ?,
code_hash = COALESCE(?, code_hash)
WHERE sid = ? AND status = ? AND expires_at > ? AND sends < ?
RETURNING sends`, a.Channel, unix(now), hash, string(sid), string(verify.VerificationPending), unix(now), max).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			var sends int
			var status string
			var expires int64
			err := t.queryRowW(ctx, `SELECT sends, status, expires_at FROM verifications WHERE sid = ?`, string(sid)).
				Scan(&sends, &status, &expires)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			case status == string(verify.VerificationPending) && unix(now) < expires && sends >= max:
				return verify.Errorf(verify.EMaxSends, "Max send attempts reached")
			}
			return verify.Errorf(verify.ENotFound, "Verification %s is not pending", sid)
		}
		if err != nil {
			return err
		}
		return t.insertAttempt(ctx, a)
	})
	if err != nil && !errors.As(err, new(*verify.Error)) {
		err = fmt.Errorf("sqlstore: resend verification %s: %w", sid, err)
	}
	return n, err
}

// TakeVerificationCheck reserves a check with one conditional UPDATE, as
// TakeChallengeAttempt does: on PostgreSQL a concurrent one waits for the
// row lock and re-checks the condition, on SQLite writes are serial.
func (s *store) TakeVerificationCheck(ctx context.Context, sid verify.Sid, max int, now time.Time) (int, error) {
	var n int
	err := s.atomic(ctx, func(t *store) error {
		err := t.queryRowW(ctx, `UPDATE verifications SET checks = checks + 1
WHERE sid = ? AND status = ? AND expires_at > ? AND checks < ?
RETURNING checks`, string(sid), string(verify.VerificationPending), unix(now), max).Scan(&n)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var checks int
		var status string
		var expires int64
		err = t.queryRowW(ctx, `SELECT checks, status, expires_at FROM verifications WHERE sid = ?`, string(sid)).
			Scan(&checks, &status, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case unix(now) < expires && (status == string(verify.VerificationMaxAttempts) ||
			status == string(verify.VerificationPending) && checks >= max):
			return verify.Errorf(verify.EMaxChecks, "Max check attempts reached")
		}
		return verify.Errorf(verify.ENotFound, "Verification %s is not pending", sid)
	})
	if err != nil && !errors.As(err, new(*verify.Error)) {
		err = fmt.Errorf("sqlstore: take a check of verification %s: %w", sid, err)
	}
	return n, err
}

// SetVerificationStatus moves a pending verification on, and with
// approved marks its attempts converted, in one transaction.
func (s *store) SetVerificationStatus(ctx context.Context, sid verify.Sid, status verify.VerificationStatus, now time.Time) error {
	err := s.atomic(ctx, func(t *store) error {
		// max_attempts_reached keeps the key until expiry: a create for
		// the To meanwhile answers 60202.
		release := status != verify.VerificationMaxAttempts
		ok, err := t.execOne(ctx, `UPDATE verifications SET status = ?, date_updated = ?,
live_key = CASE WHEN ? = 1 THEN NULL ELSE live_key END
WHERE sid = ? AND status = ? AND expires_at > ?`,
			string(status), unix(now), boolInt(release), string(sid), string(verify.VerificationPending), unix(now))
		if err != nil {
			return err
		}
		if !ok {
			return verify.Errorf(verify.ENotFound, "Verification %s is not pending", sid)
		}
		if status == verify.VerificationApproved {
			_, err = t.exec(ctx, `UPDATE verification_attempts SET converted = 1, date_updated = ? WHERE verification_sid = ?`,
				unix(now), string(sid))
		}
		return err
	})
	if err != nil && !errors.As(err, new(*verify.Error)) {
		err = fmt.Errorf("sqlstore: set status of verification %s: %w", sid, err)
	}
	return err
}

// ReleaseVerification frees the key of a live verification past expiry.
func (s *store) ReleaseVerification(ctx context.Context, sid verify.Sid, now time.Time) (bool, error) {
	ok, err := s.execOne(ctx, `UPDATE verifications SET status = ?, live_key = NULL, date_updated = ?
WHERE sid = ? AND live_key IS NOT NULL AND expires_at <= ?`,
		string(verify.VerificationExpired), unix(now), string(sid), unix(now))
	if err != nil {
		return false, fmt.Errorf("sqlstore: release verification %s: %w", sid, err)
	}
	return ok, nil
}

// ExpireVerifications releases live verifications past expiry, picked by
// the partial expiry index.
func (s *store) ExpireVerifications(ctx context.Context, now time.Time, limit int) (int, error) {
	res, err := s.exec(ctx, `UPDATE verifications SET status = ?, live_key = NULL, date_updated = ?
WHERE sid IN (SELECT sid FROM verifications WHERE live_key IS NOT NULL AND expires_at <= ? LIMIT ?)
AND live_key IS NOT NULL AND expires_at <= ?`,
		string(verify.VerificationExpired), unix(now), unix(now), limit, unix(now))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: expire verifications: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// SettleSendAttempt records a sender's report on an attempt.
func (s *store) SettleSendAttempt(ctx context.Context, sid verify.Sid, r verify.SendResult) error {
	ok, err := s.execOne(ctx, `UPDATE verification_attempts SET message_status = ?, error_code = ?,
price = ?, price_unit = ?, date_updated = ? WHERE sid = ?`,
		r.MessageStatus, r.ErrorCode, r.Price, r.PriceUnit, unix(r.Now), string(sid))
	if err != nil {
		return fmt.Errorf("sqlstore: settle send attempt %s: %w", sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "Send attempt %s was not found", sid)
	}
	return nil
}
