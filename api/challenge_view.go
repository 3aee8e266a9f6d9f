package api

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/verifyd/verify"
)

// challengeView returns the fields of c that a device signs
// (verify.SignatureFields) exactly as the device decoded them from GET:
// strings, maps of any, slices of any, nil for null. The Verifier compares a
// push answer's signed fields with them.
//
// It builds that form directly from the wire struct instead of encoding it
// to JSON and decoding it again, which was a tenth of a push approval's
// CPU. The two agree (TestChallengeViewMatchesJSON); where they could not,
// a string that is not valid UTF-8 and that JSON would rewrite, it takes
// the round trip.
func (s *Server) challengeView(c *verify.Challenge) (map[string]any, error) {
	r := s.challengeJSON(c)
	if !validUTF8(c) {
		return roundTrip(r)
	}
	return map[string]any{
		"sid":             string(r.Sid),
		"account_sid":     string(r.AccountSid),
		"service_sid":     string(r.ServiceSid),
		"entity_sid":      string(r.EntitySid),
		"identity":        r.Identity,
		"factor_sid":      string(r.FactorSid),
		"date_created":    dateView(r.DateCreated),
		"expiration_date": dateView(r.ExpirationDate),
		"details":         detailsView(r.Details),
		"hidden_details":  stringMapView(r.HiddenDetails),
	}, nil
}

// roundTrip is the reference form: r encoded and decoded.
func roundTrip(r challengeResponse) (map[string]any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// dateView is a date as JSON decodes it: its string, or nil for null.
func dateView(d date) any {
	if d.t == nil {
		return nil
	}
	return d.t.UTC().Truncate(time.Second).Format(dateLayout)
}

// detailsView follows challengeDetails' omitempty tags.
func detailsView(d challengeDetails) any {
	m := make(map[string]any, 3)
	if d.Message != "" {
		m["message"] = d.Message
	}
	if d.Date != nil {
		m["date"] = dateView(*d.Date)
	}
	if len(d.Fields) > 0 {
		fields := make([]any, len(d.Fields))
		for i, f := range d.Fields {
			fields[i] = map[string]any{"label": f.Label, "value": f.Value}
		}
		m["fields"] = fields
	}
	return m
}

// stringMapView is a map[string]string as JSON decodes it; nil is null.
func stringMapView(m map[string]string) any {
	if m == nil {
		return nil
	}
	v := make(map[string]any, len(m))
	for k, s := range m {
		v[k] = s
	}
	return v
}

// validUTF8 reports whether every signed string of c is valid UTF-8, so
// that JSON carries it unchanged.
func validUTF8(c *verify.Challenge) bool {
	if !utf8.ValidString(c.Identity) || !utf8.ValidString(c.Details.Message) {
		return false
	}
	for _, f := range c.Details.Fields {
		if !utf8.ValidString(f.Label) || !utf8.ValidString(f.Value) {
			return false
		}
	}
	for k, v := range c.HiddenDetails {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}
