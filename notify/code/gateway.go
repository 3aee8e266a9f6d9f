package code

import (
	"context"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify/gateway"
)

// Gateway is the transport of an HTTP gateway (notify/gateway).
type Gateway struct{ Client *gateway.Client }

// Send posts d to the gateway and returns what its answer reported.
func (g Gateway) Send(ctx context.Context, d *verify.CodeDelivery) (verify.SendResult, error) {
	r := gateway.Request{
		AttemptSid: string(d.AttemptSid), VerificationSid: string(d.VerificationSid), ServiceSid: string(d.ServiceSid),
		AccountSid: string(d.AccountSid), Channel: d.Channel, To: d.To, From: optional(d.From),
		MessagingServiceSid: optional(d.MessagingServiceSid), Country: d.Country, Locale: d.Locale, Text: d.Text,
		Code: d.Code, FriendlyName: d.FriendlyName, TTLSeconds: d.TTLSeconds, ExpiresAt: d.ExpiresAt,
		AppHash: d.AppHash, Tags: d.Tags, CreatedAt: d.CreatedAt,
	}
	if d.Voice != nil {
		r.Voice = &gateway.Voice{SendDigits: d.Voice.SendDigits, RequireKeypress: d.Voice.RequireKeypress,
			TTSVoice: d.Voice.TTSVoice, Repeat: 2}
	}
	res, err := g.Client.Send(ctx, r)
	out := verify.SendResult{MessageStatus: res.Status, ErrorCode: res.ErrorCode}
	if res.Price != nil {
		out.Price, out.PriceUnit = res.Price.Value, res.Price.Currency
	}
	return out, err
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
