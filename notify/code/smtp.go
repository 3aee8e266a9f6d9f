package code

import (
	"context"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify/smtp"
)

// SMTP is the e-mail transport: the verification's template (its
// ChannelConfiguration.template_id among Templates, else
// smtp.DefaultTemplate) filled with Twilio's e-mail variables.
type SMTP struct {
	Client    *smtp.Client
	Templates map[string]smtp.Template
}

// Send renders and mails d.
func (s SMTP) Send(ctx context.Context, d *verify.CodeDelivery) (verify.SendResult, error) {
	t := smtp.DefaultTemplate
	m := smtp.Mail{To: d.To, AttemptSid: string(d.AttemptSid)}
	if d.Email != nil {
		if named, ok := s.Templates[d.Email.TemplateID]; ok {
			t = named
		}
		m.From, m.FromName = d.Email.From, d.Email.FromName
	}
	m.Subject, m.Text, m.HTML = t.Render(d.EmailVars)
	return verify.SendResult{}, s.Client.Send(ctx, m)
}
