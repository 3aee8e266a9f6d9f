package smtp

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/notify"
)

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func testMail() Mail {
	_, text, html := DefaultTemplate.Render(map[string]string{"twilio_code": "482913",
		"twilio_message": "Your Shop verification code is: 482913.", "twilio_message_without_code": "Your Shop verification code is:",
		"twilio_service_name": "Shop"})
	return Mail{To: "ann@example.com", Subject: "Your Shop verification code", Text: text, HTML: html,
		AttemptSid: "VL0123456789abcdef0123456789abcdef"}
}

// TestSend delivers over plain SMTP, STARTTLS and implicit TLS, and reads
// the mail the server received back with net/mail and mime/multipart.
func TestSend(t *testing.T) {
	cert, pool := selfSigned(t)
	for _, mode := range []string{TLSNone, TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			s := &verifytest.SMTPSink{User: "mailer", Pass: "s3cret-pass"}
			var port int
			if mode == TLSNone {
				port = s.Start(t, nil, false)
			} else {
				port = s.Start(t, &cert, mode == TLSImplicit)
			}
			cfg, err := ParseURL("smtp://mailer:s3cret-pass@127.0.0.1:"+strconv.Itoa(port)+"?tls="+mode, "Shop <no-reply@shop.example>")
			if err != nil {
				t.Fatal(err)
			}
			cfg.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
			if err := New(cfg).Send(context.Background(), testMail()); err != nil {
				t.Fatal(err)
			}
			got := s.Received()
			if len(got) != 1 || got[0].From != "no-reply@shop.example" || len(got[0].To) != 1 || got[0].To[0] != "ann@example.com" {
				t.Fatalf("received %+v", got)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
			if err != nil {
				t.Fatal(err)
			}
			from, _ := mail.ParseAddress(msg.Header.Get("From"))
			if from == nil || from.Name != "Shop" || from.Address != "no-reply@shop.example" ||
				msg.Header.Get("Subject") != "Your Shop verification code" ||
				msg.Header.Get("Auto-Submitted") != "auto-generated" ||
				msg.Header.Get("X-Verifyd-Attempt-Sid") != "VL0123456789abcdef0123456789abcdef" ||
				!strings.Contains(msg.Header.Get("Message-Id"), "VL0123456789abcdef0123456789abcdef@verifyd") {
				t.Fatalf("headers %v", msg.Header)
			}
			mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			if err != nil || mt != "multipart/alternative" {
				t.Fatalf("content type %q %v", mt, err)
			}
			parts := map[string]string{}
			mr := multipart.NewReader(msg.Body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
				b, _ := io.ReadAll(p) // multipart decodes quoted-printable
				parts[ct] = string(b)
			}
			if !strings.Contains(parts["text/plain"], "Your Shop verification code is: 482913.") ||
				!strings.Contains(parts["text/html"], ">482913</p>") {
				t.Fatalf("parts %q", parts)
			}
		})
	}
}

// TestSendFailures: a wrong password (535) and a refused mailbox (550)
// are final, a 451 and a dead server are retried, and no error quotes the
// password.
func TestSendFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		s         *verifytest.SMTPSink
		pass      string
		permanent bool
	}{
		{"wrong password", &verifytest.SMTPSink{User: "mailer", Pass: "right"}, "wrong-pass-XYZ", true},
		{"mailbox refused", &verifytest.SMTPSink{RcptErr: &gosmtp.SMTPError{Code: 550, Message: "no such user"}}, "", true},
		{"try later", &verifytest.SMTPSink{RcptErr: &gosmtp.SMTPError{Code: 451, Message: "greylisted"}}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := tc.s.Start(t, nil, false)
			u := "smtp://127.0.0.1:" + strconv.Itoa(port) + "?tls=none"
			if tc.pass != "" {
				u = "smtp://mailer:" + tc.pass + "@127.0.0.1:" + strconv.Itoa(port) + "?tls=none"
			}
			cfg, err := ParseURL(u, "no-reply@shop.example")
			if err != nil {
				t.Fatal(err)
			}
			err = New(cfg).Send(context.Background(), testMail())
			if err == nil || notify.IsPermanent(err) != tc.permanent {
				t.Fatalf("err %v, permanent %v; want permanent %v", err, notify.IsPermanent(err), tc.permanent)
			}
			if tc.pass != "" && strings.Contains(err.Error(), tc.pass) || strings.Contains(err.Error(), "482913") {
				t.Fatalf("the error quotes a secret: %v", err)
			}
		})
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg, _ := ParseURL("smtp://127.0.0.1:"+strconv.Itoa(port)+"?tls=none", "no-reply@shop.example")
	cfg.Timeout = 2 * time.Second
	began := time.Now()
	err := New(cfg).Send(context.Background(), testMail())
	if err == nil || notify.IsPermanent(err) || time.Since(began) > 3*time.Second {
		t.Fatalf("dead server: %v after %v", err, time.Since(began))
	}
}

func TestParseURL(t *testing.T) {
	c, err := ParseURL("smtps://u%40x:p%2Fw@mail.example.com", "No Reply <no-reply@example.com>")
	if err != nil || c.Host != "mail.example.com" || c.Port != 465 || c.TLS != TLSImplicit || c.User != "u@x" ||
		c.Password != "p/w" || c.From != "no-reply@example.com" || c.FromName != "No Reply" {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err := ParseURL("smtp://mail.example.com", "a@example.com"); err != nil || c.Port != 587 || c.TLS != TLSStartTLS {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	for _, bad := range []struct{ u, from string }{
		{"http://mail.example.com", "a@example.com"}, {"smtp://mail.example.com?tls=maybe", "a@example.com"},
		{"smtp://:25", "a@example.com"}, {"smtp://u:topsecretpw@mail.example.com", "not an address"},
		{"smtp://u:topsecretpw@mail.example.com:99999", "a@example.com"}, {"smtp://mail.example.com", ""},
	} {
		_, err := ParseURL(bad.u, bad.from)
		if err == nil || strings.Contains(err.Error(), "topsecretpw") {
			t.Errorf("ParseURL(%q, %q): %v", bad.u, bad.from, err)
		}
	}
}

func TestTemplate(t *testing.T) {
	tmpl := Template{Subject: "Code for {{name}}", Text: "{{twilio_code}} {{name}}", HTML: "<b>{{name}}</b>{{{raw}}}{{twilio_code}}"}
	subject, text, html := tmpl.Render(map[string]string{"name": "<script>", "raw": "<i>x</i>", "twilio_code": "1234"})
	if subject != "Code for <script>" || text != "1234 <script>" || html != "<b>&lt;script&gt;</b><i>x</i>1234" {
		t.Fatalf("%q %q %q", subject, text, html)
	}
	if err := (Template{Text: "hello {{name}}"}).Check(); !errors.Is(err, ErrNoCodePlaceholder) {
		t.Errorf("a template without a code: %v", err)
	}
	if err := DefaultTemplate.Check(); err != nil {
		t.Error(err)
	}
}
