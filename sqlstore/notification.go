package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verifyd/verify"
)

// CreateNotification inserts the notification unless the challenge already
// has limit of them: ENotifyMax then. Counting and inserting share one
// writer transaction, and on PostgreSQL the transaction first locks the
// challenge row, so concurrent requests on any node queue per challenge and
// each counts what the previous one inserted: the cap cannot be overshot.
func (s *store) CreateNotification(ctx context.Context, n *verify.Notification, limit int) error {
	err := s.atomic(ctx, func(t *store) error {
		if lock := t.lockRow(); lock != "" {
			var sid string
			err := t.queryRow(ctx, `SELECT sid FROM challenges WHERE sid = ?`+lock,
				string(n.ChallengeSid)).Scan(&sid)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		var count int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM notifications WHERE challenge_sid = ?`,
			string(n.ChallengeSid)).Scan(&count); err != nil {
			return err
		}
		if count >= limit {
			return verify.Errorf(verify.ENotifyMax, "Max number of notifications reached for this challenge")
		}
		_, err := t.exec(ctx, `INSERT INTO notifications (sid, account_sid, service_sid, entity_sid,
identity, challenge_sid, priority, ttl, date_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			string(n.Sid), string(n.AccountSid), string(n.ServiceSid), string(n.EntitySid),
			n.Identity, string(n.ChallengeSid), n.Priority, n.TTL, unix(n.DateCreated))
		return err
	})
	if verify.IsCode(err, verify.ENotifyMax) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create notification %s: %w", n.Sid, err)
	}
	return nil
}
