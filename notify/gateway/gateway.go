// Package gateway hands a classic Verify one-time code (SMS, WhatsApp,
// voice call, optionally e-mail) to something the operator controls: an
// adapter at an HTTP URL that receives a signed JSON request
// (docs/verifications.md §10.4), or, with a Template, a provider's own
// HTTP API called directly, the way Ory Kratos' courier http channel does.
//
// verifyd sends nothing itself, so it must not know about providers; the
// JSON request carries everything an adapter needs (the rendered text, and
// the bare code only when asked for, for WhatsApp authentication templates
// and gateways that build their own speech). The request is signed with
// X-Verifyd-Signature so the adapter can refuse anyone else's; Verify is
// the receiving half (see the package example).
package gateway

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"
)

// DefaultTimeout bounds one attempt when Config.Timeout is zero: the 10 s
// of verifications.md §10.4. An adapter that needs longer should answer
// 202 at once and deliver afterwards.
const DefaultTimeout = 10 * time.Second

// MinSecretLen is the shortest Config.Secret New accepts: 16 bytes, 128
// bits, as much as HMAC-SHA256 keys need against guessing.
const MinSecretLen = 16

// Request is the JSON body POSTed to the gateway (verifications.md §10.4).
// from and messaging_service_sid are null when unset, as §10.4 shows them,
// so that an adapter can tell "use your default sender" from a value;
// code, voice, app_hash and tags are left out when empty. Send writes the
// times in UTC.
type Request struct {
	Type                string            `json:"type"` // "verification.send"; Send fills it when empty
	AttemptSid          string            `json:"attempt_sid"`
	VerificationSid     string            `json:"verification_sid"`
	ServiceSid          string            `json:"service_sid"`
	AccountSid          string            `json:"account_sid"`
	Channel             string            `json:"channel"` // sms|whatsapp|call|email
	To                  string            `json:"to"`
	From                *string           `json:"from"`
	MessagingServiceSid *string           `json:"messaging_service_sid"`
	Country             string            `json:"country"`
	Locale              string            `json:"locale"`
	Text                string            `json:"text"`
	Code                string            `json:"code,omitempty"` // sent only with Config.IncludeCode
	FriendlyName        string            `json:"friendly_name"`
	TTLSeconds          int               `json:"ttl_seconds"`
	ExpiresAt           time.Time         `json:"expires_at"`
	Voice               *Voice            `json:"voice,omitempty"`
	AppHash             string            `json:"app_hash,omitempty"`
	Tags                map[string]string `json:"tags,omitempty"`
	CreatedAt           time.Time         `json:"created_at"`
}

// TypeSend is Request.Type for a code to send.
const TypeSend = "verification.send"

// Voice is the call channel's extras: the service's SendDigits,
// DtmfInputRequired and TtsName, and how many times to say the code.
type Voice struct {
	SendDigits      string `json:"send_digits,omitempty"`
	RequireKeypress bool   `json:"require_keypress"`
	TTSVoice        string `json:"tts_voice,omitempty"`
	Repeat          int    `json:"repeat"`
}

// Result is what a 2xx answer's optional JSON body reported, for the
// attempt's message_status, error_code and price. A 2xx is success even
// when Status is "failed": the gateway took the request, and the caller
// records what it said.
type Result struct {
	MessageID string
	Status    string // queued|sent|delivered|failed|undelivered, as the gateway said it
	ErrorCode int
	Price     *Price
}

// Price is a provider's price for the message, as a decimal string.
type Price struct {
	Value, Currency string
}

// Config configures a Client.
type Config struct {
	// URL is the gateway (VERIFYD_GATEWAY_URL), http or https. With a
	// Template, set either URL (used as it is) or Template.URL (a
	// template), not both: New refuses two URLs rather than guess which
	// one the operator meant.
	URL string
	// Secret keys X-Verifyd-Signature (VERIFYD_GATEWAY_SECRET), at least
	// MinSecretLen bytes. Required unless a Template is given: a provider
	// authenticates verifyd itself, an adapter can only check the
	// signature. With a Template the signature is still sent if set.
	Secret string
	// IncludeCode puts the bare code in Request.Code.
	IncludeCode bool
	// Template, if set, renders the request instead of the JSON body.
	Template *Template
	// Timeout bounds each attempt; DefaultTimeout if zero.
	Timeout time.Duration
	// Client sends the requests; nil builds one. Redirects are never
	// followed, whichever client is given.
	Client *http.Client
	// Now stamps the signature; time.Now if nil.
	Now func() time.Time
	// UserAgent is sent as User-Agent, "verifyd/<version>".
	UserAgent string
}

// Client sends Requests to one gateway. It is safe for concurrent use.
type Client struct {
	url         string
	secret      string
	includeCode bool
	tmpl        *compiled
	timeout     time.Duration
	http        *http.Client
	now         func() time.Time
	userAgent   string
}

// New checks cfg and returns its Client. Errors name the setting, never
// the secret or the URL (which may hold credentials).
func New(cfg Config) (*Client, error) {
	c := &Client{
		url: cfg.URL, secret: cfg.Secret, includeCode: cfg.IncludeCode,
		timeout: cfg.Timeout, now: cfg.Now, userAgent: cfg.UserAgent,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.timeout < 0 {
		return nil, errors.New("gateway: negative timeout")
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.userAgent == "" {
		c.userAgent = "verifyd"
	}
	if cfg.Secret != "" && len(cfg.Secret) < MinSecretLen {
		return nil, errors.New("gateway: secret shorter than 16 bytes")
	}
	if cfg.Template != nil {
		t := *cfg.Template
		if t.URL != "" && cfg.URL != "" {
			return nil, errors.New("gateway: both a gateway URL and a template URL are set; keep one")
		}
		if t.URL == "" {
			if err := checkURL(cfg.URL); err != nil {
				return nil, err
			}
			t.URL = literal(cfg.URL)
		}
		tmpl, err := t.compile()
		if err != nil {
			return nil, err
		}
		c.tmpl = tmpl
	} else {
		if err := checkURL(cfg.URL); err != nil {
			return nil, err
		}
		if cfg.Secret == "" {
			return nil, errors.New("gateway: a secret is required (VERIFYD_GATEWAY_SECRET, at least 16 bytes)")
		}
	}
	c.http = httpClient(cfg.Client)
	return c, nil
}

// checkURL accepts an absolute http or https URL with a host.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("gateway: no gateway URL (VERIFYD_GATEWAY_URL)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("gateway: the gateway URL is not an absolute http or https URL")
	}
	return nil
}

// httpClient returns a copy of given (or a new client) that does not
// follow redirects: a redirect would carry the signed request, code and
// Idempotency-Key to an address the operator did not configure, and Go
// strips only Authorization-like headers when it crosses hosts.
//
// Unlike notify/webhook, no dial-time address check is made: the gateway
// URL is the operator's own setting, not a customer's, and adapters
// usually run on loopback or a private network.
func httpClient(given *http.Client) *http.Client {
	var c http.Client
	if given != nil {
		c = *given
	} else {
		c.Transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   16, // as many as notify.Worker runs at once
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
