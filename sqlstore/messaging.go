package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

const messagingColumns = `service_sid, country, account_sid, messaging_service_sid, date_created, date_updated`

func scanMessaging(sc scanner) (*verify.MessagingConfiguration, error) {
	m := &verify.MessagingConfiguration{}
	var service, account, mg string
	var created, updated int64
	if err := sc.Scan(&service, &m.Country, &account, &mg, &created, &updated); err != nil {
		return nil, err
	}
	m.ServiceSid, m.AccountSid, m.MessagingServiceSid = verify.Sid(service), verify.Sid(account), verify.Sid(mg)
	m.DateCreated, m.DateUpdated = fromUnix(created), fromUnix(updated)
	return m, nil
}

func messagingNotFound(service verify.Sid, country string) error {
	return verify.Errorf(verify.ENotFound, "The requested resource /Services/%s/MessagingConfigurations/%s was not found", service, country)
}

// CreateMessagingConfiguration inserts m; the primary key refuses a second
// configuration of the same country, also when two creates race.
func (s *store) CreateMessagingConfiguration(ctx context.Context, m *verify.MessagingConfiguration) error {
	_, err := s.exec(ctx, `INSERT INTO messaging_configurations (`+messagingColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		string(m.ServiceSid), m.Country, string(m.AccountSid), string(m.MessagingServiceSid), unix(m.DateCreated), unix(m.DateUpdated))
	if s.d.isUnique(err) {
		return &verify.Error{Code: verify.EMessagingExists,
			Message: "Messaging Configuration for country " + m.Country + " already exists", Err: err}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create messaging configuration %s/%s: %w", m.ServiceSid, m.Country, err)
	}
	return nil
}

// FindMessagingConfiguration returns the service's configuration of country.
func (s *store) FindMessagingConfiguration(ctx context.Context, service verify.Sid, country string) (*verify.MessagingConfiguration, error) {
	m, err := scanMessaging(s.queryRow(ctx, `SELECT `+messagingColumns+` FROM messaging_configurations WHERE service_sid = ? AND country = ?`,
		string(service), country))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, messagingNotFound(service, country)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find messaging configuration %s/%s: %w", service, country, err)
	}
	return m, nil
}

// UpdateMessagingConfiguration stores m's Messaging Service SID.
func (s *store) UpdateMessagingConfiguration(ctx context.Context, m *verify.MessagingConfiguration) error {
	ok, err := s.execOne(ctx, `UPDATE messaging_configurations SET messaging_service_sid = ?, date_updated = ? WHERE service_sid = ? AND country = ?`,
		string(m.MessagingServiceSid), unix(m.DateUpdated), string(m.ServiceSid), m.Country)
	if err != nil {
		return fmt.Errorf("sqlstore: update messaging configuration %s/%s: %w", m.ServiceSid, m.Country, err)
	}
	if !ok {
		return messagingNotFound(m.ServiceSid, m.Country)
	}
	return nil
}

// DeleteMessagingConfiguration deletes the service's configuration of country.
func (s *store) DeleteMessagingConfiguration(ctx context.Context, service verify.Sid, country string) error {
	ok, err := s.execOne(ctx, `DELETE FROM messaging_configurations WHERE service_sid = ? AND country = ?`, string(service), country)
	if err != nil {
		return fmt.Errorf("sqlstore: delete messaging configuration %s/%s: %w", service, country, err)
	}
	if !ok {
		return messagingNotFound(service, country)
	}
	return nil
}

// ListMessagingConfigurations pages through the service's configurations.
// The keyset pager orders by (date_created, sid); the country stands in
// for the SID, named so by a subquery.
func (s *store) ListMessagingConfigurations(ctx context.Context, service verify.Sid, p verify.Page) ([]*verify.MessagingConfiguration, bool, error) {
	items, more, err := list(ctx, s,
		`SELECT service_sid, sid, account_sid, messaging_service_sid, date_created, date_updated FROM (
SELECT service_sid, country AS sid, account_sid, messaging_service_sid, date_created, date_updated FROM messaging_configurations) m`,
		[]string{"service_sid = ?"}, []any{string(service)}, p, scanMessaging)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list messaging configurations of %s: %w", service, err)
	}
	return items, more, nil
}

// MessagingServiceFor returns the Messaging Service SID of an SMS to
// country: its own configuration sorts before all, so the first row wins.
func (s *store) MessagingServiceFor(ctx context.Context, service verify.Sid, country string) (verify.Sid, error) {
	var mg string
	err := s.queryRow(ctx, `SELECT messaging_service_sid FROM messaging_configurations
WHERE service_sid = ? AND country IN (?, ?) ORDER BY CASE WHEN country = ? THEN 1 ELSE 0 END LIMIT 1`,
		string(service), country, verify.CountryAll, verify.CountryAll).Scan(&mg)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlstore: messaging service of %s for %s: %w", service, country, err)
	}
	return verify.Sid(mg), nil
}
