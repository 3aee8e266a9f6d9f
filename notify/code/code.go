// Package code delivers the outbox rows of classic Verify (kind
// verify.OutboxCode): a verification's code, by SMS, call, WhatsApp or
// e-mail, through the transport the operator chose for the channel (an
// HTTP gateway, an SMTP server, or the development inbox).
//
// Sender satisfies notify.Sender. It opens the sealed code of the row,
// refuses to send once the verification has expired (a late code is
// useless and confusing), and records on the send attempt what the
// transport reported: the message status, the provider's error code and
// price. A failed delivery shows on the attempt; it never changes the
// verification, which the user may still complete with a code sent again.
package code

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify"
)

// Transport sends one code on one channel. An error is retried unless
// notify.Permanent marks it; it must not carry the code or the text.
type Transport interface {
	Send(ctx context.Context, d *verify.CodeDelivery) (verify.SendResult, error)
}

// Store is what the sender needs from persistence.
type Store interface {
	SettleSendAttempt(ctx context.Context, sid verify.Sid, r verify.SendResult) error
}

// EUnknown is Twilio's messaging error 30008 ("Unknown error"), recorded
// on an attempt whose transport failed without a code of its own.
const EUnknown = 30008

// Sender sends code rows. Its fields are set before the first Send.
type Sender struct {
	// Open reads a row's payload and opens its code
	// (verify.Verifier.OpenCodeDelivery).
	Open  func(payload []byte) (*verify.CodeDelivery, error)
	Store Store
	// Channels maps each channel to its transport.
	Channels map[string]Transport
	Now      func() time.Time
	Logger   *slog.Logger
}

var _ notify.Sender = (*Sender)(nil)

// Send delivers one row.
func (s *Sender) Send(ctx context.Context, m notify.Message) error {
	d, err := s.Open(m.Payload)
	if err != nil {
		return notify.Permanent(err)
	}
	if !s.Now().Before(d.ExpiresAt) {
		s.settle(ctx, d.AttemptSid, verify.SendResult{MessageStatus: verify.MessageFailed, ErrorCode: EUnknown})
		return notify.Permanent(fmt.Errorf("verification %s expired before its code was sent", d.VerificationSid))
	}
	t, ok := s.Channels[d.Channel]
	if !ok {
		// A node configured differently from the one that accepted the
		// verification; another node may have the transport.
		return fmt.Errorf("no transport for the %s channel on this node", d.Channel)
	}
	r, err := t.Send(ctx, d)
	if err != nil {
		if notify.IsPermanent(err) {
			s.settle(ctx, d.AttemptSid, failed(r))
		}
		return err
	}
	if r.MessageStatus == "" {
		r.MessageStatus = verify.MessageSent
	}
	s.settle(ctx, d.AttemptSid, r)
	return nil
}

// Dead records on the attempt that its row ran out of retries: the last
// attempt failed and the verification expires before the next.
func (s *Sender) Dead(ctx context.Context, m notify.Message, _ error) {
	d, err := s.Open(m.Payload)
	if err != nil {
		return
	}
	s.settle(ctx, d.AttemptSid, verify.SendResult{MessageStatus: verify.MessageFailed, ErrorCode: EUnknown})
}

func failed(r verify.SendResult) verify.SendResult {
	r.MessageStatus = verify.MessageFailed
	if r.ErrorCode == 0 {
		r.ErrorCode = EUnknown
	}
	return r
}

func (s *Sender) settle(ctx context.Context, attempt verify.Sid, r verify.SendResult) {
	r.Now = s.Now().UTC().Truncate(time.Second)
	if err := s.Store.SettleSendAttempt(ctx, attempt, r); err != nil && !errors.Is(err, context.Canceled) {
		if verify.IsCode(err, verify.ENotFound) {
			return // the service, and its verifications, were deleted
		}
		s.logger().Error("code: the outcome of a send was not recorded", "attempt_sid", attempt, "err", err)
	}
}

func (s *Sender) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
