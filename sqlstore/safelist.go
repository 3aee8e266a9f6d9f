package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

func safeNumberNotFound(number string) error {
	return verify.Errorf(verify.ENotFound, "The requested resource /SafeList/Numbers/%s was not found", number)
}

// AddSafeNumber inserts s; the primary key refuses a number listed twice.
func (s *store) AddSafeNumber(ctx context.Context, n *verify.SafeNumber) error {
	_, err := s.exec(ctx, `INSERT INTO safe_numbers (account_sid, phone_number, sid, date_created) VALUES (?, ?, ?, ?)`,
		string(n.AccountSid), n.PhoneNumber, string(n.Sid), unix(n.DateCreated))
	if s.d.isUnique(err) {
		return &verify.Error{Code: verify.ESafeListed, Message: "Phone number " + n.PhoneNumber + " is already in the SafeList", Err: err}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: add safe number: %w", err)
	}
	return nil
}

// FindSafeNumber returns the account's entry of number.
func (s *store) FindSafeNumber(ctx context.Context, account verify.Sid, number string) (*verify.SafeNumber, error) {
	n := &verify.SafeNumber{AccountSid: account, PhoneNumber: number}
	var sid string
	var created int64
	err := s.queryRow(ctx, `SELECT sid, date_created FROM safe_numbers WHERE account_sid = ? AND phone_number = ?`,
		string(account), number).Scan(&sid, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, safeNumberNotFound(number)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find safe number: %w", err)
	}
	n.Sid, n.DateCreated = verify.Sid(sid), fromUnix(created)
	return n, nil
}

// RemoveSafeNumber deletes the account's entry of number.
func (s *store) RemoveSafeNumber(ctx context.Context, account verify.Sid, number string) error {
	ok, err := s.execOne(ctx, `DELETE FROM safe_numbers WHERE account_sid = ? AND phone_number = ?`, string(account), number)
	if err != nil {
		return fmt.Errorf("sqlstore: remove safe number: %w", err)
	}
	if !ok {
		return safeNumberNotFound(number)
	}
	return nil
}
