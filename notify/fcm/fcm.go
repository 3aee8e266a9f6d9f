// Package fcm sends Verify Push challenge notifications through the
// Firebase Cloud Messaging HTTP v1 API, authenticated with a Google
// service account (delivery.md §7).
//
// It is a library for the delivery worker: the worker reads the factor and
// challenge, builds a Message, calls Client.Send, and acts on the Outcome of
// the error. The package keeps the OAuth access token for the service
// account, so one Client per FCM credential should live as long as the
// credential does.
//
// How answers map to outcomes (delivery.md §7.3; the FcmError errorCode
// first, then the HTTP status):
//
//	200 with {"name": …}                       Delivered (Send returns the name)
//	UNREGISTERED (404)                         TokenDead
//	INVALID_ARGUMENT naming message.token      TokenDead
//	INVALID_ARGUMENT for another field (400)   Permanent: our bug
//	SENDER_ID_MISMATCH (403)                   Permanent: wrong service account
//	THIRD_PARTY_AUTH_ERROR (401)               Permanent, not retried
//	401 otherwise                              new access token, one retry; then Permanent
//	UNAVAILABLE, INTERNAL, QUOTA_EXCEEDED      Retry, with Retry-After if sent
//	no errorCode: 408, 429, 5xx                Retry, with Retry-After if sent
//	no errorCode: any other status             Permanent
//	no answer (connection, TLS, timeout)       Retry
//	token endpoint 408, 429, 5xx, no answer    Retry
//	token endpoint other 4xx (invalid_grant)   Permanent: key revoked or account gone
//
// Nothing here logs. Errors carry FCM's status strings and message but
// never the registration token, the access token or key material.
package fcm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is FCM's production endpoint.
const DefaultBaseURL = "https://fcm.googleapis.com"

const (
	// sendTimeout bounds one request to FCM or to the token endpoint when
	// the caller's context has no sooner deadline (delivery.md §9).
	sendTimeout = 10 * time.Second
	// maxBody bounds how much of any answer is read.
	maxBody = 64 << 10
)

// Config describes one FCM credential.
type Config struct {
	// ServiceAccount is the service-account key file (JSON) as Google
	// issues it: project_id, client_email, private_key and token_uri are
	// used. A token_uri in the file is honoured, which is how tests point
	// the client at a fake token endpoint.
	ServiceAccount []byte
	// BaseURL replaces DefaultBaseURL (VERIFYD_FCM_URL).
	BaseURL string
	// HTTPClient carries both the token requests and the sends. The default
	// uses http.DefaultTransport, so TLS trusts the system roots and
	// SSL_CERT_FILE and SSL_CERT_DIR keep working; tests inject a client
	// that trusts their fake.
	HTTPClient *http.Client
	// Now is the clock for the assertion's iat/exp, token expiry, the TTL
	// and Retry-After dates. The default is time.Now.
	Now func() time.Time
}

// Client sends messages for one Firebase project. It is safe for
// concurrent use.
type Client struct {
	sendURL string
	project string
	hc      *http.Client
	now     func() time.Time
	tokens  *tokenSource
}

// New checks the service account and returns a Client. It makes no
// request: the first Send fetches the access token.
func New(cfg Config) (*Client, error) {
	sa, key, err := parseServiceAccount(cfg.ServiceAccount)
	if err != nil {
		return nil, err
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("fcm: base URL %q is not an http(s) URL", base)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: sendTimeout}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		sendURL: strings.TrimRight(base, "/") + "/v1/projects/" + sa.ProjectID + "/messages:send",
		project: sa.ProjectID,
		hc:      hc,
		now:     now,
		tokens:  &tokenSource{sa: sa, key: key, hc: hc, now: now},
	}, nil
}

// ProjectID is the Firebase project the service account belongs to.
func (c *Client) ProjectID() string { return c.project }

// Send posts m to FCM and returns the message name FCM assigned
// (projects/{project}/messages/{id}), to be kept as the provider message
// ID. Any failure is an *Error whose Outcome tells the worker what to do;
// see OutcomeOf.
//
// A 401 from FCM (other than THIRD_PARTY_AUTH_ERROR, which concerns APNs
// credentials) usually means the cached access token was revoked or has
// expired early, so Send drops it, fetches a new one and tries once more.
// A second 401 is Permanent.
func (c *Client) Send(ctx context.Context, m Message) (string, error) {
	if err := m.validate(); err != nil {
		return "", &Error{Outcome: Permanent, Err: err}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sendTimeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.token(ctx)
		if err != nil {
			return "", err
		}
		name, err := c.post(ctx, tok, m)
		if e, ok := errors.AsType[*Error](err); ok && attempt == 0 && e.HTTPStatus == http.StatusUnauthorized &&
			e.ErrorCode != "THIRD_PARTY_AUTH_ERROR" {
			c.tokens.invalidate(tok)
			continue
		}
		return name, err
	}
}

// post makes one send request with access token tok.
func (c *Client) post(ctx context.Context, tok string, m Message) (string, error) {
	now := c.now()
	wire, err := m.wire(now)
	if err != nil {
		return "", &Error{Outcome: Permanent, Err: err}
	}
	body, err := json.Marshal(wire)
	if err != nil {
		return "", &Error{Outcome: Permanent, Err: fmt.Errorf("fcm: encode message: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.sendURL, bytes.NewReader(body))
	if err != nil {
		return "", &Error{Outcome: Permanent, Err: fmt.Errorf("fcm: send request: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		// Connection refused, TLS failure, timeout: FCM may never have seen
		// the message. A duplicate is harmless (collapse_key), a lost push
		// is not.
		return "", &Error{Outcome: Retry, Err: fmt.Errorf("fcm: send: %w", err)}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		return "", classify(resp, rb, now, m.Token)
	}
	// FCM has accepted the message; a garbled answer must not cause a
	// second push, so it is Delivered without a name.
	var ok struct {
		Name string `json:"name"`
	}
	if err == nil {
		_ = json.Unmarshal(rb, &ok)
	}
	return ok.Name, nil
}
