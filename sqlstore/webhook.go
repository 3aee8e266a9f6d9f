package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

const webhookColumns = `sid, account_sid, service_sid, friendly_name, event_types, webhook_url, status, version, date_created, date_updated`

func scanWebhook(sc scanner) (*verify.Webhook, error) {
	w := &verify.Webhook{}
	var sid, account, service, types string
	var created, updated int64
	if err := sc.Scan(&sid, &account, &service, &w.FriendlyName, &types, &w.URL, &w.Status, &w.Version, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &w.EventTypes); err != nil {
		return nil, fmt.Errorf("event types of %s: %w", sid, err)
	}
	w.Sid, w.AccountSid, w.ServiceSid = verify.Sid(sid), verify.Sid(account), verify.Sid(service)
	w.DateCreated, w.DateUpdated = fromUnix(created), fromUnix(updated)
	return w, nil
}

func eventTypesJSON(types []string) (string, error) {
	if types == nil {
		types = []string{}
	}
	b, err := json.Marshal(types)
	return string(b), err
}

// CreateWebhook stores a new webhook; the service must exist.
func (s *store) CreateWebhook(ctx context.Context, w *verify.Webhook) error {
	types, err := eventTypesJSON(w.EventTypes)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(w.Sid), string(w.AccountSid), string(w.ServiceSid), w.FriendlyName, types, w.URL, w.Status, w.Version,
		unix(w.DateCreated), unix(w.DateUpdated))
	if err != nil {
		return fmt.Errorf("sqlstore: create webhook %s: %w", w.Sid, err)
	}
	return nil
}

// FindWebhook returns the service's webhook.
func (s *store) FindWebhook(ctx context.Context, service, sid verify.Sid) (*verify.Webhook, error) {
	w, err := scanWebhook(s.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE sid = ? AND service_sid = ?`,
		string(sid), string(service)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, verify.Errorf(verify.ENotFound, "The requested resource /Services/%s/Webhooks/%s was not found", service, sid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find webhook %s: %w", sid, err)
	}
	return w, nil
}

// UpdateWebhook stores w's settings.
func (s *store) UpdateWebhook(ctx context.Context, w *verify.Webhook) error {
	types, err := eventTypesJSON(w.EventTypes)
	if err != nil {
		return err
	}
	ok, err := s.execOne(ctx, `UPDATE webhooks SET friendly_name = ?, event_types = ?, webhook_url = ?, status = ?, version = ?, date_updated = ?
WHERE sid = ? AND service_sid = ?`,
		w.FriendlyName, types, w.URL, w.Status, w.Version, unix(w.DateUpdated), string(w.Sid), string(w.ServiceSid))
	if err != nil {
		return fmt.Errorf("sqlstore: update webhook %s: %w", w.Sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "The requested resource /Services/%s/Webhooks/%s was not found", w.ServiceSid, w.Sid)
	}
	return nil
}

// DeleteWebhook deletes the service's webhook.
func (s *store) DeleteWebhook(ctx context.Context, service, sid verify.Sid) error {
	ok, err := s.execOne(ctx, `DELETE FROM webhooks WHERE sid = ? AND service_sid = ?`, string(sid), string(service))
	if err != nil {
		return fmt.Errorf("sqlstore: delete webhook %s: %w", sid, err)
	}
	if !ok {
		return verify.Errorf(verify.ENotFound, "The requested resource /Services/%s/Webhooks/%s was not found", service, sid)
	}
	return nil
}

// CountWebhooks counts the service's webhooks. Inside CreateWebhook's
// transaction the service row is locked, so the count holds until the
// insert.
func (s *store) CountWebhooks(ctx context.Context, service verify.Sid) (int, error) {
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM webhooks WHERE service_sid = ?`, string(service)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count webhooks of %s: %w", service, err)
	}
	return n, nil
}

// ListWebhooks pages through the service's webhooks.
func (s *store) ListWebhooks(ctx context.Context, service verify.Sid, p verify.Page) ([]*verify.Webhook, bool, error) {
	items, more, err := list(ctx, s, `SELECT `+webhookColumns+` FROM webhooks`,
		[]string{"service_sid = ?"}, []any{string(service)}, p, scanWebhook)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list webhooks of %s: %w", service, err)
	}
	return items, more, nil
}
