package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/verifyd/verify/notify/push"
)

// pushSender is the sender of the push outbox rows: the one place that
// turns the configuration into a notify/push.Sender, for whichever worker
// runs the outbox.
func pushSender(st push.Store, cfg config) (*push.Sender, error) {
	tlsCfg, err := pushTLS(cfg)
	if err != nil {
		return nil, err
	}
	return &push.Sender{Store: st, APNsURL: cfg.APNsURL, FCMURL: cfg.FCMURL, Now: time.Now, TLS: tlsCfg}, nil
}

// pushTLS returns nil, so that Go's system roots decide whom APNs, FCM and
// the OAuth endpoint must prove to be, unless SSL_CERT_FILE is set in the
// environment run was given: then that file is the set of roots, which is
// what Go itself does with SSL_CERT_FILE (SSL_CERT_DIR is not read then).
// Reading it through run's getenv rather than the process environment is
// what lets the in-process end-to-end tests trust their fakes' CA exactly
// as an operator's SSL_CERT_FILE would, without a test-only option.
func pushTLS(cfg config) (*tls.Config, error) {
	if cfg.SSLCertFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(cfg.SSLCertFile)
	if err != nil {
		return nil, fmt.Errorf("SSL_CERT_FILE: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SSL_CERT_FILE %s: no PEM certificate", cfg.SSLCertFile)
	}
	return &tls.Config{RootCAs: pool}, nil
}
