package verify

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// Delivery is an outbox row as its account sees it in the console: what
// was sent where, and how it went. It carries no payload: a push
// payload holds the device's token, which is never shown whole, and a
// webhook URL's query may hold a secret of the receiver's.
type Delivery struct {
	ID   string
	Kind OutboxKind
	// Ref is the webhook's SID (YW) or the pushed challenge's (YC).
	Ref string
	// Event is a webhook's event type (factor.created, …); "" for a push.
	Event string
	// Target is OutboxMessage.Target.
	Target    string
	Status    OutboxStatus
	Attempts  int
	LastError string
	// NextAttempt is when a pending row is due (the end of the lease
	// while an attempt is under way); zero once it is settled.
	NextAttempt time.Time
	// Settled is when a delivered or dead row got its final status.
	Settled     time.Time
	DateCreated time.Time
}

// DeliveryKinds are the kinds ListDeliveries shows. A code's send is
// shown as its verification attempt instead (ListAttempts), with what its
// sender reported; its row, sealed, has nothing more to show.
var DeliveryKinds = []OutboxKind{OutboxWebhook, OutboxPush}

// ListDeliveries pages through the account's webhook and push deliveries,
// newest first, of the kinds and status in f (an empty field: all of
// DeliveryKinds, every status). Another account's rows are never read:
// the store selects by the account each row was enqueued for.
func (v *Verifier) ListDeliveries(ctx context.Context, account Sid, f DeliveryFilter, p Page) ([]*Delivery, bool, error) {
	for _, k := range f.Kinds {
		if k != OutboxWebhook && k != OutboxPush {
			return nil, false, invalid("Kind")
		}
	}
	if len(f.Kinds) == 0 {
		f.Kinds = DeliveryKinds
	}
	switch f.Status {
	case "", OutboxPending, OutboxDelivered, OutboxDead:
	default:
		return nil, false, invalid("Status")
	}
	p.Desc = true
	rows, more, err := v.Store.ListDeliveries(ctx, account, f, p)
	if err != nil {
		return nil, false, err
	}
	out := make([]*Delivery, len(rows))
	for i, m := range rows {
		d := &Delivery{ID: m.ID, Kind: m.Kind, Ref: m.Ref, Status: m.Status,
			Attempts: m.Attempts, LastError: m.LastError, DateCreated: m.DateCreated}
		if m.Status == OutboxPending {
			d.NextAttempt = m.NextAttempt
		} else {
			d.Settled = m.DateUpdated
		}
		d.Target, d.Event = m.describe()
		out[i] = d
	}
	return out, more, nil
}

// Target says where a row goes, with nothing secret in it: a webhook's
// URL as scheme://host/path, without the query or user information,
// which may carry the receiver's secrets; a push's platform and app ID
// ("fcm com.example.app"), without the device token. It is "" for the
// kinds without one (a code: its payload is sealed) and "?" for a payload
// it cannot read.
func (m *OutboxMessage) Target() string {
	target, _ := m.describe()
	return target
}

// describe decodes the payload once for Target and, for a webhook, the
// event type it carries ("" for other kinds).
func (m *OutboxMessage) describe() (target, event string) {
	switch m.Kind {
	case OutboxWebhook:
		var p WebhookPayload
		if json.Unmarshal(m.Payload, &p) != nil {
			return "?", ""
		}
		u, err := url.Parse(p.URL)
		if err != nil {
			return "?", p.Params["type"]
		}
		return u.Scheme + "://" + u.Host + u.Path, p.Params["type"]
	case OutboxPush:
		var p PushPayload
		if json.Unmarshal(m.Payload, &p) != nil {
			return "?", ""
		}
		if p.AppID == "" {
			return p.Platform, ""
		}
		return p.Platform + " " + p.AppID, ""
	}
	return "", ""
}
