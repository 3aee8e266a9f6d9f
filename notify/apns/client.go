// Package apns sends Verify Push challenge notifications through Apple's
// provider API (delivery.md §6): HTTP/2 over TLS, authenticated either with
// an ES256 provider token signed by a .p8 key (token mode) or with a TLS
// client certificate (certificate mode).
//
// A Client holds one long-lived HTTP/2 connection per (credential,
// environment), as Apple asks; the delivery worker keeps one Client per
// credential and calls Send for each push. Send never retries on its own
// except once after ExpiredProviderToken; every other failure is an *Error
// whose Kind tells the worker what to do.
package apns

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APNs hosts (delivery.md §6.1).
const (
	ProductionURL = "https://api.push.apple.com"
	SandboxURL    = "https://api.sandbox.push.apple.com"
)

// DefaultTimeout bounds one request, from dialing to the response headers
// and error body (delivery.md §9: about 10 s per APNs request).
const DefaultTimeout = 10 * time.Second

// pingInterval is how long a connection may be silent before an HTTP/2
// PING checks it, and how long the PING may go unanswered before the
// connection is dropped: APNs and NAT boxes drop idle connections without a
// word, and the next push would otherwise wait on a dead one (apns2 uses
// 15 s).
const pingInterval = 15 * time.Second

// Config configures a Client. Exactly one of SigningKey (token mode) and
// Certificate (certificate mode) must be set.
type Config struct {
	// Sandbox selects api.sandbox.push.apple.com instead of
	// api.push.apple.com (the credential's Sandbox flag).
	Sandbox bool
	// BaseURL, if set, replaces both hosts (for a local fake or a proxy:
	// the server's VERIFYD_APNS_URL), e.g. "https://127.0.0.1:8443".
	BaseURL string

	// Token mode: the .p8 key (see ParseP8), its 10-character Key ID and
	// the 10-character Team ID.
	SigningKey *ecdsa.PrivateKey
	KeyID      string
	TeamID     string

	// Certificate mode: the credential's certificate chain and key.
	Certificate *tls.Certificate

	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock for provider tokens and apns-expiration; nil means
	// time.Now.
	Now func() time.Time
	// TLS, if set, is cloned as the base TLS configuration: tests use it to
	// trust a fake's CA. Leave it nil in production so that the system
	// roots, and Go's SSL_CERT_FILE and SSL_CERT_DIR, decide whom to trust.
	TLS *tls.Config
}

// Client sends notifications to APNs. It is safe for concurrent use; all
// sends share one connection and, in token mode, one provider token.
type Client struct {
	base    string
	http    *http.Client
	tr      *http.Transport
	token   *providerToken // nil in certificate mode
	timeout time.Duration
	now     func() time.Time
}

// New returns a Client for cfg. It does not connect: the first Send does.
func New(cfg Config) (*Client, error) {
	c := &Client{base: ProductionURL, timeout: cfg.Timeout, now: cfg.Now}
	if cfg.Sandbox {
		c.base = SandboxURL
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("apns: base URL %q is not an https:// URL", cfg.BaseURL)
		}
		c.base = strings.TrimSuffix(cfg.BaseURL, "/")
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}

	var tc *tls.Config
	if cfg.TLS != nil {
		tc = cfg.TLS.Clone()
	} else {
		tc = &tls.Config{} // nil RootCAs: the system roots
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12) // APNs requires TLS 1.2 or later

	switch {
	case cfg.SigningKey != nil && cfg.Certificate != nil:
		return nil, errors.New("apns: both a signing key and a certificate are set")
	case cfg.SigningKey != nil:
		if cfg.KeyID == "" || cfg.TeamID == "" {
			return nil, errors.New("apns: token mode needs a key ID and a team ID")
		}
		c.token = &providerToken{key: cfg.SigningKey, keyID: cfg.KeyID, teamID: cfg.TeamID, now: c.now}
	case cfg.Certificate != nil:
		tc.Certificates = []tls.Certificate{*cfg.Certificate}
	default:
		return nil, errors.New("apns: neither a signing key nor a certificate is set")
	}

	// APNs speaks only HTTP/2. A hand-built Transport would otherwise fall
	// back to HTTP/1.1 in silence, which APNs answers by closing the
	// connection; with HTTP/1 left out of Protocols, a server that does not
	// negotiate h2 is an error we can see.
	var protos http.Protocols
	protos.SetHTTP2(true)
	c.tr = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: c.timeout,
		Protocols:           &protos,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: pingInterval,
			PingTimeout:     pingInterval,
		},
		IdleConnTimeout: 0, // keep the connection: APNs asks providers not to reconnect per push
	}
	c.http = &http.Client{
		Transport: c.tr,
		// APNs never redirects; following one would send the provider
		// token to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Close closes the client's idle connections. The Client must not be used
// afterwards.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// Send pushes n and returns the apns-id APNs assigned to it. Every failure
// is an *Error: use errors.As and its Kind. In token mode a 403
// ExpiredProviderToken makes Send sign a new token and try once more.
func (c *Client) Send(ctx context.Context, n Notification) (string, error) {
	if err := n.validate(); err != nil {
		return "", &Error{Kind: Permanent, Token: redact(n.DeviceToken), Err: err}
	}
	exp, err := n.expiration(c.now())
	if err != nil {
		return "", &Error{Kind: Permanent, Token: redact(n.DeviceToken), Err: err}
	}
	body, err := n.body()
	if err != nil {
		return "", &Error{Kind: Permanent, Token: redact(n.DeviceToken), Err: err}
	}

	var bearer string
	if c.token != nil {
		if bearer, err = c.token.get(); err != nil {
			return "", &Error{Kind: Permanent, Token: redact(n.DeviceToken), Err: err}
		}
	}
	id, serr := c.post(ctx, &n, exp, body, bearer)
	if serr == nil || c.token == nil || serr.Status != http.StatusForbidden || serr.Reason != "ExpiredProviderToken" {
		return id, errOrNil(serr)
	}
	if bearer, err = c.token.expired(bearer); err != nil {
		return "", &Error{Kind: Permanent, Token: redact(n.DeviceToken), Err: err}
	}
	id, serr = c.post(ctx, &n, exp, body, bearer)
	// A fresh token refused as expired means our clock is off by an hour or
	// more; retrying will not fix that, so it stays Permanent.
	return id, errOrNil(serr)
}

// errOrNil keeps a nil *Error from becoming a non-nil error.
func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

// post makes one request, bounded by the client's timeout.
func (c *Client) post(ctx context.Context, n *Notification, exp string, body []byte, bearer string) (string, *Error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/3/device/"+n.DeviceToken, bytes.NewReader(body))
	if err != nil {
		return "", &Error{Kind: Permanent, Token: redact(n.DeviceToken), Err: unwrapURL(err)}
	}
	h := req.Header
	h["Content-Type"] = []string{"application/json"}
	h["Apns-Topic"] = []string{n.Topic}
	h["Apns-Push-Type"] = []string{"alert"}
	h["Apns-Priority"] = []string{"10"}
	h["Apns-Expiration"] = []string{exp}
	if id := n.collapseID(); id != "" {
		h["Apns-Collapse-Id"] = []string{id}
	}
	if bearer != "" {
		h["Authorization"] = []string{"bearer " + bearer}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", connError(err, n.DeviceToken)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		// The body is empty; reading to its end lets the stream finish
		// cleanly instead of being reset by Close.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return resp.Header.Get("apns-id"), nil
	}
	return "", classify(resp, n.DeviceToken, c.now())
}

// unwrapURL drops the *url.Error layer, whose message holds the URL and so
// the whole device token.
func unwrapURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
