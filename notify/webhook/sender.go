package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/notify"
)

// Per-attempt limits (docs/delivery.md §2.5, Twilio's platform defaults):
// 5 s to connect, 15 s for the whole exchange.
const (
	ConnectTimeout = 5 * time.Second
	TotalTimeout   = 15 * time.Second
)

// Sender posts webhook outbox rows (verify.WebhookPayload) as Twilio does:
// a form POST signed with X-Twilio-Signature. It is the notify.Sender of
// kind verify.OutboxWebhook.
type Sender struct {
	// Token returns the account's signing token
	// (verify.Verifier.SigningToken).
	Token func(ctx context.Context, account verify.Sid) (string, error)
	// Now stamps sent_at.
	Now func() time.Time
	// UserAgent is sent as User-Agent.
	UserAgent string
	client    *http.Client
}

// NewSender returns a Sender whose connections go only to addresses that
// verify.CheckWebhookAddr allows with publicOnly: the check runs on the
// address actually dialled, after DNS resolution, so a name that resolves
// to a link-local or metadata address is refused too. Redirects are not
// followed: a 3xx answer is a failed attempt.
func NewSender(token func(context.Context, verify.Sid) (string, error), now func() time.Time, publicOnly bool) *Sender {
	d := &net.Dialer{
		Timeout: ConnectTimeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook: dial %s: %w", address, err)
			}
			if err := verify.CheckWebhookAddr(ap.Addr(), publicOnly); err != nil {
				return &refusedError{err}
			}
			return nil
		},
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the address check
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   ConnectTimeout,
		ResponseHeaderTimeout: TotalTimeout,
		// As many as the worker runs attempts at once (notify.Worker
		// Concurrency): with fewer, a busy receiver costs a new connection
		// for most of its events.
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Sender{
		Token: token, Now: now, UserAgent: "verifyd",
		client: &http.Client{
			Transport:     tr,
			Timeout:       TotalTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// refusedError is a connection the target policy refused.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return "target refused: " + e.err.Error() }

// Send makes one attempt. Failures are retried by the worker, except
// those no retry can mend (a bad payload, a refused target, a 4xx answer
// other than 408 and 429), which are Permanent. Without a signing token it
// sends nothing and fails, to be retried: it never sends unsigned
// (verify.ErrNoSigningToken). Error texts name the status or the kind of
// network failure, never the URL (it may carry a secret in its query) or
// the token.
func (s *Sender) Send(ctx context.Context, m notify.Message) error {
	var p verify.WebhookPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return notify.Permanent(fmt.Errorf("bad webhook payload: %v", err))
	}
	token, err := s.Token(ctx, p.Account)
	if err != nil {
		if errors.Is(err, verify.ErrNoSigningToken) {
			return fmt.Errorf("not sent: account %s has no signing token yet; log in once with its primary auth token or restart serve with it in VERIFYD_AUTH_TOKEN", p.Account)
		}
		if verify.IsCode(err, verify.ENotFound) {
			return notify.Permanent(fmt.Errorf("not sent: account %s was deleted", p.Account))
		}
		return fmt.Errorf("not sent: signing token: %v", err)
	}
	form := url.Values{}
	for k, v := range p.Params {
		form.Set(k, v)
	}
	form.Set("uuid", m.ID)
	form.Set("sent_at", s.Now().UTC().Format("2006-01-02T15:04:05Z"))
	body := form.Encode() // percent-encodes ';' (delivery.md §10.3)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, strings.NewReader(body))
	if err != nil {
		return notify.Permanent(errors.New("bad webhook URL"))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("X-Twilio-Signature", Sign(token, p.URL, form))
	req.Header.Set("User-Agent", s.UserAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		var ref *refusedError
		if errors.As(err, &ref) {
			return notify.Permanent(ref)
		}
		return errors.New(notify.NetReason(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		err := fmt.Errorf("HTTP %d", code)
		if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && secs > 0 {
			return notify.RetryAfter(err, time.Duration(secs)*time.Second)
		}
		return err
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout:
		return notify.Permanent(fmt.Errorf("HTTP %d", code))
	default: // 1xx, 3xx (not followed), 408, 5xx
		return fmt.Errorf("HTTP %d", code)
	}
}
