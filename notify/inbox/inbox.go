// Package inbox is the development sender of classic Verify codes: with
// serve --dev, every channel that has no real sender delivers here. Each
// message is logged with its code and kept in memory, newest last, so that
// a developer, an end-to-end test or verifyd inbox can finish a flow with
// no SMS gateway and no mail server. It exists to show codes; it is never
// used without --dev, and serve warns at start when it is.
//
// The inbox is the process's own: with several nodes on PostgreSQL a
// message is in the inbox of the node whose worker sent it, and a restart
// forgets them all (the verifications and their attempts stay).
package inbox

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/verifyd/verify"
)

// Message is one code as the development sender received it.
type Message struct {
	AttemptSid      verify.Sid `json:"attempt_sid"`
	VerificationSid verify.Sid `json:"verification_sid"`
	ServiceSid      verify.Sid `json:"service_sid"`
	AccountSid      verify.Sid `json:"account_sid"`
	Channel         string     `json:"channel"`
	To              string     `json:"to"`
	Locale          string     `json:"locale"`
	Code            string     `json:"code"`
	// Text is the rendered SMS or WhatsApp body, the call's script, or the
	// e-mail's message sentence.
	Text        string    `json:"text"`
	DateCreated time.Time `json:"date_created"`
}

// DefaultSize is how many messages an Inbox keeps.
const DefaultSize = 1000

// Inbox keeps the last Size messages. The zero value is not usable; call
// New.
type Inbox struct {
	logger *slog.Logger
	now    func() time.Time
	size   int

	mu   sync.Mutex
	msgs []Message
}

// New returns an inbox keeping size messages (DefaultSize if 0) that logs
// each one, code included, on logger.
func New(logger *slog.Logger, now func() time.Time, size int) *Inbox {
	if size <= 0 {
		size = DefaultSize
	}
	return &Inbox{logger: logger, now: now, size: size}
}

// Send keeps d and logs it. It never fails: there is nothing to reach.
func (b *Inbox) Send(_ context.Context, d *verify.CodeDelivery) (verify.SendResult, error) {
	m := Message{AttemptSid: d.AttemptSid, VerificationSid: d.VerificationSid, ServiceSid: d.ServiceSid,
		AccountSid: d.AccountSid, Channel: d.Channel, To: d.To, Locale: d.Locale, Code: d.Code, Text: d.Text,
		DateCreated: b.now().UTC()}
	b.mu.Lock()
	if len(b.msgs) == b.size {
		copy(b.msgs, b.msgs[1:])
		b.msgs = b.msgs[:b.size-1]
	}
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
	b.logger.Warn("dev inbox: code sent (development sender, --dev)", "channel", m.Channel, "to", m.To,
		"attempt_sid", m.AttemptSid, "verification_sid", m.VerificationSid, "code", m.Code, "text", m.Text)
	return verify.SendResult{MessageStatus: verify.MessageDelivered, Now: m.DateCreated}, nil
}

// Filter narrows List; empty fields do not filter.
type Filter struct {
	Account verify.Sid // required: an account sees its own messages only
	Service verify.Sid
	To      string
	Limit   int
}

// List returns the account's messages that match f, newest first, at
// most f.Limit (all if 0).
func (b *Inbox) List(f Filter) []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []Message{}
	for i := len(b.msgs) - 1; i >= 0; i-- {
		m := b.msgs[i]
		if m.AccountSid != f.Account || f.Service != "" && m.ServiceSid != f.Service || f.To != "" && m.To != f.To {
			continue
		}
		out = append(out, m)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out
}
