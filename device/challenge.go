package device

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify/jws"
)

// Challenge is a challenge as ChallengeMapper reads it, plus the raw JSON
// object it came from, which an answer repeats field by field.
type Challenge struct {
	Sid, FactorSid, Status                   string
	DateCreated, DateUpdated, ExpirationDate time.Time
	Message                                  string            // details.message
	Fields                                   []Detail          // details.fields
	Date                                     *time.Time        // details.date
	HiddenDetails                            map[string]string // hidden_details
	// SignatureFields is the Twilio-Verify-Signature-Fields header of a
	// single-challenge GET, split on "," without trimming, as both SDKs do;
	// nil unless the challenge is pending and the header was sent.
	SignatureFields []string
	Raw             json.RawMessage
}

// Detail is one of details.fields.
type Detail struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// ChallengeList is a page of challenges (ChallengeListMapper).
type ChallengeList struct {
	Challenges                       []*Challenge
	Page, PageSize                   int
	NextPageToken, PreviousPageToken string
}

func parseChallenge(raw []byte, fieldsHeader string, hasHeader bool) (*Challenge, error) {
	o, err := parseObject("challenge", raw)
	if err != nil {
		return nil, err
	}
	ch := &Challenge{Raw: append(json.RawMessage(nil), raw...)}
	for _, m := range []struct {
		key string
		dst *string
	}{{"sid", &ch.Sid}, {"factor_sid", &ch.FactorSid}, {"status", &ch.Status}} {
		if *m.dst, err = o.str(m.key, true); err != nil {
			return nil, err
		}
	}
	switch ch.Status {
	case "pending", "approved", "denied", "expired":
	default:
		ch.Status = "expired" // Android maps an unknown status to Expired
	}
	for _, m := range []struct {
		key string
		dst *time.Time
	}{{"date_created", &ch.DateCreated}, {"date_updated", &ch.DateUpdated}, {"expiration_date", &ch.ExpirationDate}} {
		s, err := o.str(m.key, true)
		if err != nil {
			return nil, err
		}
		if *m.dst, err = parseDate(m.key, s); err != nil {
			return nil, err
		}
	}
	rawDetails, ok := o["details"]
	if !ok {
		return nil, fmt.Errorf("response lacks %q", "details")
	}
	details, err := parseObject("challenge details", rawDetails)
	if err != nil {
		return nil, err
	}
	if ch.Message, err = details.str("message", true); err != nil {
		return nil, fmt.Errorf("details: %w", err)
	}
	if f, ok := details["fields"]; ok && string(f) != "null" {
		var fields []map[string]json.RawMessage
		if err := json.Unmarshal(f, &fields); err != nil {
			return nil, fmt.Errorf("details.fields is not an array of objects")
		}
		for _, m := range fields {
			label, err1 := object(m).str("label", true)
			value, err2 := object(m).str("value", true)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("details.fields: each needs string label and value")
			}
			ch.Fields = append(ch.Fields, Detail{label, value})
		}
	}
	// details.date is optional, but a value that does not parse fails the
	// whole mapping on Android (and JSON null would read as "null").
	if _, ok := details["date"]; ok {
		s, err := details.str("date", true)
		if err != nil {
			return nil, fmt.Errorf("details: %w", err)
		}
		d, err := parseDate("details.date", s)
		if err != nil {
			return nil, err
		}
		ch.Date = &d
	}
	if ch.HiddenDetails, err = o.strMap("hidden_details"); err != nil {
		return nil, err
	}
	if ch.Status == "pending" && hasHeader {
		ch.SignatureFields = strings.Split(fieldsHeader, ",")
	}
	return ch, nil
}

