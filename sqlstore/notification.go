package sqlstore

import (
	"context"
	"fmt"

	"github.com/verifyd/verify"
)

// CreateNotification inserts the notification unless the challenge already
// has limit of them: ENotifyMax then. Counting and inserting share one
// writer transaction, so concurrent requests cannot overshoot the cap.
func (s *store) CreateNotification(ctx context.Context, n *verify.Notification, limit int) error {
	err := s.atomic(ctx, func(t *store) error {
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
