package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify/notify"
)

// maxResponse is as much of an answer as Send reads: a result body is a
// few hundred bytes, and a gateway that sends more is not waited for.
const maxResponse = 64 << 10

// StatusError is a non-2xx answer. Send returns it wrapped in
// notify.Permanent or notify.RetryAfter (errors.As finds it), so that a
// caller can record the status and tests can read the delay asked for.
type StatusError struct {
	StatusCode int
	// RetryAfter is the answer's Retry-After, 0 if none or unreadable.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string { return fmt.Sprintf("gateway answered HTTP %d", e.StatusCode) }

// Send makes one attempt to hand r to the gateway and returns what a 2xx
// answer reported. Without IncludeCode, r.Code is dropped. Failures a
// retry cannot mend (a 4xx answer other than 408 and 429, a template that
// renders no valid request) are notify.Permanent; the others (408, 429,
// 5xx, a 3xx, whose redirect is not followed, network errors, the
// timeout) are plain errors, with notify.RetryAfter when the answer had a
// Retry-After header: a StatusError for an answer, found by errors.As. Error texts
// name the status or the kind of failure only, never the secret, the code,
// the text or the URL, since the worker logs and stores them.
func (c *Client) Send(ctx context.Context, r Request) (Result, error) {
	if r.Type == "" {
		r.Type = TypeSend
	}
	if !c.includeCode {
		r.Code = ""
	}
	r.ExpiresAt, r.CreatedAt = r.ExpiresAt.UTC(), r.CreatedAt.UTC()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.request(ctx, r)
	if err != nil {
		return Result{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{}, errors.New("gateway: " + notify.NetReason(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		if err != nil {
			// Accepted all the same: the status line said so.
			return Result{}, nil
		}
		return parseResult(body), nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return Result{}, notify.Permanent(&StatusError{StatusCode: code})
	}
	se := &StatusError{StatusCode: code, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now())}
	if se.RetryAfter > 0 {
		return Result{}, notify.RetryAfter(se, se.RetryAfter)
	}
	return Result{}, se
}

// request builds the HTTP request for r: the JSON body of §10.4, or the
// Template's rendering, with the headers both share.
func (c *Client) request(ctx context.Context, r Request) (*http.Request, error) {
	method, target, body, headers := http.MethodPost, c.url, []byte(nil), http.Header{}
	if c.tmpl != nil {
		rr, err := c.tmpl.render(&r)
		if err != nil {
			return nil, notify.Permanent(redact(fmt.Errorf("gateway template: %w", err), c.secret, r.Code, r.Text))
		}
		method, target, body, headers = rr.method, rr.url, rr.body, rr.headers
	} else {
		var err error
		if body, err = encodeJSON(r); err != nil {
			return nil, notify.Permanent(errors.New("gateway: cannot encode the request"))
		}
		headers.Set("Content-Type", "application/json")
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, notify.Permanent(errors.New("gateway: bad gateway URL or method"))
	}
	req.Header.Set("User-Agent", c.userAgent)
	if r.AttemptSid != "" {
		req.Header.Set("Idempotency-Key", r.AttemptSid)
	}
	if c.secret != "" {
		req.Header.Set("X-Verifyd-Signature", Sign(c.secret, c.now(), body))
	}
	for k, v := range headers { // a template's headers win over the defaults
		req.Header[k] = v
	}
	if c.tmpl != nil && c.tmpl.basic != nil {
		req.SetBasicAuth(c.tmpl.basic.User, c.tmpl.basic.Password)
	}
	return req, nil
}

// encodeJSON is v as JSON without HTML escaping: an SMS text starting
// with Android's "<#>" reaches the adapter as written, not as
// \u003c#\u003e.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// parseResult reads a 2xx body leniently: adapters are small programs in
// any language, so error_code may come as a string and price.value as a
// number, and a body that is not JSON at all still means accepted.
func parseResult(body []byte) Result {
	var v struct {
		MessageID json.RawMessage `json:"message_id"`
		Status    string          `json:"status"`
		ErrorCode json.RawMessage `json:"error_code"`
		Price     *struct {
			Value    json.RawMessage `json:"value"`
			Currency string          `json:"currency"`
		} `json:"price"`
	}
	if json.Unmarshal(body, &v) != nil {
		return Result{}
	}
	res := Result{MessageID: scalar(v.MessageID), Status: v.Status}
	res.ErrorCode, _ = strconv.Atoi(scalar(v.ErrorCode))
	if v.Price != nil {
		if val := scalar(v.Price.Value); val != "" {
			res.Price = &Price{Value: val, Currency: v.Price.Currency}
		}
	}
	return res
}

// scalar is a JSON string's value or a number's digits; "" otherwise.
func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// parseRetryAfter reads a Retry-After header, delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3), as a delay from now; 0 if absent,
// unreadable or past.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redact removes secret values from a template error's text, which can
// quote what a function was given.
func redact(err error, secrets ...string) error {
	s := err.Error()
	for _, v := range secrets {
		if len(v) >= 3 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return errors.New(s)
}
