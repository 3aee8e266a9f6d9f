// Package device is a virtual Verify Push authenticator: a client that
// speaks the wire protocol of Twilio's official Verify Push SDK (Android
// flavour, SDK 0.9.0) byte for byte, as described in
// push-protocol.md. It exists so that verifyd can be tested, and used
// in CI, without a phone: the form encoding, headers, device JWTs, clock
// correction, retries and the GET-sign-POST-GET dance of an answer are the
// SDK's, so a server that satisfies this client satisfies the SDK.
//
// Where the SDK is lenient in ways verifyd promises never to need (dates
// with offsets, null coerced to "null"), this client is strict instead, so
// that a server regression shows up here before it shows up on a phone.
package device

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/verifyd/verify/jws"
)

// The SDK identity this client reports: Config.SdkVersion, Config.AppId and
// the last two User-Agent fields are what Android SDK 0.9.0 sends.
const (
	SDKVersion       = "0.9.0"
	SDKBuild         = "2013"
	AppID            = "io.verifyd.device"
	DefaultUserAgent = "verifyd-device; Android; 1.0; 1; Android 14 (34); verifyd; VerifySDK; " + SDKVersion + "; " + SDKBuild
)

// jwtLifetime is exp-nbf of a device JWT (Android jwtValidFor, 10 minutes).
const jwtLifetime = 600

// maxBody bounds how much of a response is read; Verify responses are small.
const maxBody = 4 << 20

// Client is one device: the State of its factor plus the transport. A
// Client is not safe for concurrent use, because a 401 with a Date header
// changes State.ClockCorrection (as the SDK's shared preferences do); save
// the State after each call to keep the correction.
type Client struct {
	HTTP      *http.Client     // nil: a client with a 30 s timeout
	Now       func() time.Time // nil: time.Now; the device's own clock
	State     *State
	UserAgent string // "": DefaultUserAgent
}

// Error is a response with an HTTP status of 300 or more. Code, Message and
// MoreInfo come from the Twilio error body when there is one.
type Error struct {
	Status   int
	Code     int
	Message  string
	MoreInfo string
}

func (e *Error) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("HTTP %d: Twilio error %d: %s", e.Status, e.Code, e.Message)
}

// Local failures the SDK reports without (or after) a network call. They are
// the SDK's InputError cases of PushChallengeProcessor and the repositories.
var (
	ErrWrongFactor     = errors.New("challenge belongs to another factor")
	ErrExpired         = errors.New("challenge expired")
	ErrAlreadyUpdated  = errors.New("challenge already updated")
	ErrSignatureFields = errors.New("challenge has no signature fields: it cannot be answered")
	ErrNotUpdated      = errors.New("challenge not updated")
	ErrNotEnrolled     = errors.New("device is not enrolled")
)

// param is one form or query pair; order matters because the SDK's maps
// are insertion-ordered and the encoding is part of what we test.
type param struct{ key, value string }

// encodeForm encodes pairs as Android's Uri.Builder.appendQueryParameter
// does: each key and value through Uri.encode, joined with "=" and "&".
func encodeForm(ps []param) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(androidEncode(p.key))
		b.WriteByte('=')
		b.WriteString(androidEncode(p.value))
	}
	return b.String()
}

