// Package smtp sends the e-mails of classic Verify codes through the
// operator's SMTP server (VERIFYD_SMTP_URL), with github.com/wneessen/go-mail
// as the client: it speaks STARTTLS and implicit TLS and the usual
// authentication mechanisms, where net/smtp is frozen.
//
// Every mail is multipart/alternative (text and HTML from a template with
// Twilio's e-mail variables, template.go), marked Auto-Submitted:
// auto-generated (RFC 3834) so that auto-responders stay quiet, and
// carries X-Verifyd-Attempt-Sid so that an operator can find a mail's send
// attempt. A 5xx answer (a refused mailbox, a wrong password) is final; a
// 4xx answer or a network failure is retried by the outbox.
package smtp

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"time"

	"crypto/tls"

	gomail "github.com/wneessen/go-mail"

	"github.com/verifyd/verify/notify"
)

// TLS modes of VERIFYD_SMTP_URL's ?tls= parameter.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// Config is an SMTP server and the default sender.
type Config struct {
	Host           string
	Port           int
	User, Password string
	TLS            string
	From, FromName string
	Timeout        time.Duration
	// TLSConfig is for tests (a test CA); nil uses the system roots.
	TLSConfig *tls.Config
}

// ParseURL reads VERIFYD_SMTP_URL (smtp://user:pass@host:port?tls=…, or
// smtps://… for implicit TLS) and VERIFYD_EMAIL_FROM ("no-reply@x" or
// "Name <no-reply@x>"). Errors never quote the password.
func ParseURL(rawURL, from string) (Config, error) {
	var c Config
	u, err := url.Parse(rawURL)
	if err != nil {
		return c, errors.New("VERIFYD_SMTP_URL is not a URL: smtp://user:pass@host:port?tls=none|starttls|tls")
	}
	switch u.Scheme {
	case "smtp":
		c.TLS = TLSStartTLS
	case "smtps":
		c.TLS = TLSImplicit
	default:
		return c, fmt.Errorf("VERIFYD_SMTP_URL: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if m := u.Query().Get("tls"); m != "" {
		if m != TLSNone && m != TLSStartTLS && m != TLSImplicit {
			return c, fmt.Errorf("VERIFYD_SMTP_URL: tls must be none, starttls or tls, not %q", m)
		}
		c.TLS = m
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, errors.New("VERIFYD_SMTP_URL: no host")
	}
	c.Port = 587
	if c.TLS == TLSImplicit {
		c.Port = 465
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return c, fmt.Errorf("VERIFYD_SMTP_URL: bad port %q", p)
		}
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if from == "" {
		return c, errors.New("VERIFYD_EMAIL_FROM must be set with VERIFYD_SMTP_URL")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return c, fmt.Errorf("VERIFYD_EMAIL_FROM is not an address: %v", err)
	}
	c.From, c.FromName = a.Address, a.Name
	return c, nil
}

// Mail is one message to send.
type Mail struct {
	To, From, FromName  string // From and FromName override the Config's
	Subject, Text, HTML string
	AttemptSid          string
}

// Client sends mails. It dials per mail: codes are few and far between,
// and a connection kept open would only time out on the server.
type Client struct{ cfg Config }

// New returns a client for cfg.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &Client{cfg: cfg}
}

// Send delivers m.
func (c *Client) Send(ctx context.Context, m Mail) error {
	msg := gomail.NewMsg()
	from, name := c.cfg.From, c.cfg.FromName
	if m.From != "" {
		from, name = m.From, m.FromName
	} else if m.FromName != "" {
		name = m.FromName
	}
	var err error
	if name != "" {
		err = msg.FromFormat(name, from)
	} else {
		err = msg.From(from)
	}
	if err != nil {
		return notify.Permanent(fmt.Errorf("smtp: bad From address"))
	}
	if err := msg.To(m.To); err != nil {
		return notify.Permanent(fmt.Errorf("smtp: bad To address"))
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(m.AttemptSid + "@verifyd")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Verifyd-Attempt-Sid", m.AttemptSid)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)

	opts := []gomail.Option{gomail.WithPort(c.cfg.Port), gomail.WithTimeout(c.cfg.Timeout)}
	if c.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(c.cfg.TLSConfig))
	} else {
		opts = append(opts, gomail.WithTLSConfig(&tls.Config{ServerName: c.cfg.Host, MinVersion: tls.VersionTLS12}))
	}
	switch c.cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(c.cfg.User), gomail.WithPassword(c.cfg.Password))
	}
	client, err := gomail.NewClient(c.cfg.Host, opts...)
	if err != nil {
		return notify.Permanent(fmt.Errorf("smtp: client: %v", err))
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(err)
	}
	return nil
}

// classify keeps an SMTP reply's code and class and drops the rest: a
// reply may quote the recipient, and nothing of the message may reach
// the log. A 5xx reply is final.
func classify(err error) error {
	code := 0
	var tp *textproto.Error
	var se *gomail.SendError
	switch {
	case errors.As(err, &tp):
		code = tp.Code
	case errors.As(err, &se):
		code = se.ErrorCode()
	}
	switch {
	case code >= 500:
		return notify.Permanent(fmt.Errorf("smtp: server answered %d", code))
	case code >= 400:
		return fmt.Errorf("smtp: server answered %d", code)
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("smtp: timed out")
	default:
		return errors.New("smtp: could not reach or talk to the server")
	}
}
