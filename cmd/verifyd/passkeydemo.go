package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/verifyd/verify/api"
	"github.com/verifyd/verify/passkeydemo"
)

// withPasskeyDemo serves the passkeys demo at /dev/passkeys in front of
// next, for a --dev server with the well-known constants only: the demo's
// backend holds the account's credentials, which on any other server are
// secrets. Every other path goes to next untouched (no ServeMux in
// between, which would clean and redirect paths the API answers itself).
// The demo's requests pass the API's access log, metrics and panic
// recovery, as the console's do (api.Server.Observed). The demo calls the
// API at addr, the listen address, and trusts, under TLS, exactly the
// certificate the server presents.
func withPasskeyDemo(next http.Handler, s *api.Server, scheme string, addr net.Addr, tlsCfg *tls.Config) http.Handler {
	demo := passkeydemo.Handler(passkeydemo.Config{
		APIBase:    scheme + "://" + dialable(addr),
		AccountSid: DevAccountSid, AuthToken: DevAuthToken, ServiceSid: DevServiceSid,
		Client: selfClient(tlsCfg),
	})
	return mount(next, passkeydemo.Prefix, s.Observed(demo))
}

// announcePasskeyDemo adds the demo's address to the DEVELOPMENT MODE
// banner. It names localhost, not the listen address: WebAuthn refuses an
// IP address as relying party, and browsers treat http://localhost, and
// no other plain-HTTP origin, as the secure context it needs.
func announcePasskeyDemo(stdout io.Writer, scheme string, addr net.Addr) {
	port := "PORT"
	if a, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(a.Port)
	}
	fmt.Fprintf(stdout, "  passkeys demo: %s://localhost:%s%s (WebAuthn needs a domain: localhost works, 127.0.0.1 does not)\n",
		scheme, port, passkeydemo.Prefix)
}

// dialable is addr as a client reaches it: a wildcard listen address
// (0.0.0.0, ::) is reached on the IPv4 loopback, which Go's wildcard
// listeners accept too.
func dialable(addr net.Addr) string {
	a, ok := addr.(*net.TCPAddr)
	if !ok || !a.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
}

// selfClient is the demo's client of this server. It uses no proxy from
// the environment, which must not see the development credentials, and
// under TLS it trusts the server's own leaf certificate and no other:
// the address it dials is not a name a real certificate is for, and a
// self-signed one is in no trust store.
func selfClient(tlsCfg *tls.Config) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	if tlsCfg != nil && len(tlsCfg.Certificates) > 0 && len(tlsCfg.Certificates[0].Certificate) > 0 {
		leaf := tlsCfg.Certificates[0].Certificate[0]
		t.TLSClientConfig = &tls.Config{
			MinVersion: tls.VersionTLS12,
			// Verification is the pin below, in place of the name check.
			InsecureSkipVerify: true,
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 || !bytes.Equal(raw[0], leaf) {
					return errors.New("passkeys demo: the server presented a certificate other than its own")
				}
				return nil
			},
		}
	}
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}