// androidEncode is android.net.Uri.encode: letters, digits and _-!.~'()*
// stay, every other UTF-8 byte becomes %XX with upper-case hex (so a space
// is %20, never +).
func androidEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_-!.~'()*", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// deviceHeader and deviceClaims are structs, not maps, so that the JSON
// keys come out in the Android SDK's order (cty, kid, typ, alg; sub, exp,
// nbf) rather than sorted.
type deviceHeader struct {
	Cty string `json:"cty"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
	Alg string `json:"alg"`
}

type deviceClaims struct {
	Sub string `json:"sub"`
	Exp int64  `json:"exp"`
	Nbf int64  `json:"nbf"`
}

// deviceJWT mints the per-request device JWT of push-protocol.md §4.2 at
// the device's corrected time. There is no iat: the SDK's "iat" constant
// is the string "nbf".
func (c *Client) deviceJWT() (string, error) {
	key, err := c.State.Key()
	if err != nil {
		return "", err
	}
	return JWT(key, c.State.CredentialSid, c.State.AccountSid, c.now().Unix()+c.State.ClockCorrection)
}

// JWT returns a factor's device JWT valid from nbf (Unix seconds) for
// jwtLifetime, signed as the SDK signs it: the Basic-auth password of every
// device call except create factor. It is exported for tools and tests that
// act as a device without a Client (verifyd bench, forged-request tests).
func JWT(key *ecdsa.PrivateKey, credentialSid, accountSid string, nbf int64) (string, error) {
	return jws.SignES256(key,
		deviceHeader{Cty: "twilio-pba;v=1", Kid: credentialSid, Typ: "JWT", Alg: "ES256"},
		deviceClaims{Sub: accountSid, Exp: nbf + jwtLifetime, Nbf: nbf})
}

// response is a successful (status < 300) answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send makes one request as the SDK's NetworkAdapter does: the form (if
// any) is the body of a POST or the query of a GET, and the headers are
// RequestHelper.commonHeaders. Statuses of 300 and above become *Error.
func (c *Client) send(ctx context.Context, method, path, password string, form []param) (*response, error) {
	if c.State == nil || c.State.BaseURL == "" {
		return nil, ErrNotEnrolled
	}
	u := c.State.BaseURL + path
	var body io.Reader
	if method == http.MethodGet && len(form) > 0 {
		u += "?" + encodeForm(form)
	} else if len(form) > 0 {
		body = strings.NewReader(encodeForm(form))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("token:"+password)))
	accept := "application/json"
	if method == http.MethodGet {
		accept = "application/x-www-form-urlencoded" // sic: the SDK's GET Accept
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return &response{status: resp.StatusCode, header: resp.Header}, apiError(resp.StatusCode, b)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// apiError reads a Twilio error body; code must be a JSON integer, as the
// iOS SDK requires. Anything else keeps the raw body as the message.
func apiError(status int, body []byte) *Error {
	var e struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == 0 {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return &Error{Status: status, Message: msg}
	}
	return &Error{Status: status, Code: e.Code, Message: e.Message, MoreInfo: e.MoreInfo}
}

// call is a device-JWT request with the SDK's clock synchronisation
// (BaseAPIClient.validateException): on a 401 that carries a Date header,
// store serverTime-deviceTime, mint a new JWT and retry once. A second 401
// is an error, except for delete (secondUnauthorizedOK), where the SDK
// counts it as success.
func (c *Client) call(ctx context.Context, method, path string, form []param, secondUnauthorizedOK bool) (*response, error) {
	for retries := 1; ; retries-- {
		tok, err := c.deviceJWT()
		if err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, method, path, tok, form)
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
			return resp, err
		}
		if retries == 0 {
			if secondUnauthorizedOK {
				return resp, nil
			}
			return nil, err
		}
		date := resp.header.Get("Date")
		if date == "" {
			return nil, err
		}
		server, perr := parseRFC1123(date)
		if perr != nil {
			return nil, fmt.Errorf("clock sync: %w", perr)
		}
		c.State.ClockCorrection = server.Unix() - c.now().Unix()
	}
}

// parseRFC1123 reads a Date header with Java's "EEE, dd MMM yyyy HH:mm:ss
// zzz", i.e. RFC 1123 with a zone name (GMT) or a numeric zone.
func parseRFC1123(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC1123, s)
	if err != nil {
		if t2, err2 := time.Parse(time.RFC1123Z, s); err2 == nil {
			return t2, nil
		}
	}
	return t, err
}

// parseDate accepts exactly YYYY-MM-DDTHH:MM:SSZ. Android accepts that and
// negative offsets, iOS any offset; verifyd promises the Z form
// (push-protocol.md §6), so anything else is reported. The length check
// matters: Go's parser would otherwise accept fractional seconds, which
// Android rejects.
func parseDate(field, s string) (time.Time, error) {
	if len(s) != len("2006-01-02T15:04:05Z") || s[len(s)-1] != 'Z' {
		return time.Time{}, fmt.Errorf("%s %q is not YYYY-MM-DDTHH:MM:SSZ", field, s)
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not YYYY-MM-DDTHH:MM:SSZ", field, s)
	}
	return t, nil
}

// object is a parsed JSON object whose members stay raw, so that a signed
// answer can repeat them exactly as the server sent them.
type object map[string]json.RawMessage

func parseObject(what string, b []byte) (object, error) {
	var o object
	if err := json.Unmarshal(b, &o); err != nil || o == nil {
		return nil, fmt.Errorf("%s: response is not a JSON object", what)
	}
	return o, nil
}

// str returns the string member key; required members must be present and
// be JSON strings (Android's getString would coerce null to "null").
func (o object) str(key string, required bool) (string, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		if required {
			return "", fmt.Errorf("response lacks string %q", key)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("response member %q is not a string", key)
	}
	return s, nil
}

// strMap reads an optional object with string values (metadata,
// hidden_details): absent and null are nil.
func (o object) strMap(key string) (map[string]string, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("response member %q is not an object of strings", key)
	}
	return m, nil
}
