package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify/code"
	"github.com/verifyd/verify/notify/gateway"
	"github.com/verifyd/verify/notify/inbox"
	"github.com/verifyd/verify/notify/smtp"
)

// codeSenders is what serve needs to send classic Verify codes: the
// outbox sender, the channels it can serve (a create on another answers
// 60428), and the development inbox when --dev is on.
type codeSenders struct {
	sender   *code.Sender
	channels map[string]bool
	inbox    *inbox.Inbox
}

var allChannels = []string{verify.ChannelSMS, verify.ChannelCall, verify.ChannelWhatsapp, verify.ChannelEmail}

// newCodeSenders builds a transport per channel from the configuration:
// SMTP for email when set, the gateway for the channels it serves, and,
// with --dev, the inbox for every channel left. Without --dev a channel
// with no transport stays unavailable: never a code that nobody sends.
func newCodeSenders(cfg config, v *verify.Verifier, st code.Store, logger *slog.Logger) (*codeSenders, error) {
	transports := map[string]code.Transport{}
	if cfg.SMTPURL != "" {
		t, err := smtpTransport(cfg)
		if err != nil {
			return nil, err
		}
		transports[verify.ChannelEmail] = t
	} else if cfg.EmailFrom != "" || cfg.EmailTemplates != "" {
		return nil, fmt.Errorf("VERIFYD_EMAIL_FROM and VERIFYD_EMAIL_TEMPLATES need VERIFYD_SMTP_URL")
	}
	if cfg.GatewayURL != "" || cfg.GatewayTemplate != "" {
		gc := gateway.Config{URL: cfg.GatewayURL, Secret: cfg.GatewaySecret, IncludeCode: cfg.GatewayIncludeCode,
			UserAgent: "verifyd/" + version(), Now: time.Now}
		if cfg.GatewayTemplate != "" {
			t, err := gateway.LoadTemplate(cfg.GatewayTemplate)
			if err != nil {
				return nil, fmt.Errorf("VERIFYD_GATEWAY_TEMPLATE: %w", err)
			}
			gc.Template = t
		}
		c, err := gateway.New(gc)
		if err != nil {
			return nil, fmt.Errorf("VERIFYD_GATEWAY_URL: %w", err)
		}
		channels := cfg.GatewayChannels
		if channels == "" {
			channels = "sms,call,whatsapp"
			if cfg.SMTPURL == "" {
				channels += ",email"
			}
		}
		for _, ch := range strings.Split(channels, ",") {
			ch = strings.TrimSpace(ch)
			if !isChannel(ch) {
				return nil, fmt.Errorf("VERIFYD_GATEWAY_CHANNELS: %q is not one of sms, call, whatsapp, email", ch)
			}
			if _, taken := transports[ch]; !taken {
				transports[ch] = code.Gateway{Client: c}
			}
		}
	} else if cfg.GatewaySecret != "" || cfg.GatewayChannels != "" {
		return nil, fmt.Errorf("VERIFYD_GATEWAY_SECRET and VERIFYD_GATEWAY_CHANNELS need VERIFYD_GATEWAY_URL or VERIFYD_GATEWAY_TEMPLATE")
	}
	cs := &codeSenders{channels: map[string]bool{}}
	if cfg.Dev {
		cs.inbox = inbox.New(logger.With("component", "dev-inbox"), time.Now, 0)
		for _, ch := range allChannels {
			if _, ok := transports[ch]; !ok {
				transports[ch] = cs.inbox
			}
		}
	}
	for ch := range transports {
		cs.channels[ch] = true
	}
	cs.sender = &code.Sender{Open: v.OpenCodeDelivery, Store: st, Channels: transports, Now: time.Now,
		Logger: logger.With("component", "codes")}
	return cs, nil
}

func isChannel(ch string) bool {
	for _, c := range allChannels {
		if c == ch {
			return true
		}
	}
	return false
}

// describe says, for the start-up log, which transport serves each channel.
func (cs *codeSenders) describe() string {
	var parts []string
	for _, ch := range allChannels {
		t, ok := cs.sender.Channels[ch]
		switch {
		case !ok:
			parts = append(parts, ch+"=off")
		case cs.inbox != nil && t == code.Transport(cs.inbox):
			parts = append(parts, ch+"=dev-inbox")
		default:
			parts = append(parts, fmt.Sprintf("%s=%T", ch, t))
		}
	}
	return strings.Join(parts, " ")
}

// smtpTransport is the e-mail transport of VERIFYD_SMTP_URL, with the
// templates of VERIFYD_EMAIL_TEMPLATES, checked at start.
func smtpTransport(cfg config) (code.Transport, error) {
	c, err := smtp.ParseURL(cfg.SMTPURL, cfg.EmailFrom)
	if err != nil {
		return nil, err
	}
	t := code.SMTP{Client: smtp.New(c)}
	if cfg.EmailTemplates != "" {
		if t.Templates, err = smtp.LoadTemplates(cfg.EmailTemplates); err != nil {
			return nil, fmt.Errorf("VERIFYD_EMAIL_TEMPLATES: %w", err)
		}
	}
	return t, nil
}
