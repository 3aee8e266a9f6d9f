package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/verifyd/verify"
)

// byOutboxKey is the outbox's list order: its times are milliseconds,
// and its key is id.
var byOutboxKey = keyset{time: "date_created", id: "id", at: millis}

// ListDeliveries pages through the account's outbox rows through
// outbox_account (migration 0020): the account's rows in key order, the
// kind and status filtered as they are read, so that a page costs its
// own rows whatever else the outbox holds.
func (s *store) ListDeliveries(ctx context.Context, account verify.Sid, f verify.DeliveryFilter, p verify.Page) ([]*verify.OutboxMessage, bool, error) {
	where, args := []string{"account_sid = ?"}, []any{string(account)}
	if len(f.Kinds) > 0 {
		where = append(where, "kind IN (?"+strings.Repeat(", ?", len(f.Kinds)-1)+")")
		for _, k := range f.Kinds {
			args = append(args, string(k))
		}
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	items, more, err := listBy(ctx, s, byOutboxKey, `SELECT `+outboxColumns+` FROM outbox`, where, args, p, scanOutbox)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: list deliveries of %s: %w", account, err)
	}
	return items, more, nil
}
