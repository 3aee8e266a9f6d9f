package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Template lets an operator call a provider's own HTTP API without
// writing an adapter, like Ory Kratos' courier http channel
// (docs/libraries.md): Method, URL, each header value and Body are Go
// text/template strings executed with the Request as data. Besides the
// text/template builtins (urlquery, printf, index, ...) they may call
//
//	json   the JSON encoding of a value: {"to": {{json .To}}}
//	deref  a *string's value, "" for nil: From={{urlquery (deref .From)}}
//
// .Code is empty unless Config.IncludeCode is set, and a missing Tags key
// is "". Method defaults to POST; without a Content-Type header a
// non-empty body is sent as application/json. The Idempotency-Key,
// User-Agent and (with a secret) X-Verifyd-Signature headers are sent
// too unless a header of the same name replaces them.
type Template struct {
	Method, URL string
	Headers     map[string]string
	Body        string
	// BasicAuth, if set, is sent as an Authorization: Basic header.
	BasicAuth *struct{ User, Password string }
}

// templateFile is LoadTemplate's JSON.
type templateFile struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	BasicAuth *struct {
		User     string `json:"user"`
		Password string `json:"password"`
	} `json:"basic_auth"`
}

// LoadTemplate reads a JSON file
// {"method", "url", "headers": {name: value}, "body", "basic_auth": {"user", "password"}}
// and checks it as New would, so that a mistake stops the server at start
// rather than failing every send: unknown keys are refused (a misspelt
// "heders" would silently send none), and every template is parsed and
// executed once with a sample Request, which catches unknown fields such
// as {{.Phone}}. Errors name the file and the field.
func LoadTemplate(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gateway template: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f templateFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("gateway template %s: %w", path, err)
	}
	t := &Template{Method: f.Method, URL: f.URL, Headers: f.Headers, Body: f.Body}
	if f.BasicAuth != nil {
		t.BasicAuth = &struct{ User, Password string }{f.BasicAuth.User, f.BasicAuth.Password}
	}
	if t.URL == "" {
		return nil, fmt.Errorf("gateway template %s: field url: missing", path)
	}
	if _, err := t.compile(); err != nil {
		return nil, fmt.Errorf("gateway template %s: %w", path, err)
	}
	return t, nil
}

// compiled is a Template parsed once, for every Send.
type compiled struct {
	method, url, body *template.Template
	headers           map[string]*template.Template // by canonical name
	basic             *struct{ User, Password string }
}

// rendered is a compiled Template executed for one Request.
type rendered struct {
	method, url string
	body        []byte
	headers     http.Header
}

var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := encodeJSON(v)
		return string(b), err
	},
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
}

// compile parses t's templates and renders them with a sample Request
// of each channel, so that a field misspelt inside {{if eq .Channel
// "call"}} is found too. Errors name the field ("url",
// "headers.Authorization", ...).
func (t Template) compile() (*compiled, error) {
	parse := func(field, text string) (*template.Template, error) {
		p, err := template.New(field).Funcs(funcs).Option("missingkey=zero").Parse(text)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", field, err)
		}
		return p, nil
	}
	c := &compiled{headers: map[string]*template.Template{}}
	var err error
	if c.method, err = parse("method", t.Method); err != nil {
		return nil, err
	}
	if c.url, err = parse("url", t.URL); err != nil {
		return nil, err
	}
	if c.body, err = parse("body", t.Body); err != nil {
		return nil, err
	}
	for name, text := range t.Headers {
		if name == "" || strings.ContainsAny(name, " \t\r\n:") {
			return nil, fmt.Errorf("field headers: bad header name %q", name)
		}
		if c.headers[http.CanonicalHeaderKey(name)], err = parse("headers."+name, text); err != nil {
			return nil, err
		}
	}
	if b := t.BasicAuth; b != nil {
		if b.User == "" {
			return nil, errors.New("field basic_auth: no user")
		}
		c.basic = &struct{ User, Password string }{b.User, b.Password}
	}
	for _, ch := range []string{"sms", "whatsapp", "call", "email"} {
		r := sampleRequest()
		r.Channel = ch
		if _, err := c.render(r); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// render executes c for r.
func (c *compiled) render(r *Request) (*rendered, error) {
	exec := func(t *template.Template) ([]byte, error) {
		var b bytes.Buffer
		if err := t.Execute(&b, r); err != nil {
			return nil, fmt.Errorf("field %s: %w", t.Name(), err)
		}
		return b.Bytes(), nil
	}
	out := &rendered{headers: http.Header{}}
	method, err := exec(c.method)
	if err != nil {
		return nil, err
	}
	out.method = strings.ToUpper(strings.TrimSpace(string(method)))
	if out.method == "" {
		out.method = http.MethodPost
	}
	target, err := exec(c.url)
	if err != nil {
		return nil, err
	}
	out.url = strings.TrimSpace(string(target))
	if u, err := url.Parse(out.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("field url: does not render an absolute http or https URL")
	}
	if out.body, err = exec(c.body); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(c.headers))
	for name := range c.headers {
		names = append(names, name)
	}
	slices.Sort(names) // the same error for the same mistake, every time
	for _, name := range names {
		v, err := exec(c.headers[name])
		if err != nil {
			return nil, err
		}
		if bytes.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("field headers.%s: renders a line break or NUL", name)
		}
		out.headers.Set(name, string(v))
	}
	if len(out.body) > 0 && out.headers.Get("Content-Type") == "" {
		out.headers.Set("Content-Type", "application/json")
	}
	return out, nil
}

// literal is a template that renders s as it is.
func literal(s string) string { return "{{" + strconv.Quote(s) + "}}" }

// sampleRequest has every field set, so that executing a template with it
// reaches every field the template names.
func sampleRequest() *Request {
	from, msid := "+15005550006", "MG00000000000000000000000000000000"
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return &Request{
		Type: TypeSend, AttemptSid: "VL00000000000000000000000000000000",
		VerificationSid: "VE00000000000000000000000000000000", ServiceSid: "VA00000000000000000000000000000000",
		AccountSid: "AC00000000000000000000000000000000", Channel: "sms", To: "+15005550001",
		From: &from, MessagingServiceSid: &msid, Country: "US", Locale: "en",
		Text: "Your code is 123456", Code: "123456", FriendlyName: "verifyd", TTLSeconds: 600,
		ExpiresAt: now.Add(10 * time.Minute), Voice: &Voice{Repeat: 2}, AppHash: "abcdefghijk",
		Tags: map[string]string{"tag": "value"}, CreatedAt: now,
	}
}