// Challenge GETs one challenge (§5.5) and, as ChallengeRepository.get
// does, refuses one that belongs to another factor.
func (c *Client) Challenge(ctx context.Context, sid string) (*Challenge, error) {
	if c.State == nil {
		return nil, ErrNotEnrolled
	}
	resp, err := c.call(ctx, http.MethodGet, c.State.entityPath()+"/Challenges/"+sid, nil, false)
	if err != nil {
		return nil, fmt.Errorf("get challenge %s: %w", sid, err)
	}
	// Android takes the first value of the header (headers[...]?.first()).
	vals := resp.header.Values("Twilio-Verify-Signature-Fields")
	header := ""
	if len(vals) > 0 {
		header = vals[0]
	}
	ch, err := parseChallenge(resp.body, header, len(vals) > 0)
	if err != nil {
		return nil, fmt.Errorf("get challenge %s: %w", sid, err)
	}
	if ch.FactorSid != c.State.FactorSid {
		return nil, fmt.Errorf("get challenge %s: %w", sid, ErrWrongFactor)
	}
	return ch, nil
}

// Challenges lists the factor's challenges (§5.6) with the SDK's query:
// PageSize, FactorSid, Order (asc when empty, the SDK's default), then
// Status and PageToken when given.
func (c *Client) Challenges(ctx context.Context, status string, pageSize int, order, pageToken string) (*ChallengeList, error) {
	if c.State == nil {
		return nil, ErrNotEnrolled
	}
	if order == "" {
		order = "asc"
	}
	q := []param{{"PageSize", strconv.Itoa(pageSize)}, {"FactorSid", c.State.FactorSid}, {"Order", order}}
	if status != "" {
		q = append(q, param{"Status", status})
	}
	if pageToken != "" {
		q = append(q, param{"PageToken", pageToken})
	}
	resp, err := c.call(ctx, http.MethodGet, c.State.entityPath()+"/Challenges", q, false)
	if err != nil {
		return nil, fmt.Errorf("list challenges: %w", err)
	}
	var body struct {
		Challenges []json.RawMessage `json:"challenges"`
		Meta       *struct {
			Page        *int    `json:"page"`
			PageSize    *int    `json:"page_size"`
			PreviousURL *string `json:"previous_page_url"`
			NextURL     *string `json:"next_page_url"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil || body.Challenges == nil || body.Meta == nil || body.Meta.Page == nil || body.Meta.PageSize == nil {
		return nil, fmt.Errorf("list challenges: response needs challenges and integer meta.page and meta.page_size")
	}
	list := &ChallengeList{Page: *body.Meta.Page, PageSize: *body.Meta.PageSize}
	if body.Meta.NextURL != nil {
		list.NextPageToken = pageTokenOf(*body.Meta.NextURL)
	}
	if body.Meta.PreviousURL != nil {
		list.PreviousPageToken = pageTokenOf(*body.Meta.PreviousURL)
	}
	for _, raw := range body.Challenges {
		ch, err := parseChallenge(raw, "", false)
		if err != nil {
			return nil, fmt.Errorf("list challenges: %w", err)
		}
		list.Challenges = append(list.Challenges, ch)
	}
	return list, nil
}

// pageTokenOf is Uri.parse(url).getQueryParameter("PageToken"): the first
// pair with exactly that (case-sensitive) name, percent-decoded with "+" as
// space. It splits by hand because url.ParseQuery drops pairs with ";".
func pageTokenOf(u string) string {
	_, q, ok := strings.Cut(u, "?")
	if !ok {
		return ""
	}
	q, _, _ = strings.Cut(q, "#")
	for _, pair := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if k == "PageToken" {
			if d, err := url.QueryUnescape(v); err == nil {
				return d
			}
			return v
		}
	}
	return ""
}

// Respond approves or denies a challenge exactly as
// PushChallengeProcessor.update does (§5.7): GET, local checks, sign the
// listed fields, POST (retried once on a 401 with Date, with the same
// AuthPayload), then GET again and require the new status.
func (c *Client) Respond(ctx context.Context, sid string, approve bool) (*Challenge, error) {
	want := "denied"
	if approve {
		want = "approved"
	}
	ch, err := c.Challenge(ctx, sid)
	if err != nil {
		return nil, err
	}
	switch {
	case ch.Status == "expired":
		return nil, fmt.Errorf("%s: %w", sid, ErrExpired)
	case ch.Status != "pending":
		return nil, fmt.Errorf("%s (%s): %w", sid, ch.Status, ErrAlreadyUpdated)
	case len(ch.SignatureFields) == 0:
		return nil, fmt.Errorf("%s: %w", sid, ErrSignatureFields)
	}
	key, err := c.State.Key()
	if err != nil {
		return nil, err
	}
	authPayload, err := Answer(key, ch.Raw, ch.SignatureFields, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sid, err)
	}
	if _, err := c.call(ctx, http.MethodPost, c.State.entityPath()+"/Challenges/"+sid, []param{{"AuthPayload", authPayload}}, false); err != nil {
		return nil, fmt.Errorf("update challenge %s: %w", sid, err)
	}
	after, err := c.Challenge(ctx, sid)
	if err != nil {
		return nil, err
	}
	if after.Status != want {
		return nil, fmt.Errorf("%s reads %s: %w", sid, after.Status, ErrNotUpdated)
	}
	return after, nil
}

// Answer returns the AuthPayload that answers a challenge with status
// (approved or denied): an ES256 JWT over each listed field of the
// challenge's JSON as read from GET, plus status, built as the SDK builds it.
// It is exported for tools and tests that act as a device without a Client.
func Answer(key *ecdsa.PrivateKey, challenge json.RawMessage, fields []string, status string) (string, error) {
	payload, err := answerPayload(challenge, fields, status)
	if err != nil {
		return "", err
	}
	return jws.SignES256(key, answerHeader{Typ: "JWT", Alg: "ES256"}, payload)
}

// answerHeader is the challenge AuthPayload header; Android writes typ
// first. It has no kid and no cty.
type answerHeader struct {
	Typ string `json:"typ"`
	Alg string `json:"alg"`
}

// orderedPayload is an org.json JSONObject: members in insertion order,
// values kept as the raw JSON the server sent (never decoded into Go
// types, which would reorder nested keys and re-type numbers).
type orderedPayload struct {
	keys []string
	vals map[string]json.RawMessage
}

func (p *orderedPayload) put(k string, v json.RawMessage) {
	if _, ok := p.vals[k]; !ok {
		p.keys = append(p.keys, k) // a repeated put keeps the first position
	}
	p.vals[k] = v
}

func (p *orderedPayload) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range p.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(escapeSlashes(kb))
		b.WriteByte(':')
		b.Write(escapeSlashes(p.vals[k]))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// answerPayload is generateSignature's payload: for each listed field the
// GET body's member (a missing one is an error, as JSONObject.get throws),
// then status, which replaces a listed status in place.
func answerPayload(raw json.RawMessage, fields []string, status string) (*orderedPayload, error) {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	p := &orderedPayload{vals: map[string]json.RawMessage{}}
	for _, f := range fields {
		v, ok := o[f]
		if !ok {
			return nil, fmt.Errorf("signature field %q is not in the challenge", f)
		}
		p.put(f, v)
	}
	st, _ := json.Marshal(status)
	p.put("status", st)
	return p, nil
}

// escapeSlashes writes "/" inside JSON strings as "\/", as Android's
// org.json serialiser does, so the server is tested on comparing values,
// not bytes.
func escapeSlashes(j []byte) []byte {
	if !bytes.Contains(j, []byte("/")) {
		return j
	}
	var b bytes.Buffer
	inStr, esc := false, false
	for _, c := range j {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr && c == '/':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.Bytes()
}

// WaitForChallenge polls for pending challenges, newest first, every poll
// until one appears or ctx ends: the SDK's documented way to receive
// challenges with notification platform "none".
func (c *Client) WaitForChallenge(ctx context.Context, poll time.Duration) (*Challenge, error) {
	if poll <= 0 {
		poll = time.Second
	}
	for {
		list, err := c.Challenges(ctx, "pending", 10, "desc", "")
		if err != nil {
			return nil, err
		}
		if len(list.Challenges) > 0 {
			return list.Challenges[0], nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a pending challenge: %w", ctx.Err())
		case <-time.After(poll):
		}
	}
}
