package verifytest

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// SMTPSink is a real SMTP server (github.com/emersion/go-smtp) for tests:
// it listens on 127.0.0.1 and keeps every mail it accepts. With User set
// it requires AUTH PLAIN with User and Pass; with RcptErr it refuses every
// recipient with that reply.
type SMTPSink struct {
	User, Pass string
	RcptErr    *gosmtp.SMTPError

	mu  sync.Mutex
	got []ReceivedMail
}

// ReceivedMail is one accepted mail: its envelope and its DATA.
type ReceivedMail struct {
	From string
	To   []string
	Data []byte
}

// Start serves the sink until the test ends and returns its port. With
// cert it offers STARTTLS, and with implicit it speaks TLS from the first
// byte.
func (s *SMTPSink) Start(t testing.TB, cert *tls.Certificate, implicit bool) int {
	srv := gosmtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		if implicit {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// Received returns the mails accepted so far.
func (s *SMTPSink) Received() []ReceivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceivedMail(nil), s.got...)
}

// NewSession implements gosmtp.Backend.
func (s *SMTPSink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct {
	s      *SMTPSink
	authed bool
	m      ReceivedMail
}

func (x *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *sinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.User || pass != x.s.Pass {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		x.authed = true
		return nil
	}), nil
}
func (x *sinkSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if x.s.User != "" && !x.authed {
		return &gosmtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	x.m = ReceivedMail{From: from}
	return nil
}
func (x *sinkSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if x.s.RcptErr != nil {
		return x.s.RcptErr
	}
	x.m.To = append(x.m.To, to)
	return nil
}
func (x *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.m.Data = b
	x.s.mu.Lock()
	x.s.got = append(x.s.got, x.m)
	x.s.mu.Unlock()
	return nil
}
func (x *sinkSession) Reset()        {}
func (x *sinkSession) Logout() error { return nil }
