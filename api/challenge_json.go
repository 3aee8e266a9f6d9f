package api

import (
	"net/http"

	"github.com/verifyd/verify"
)

// writeChallenge writes c exactly as writeJSON with challengeJSON would. A
// challenge is the answer of every TOTP check and push approval, the
// server's hottest responses; encoding/json's reflection over it, its
// nested details and two maps was a few percent of their CPU.
func (s *Server) writeChallenge(w http.ResponseWriter, status int, c *verify.Challenge) {
	writePooled(w, status, func(buf []byte) []byte { return s.appendChallenge(buf, c) })
}

// appendChallenge appends c as encoding/json renders s.challengeJSON(c),
// field for field in challengeResponse's order.
func (s *Server) appendChallenge(dst []byte, c *verify.Challenge) []byte {
	r := s.challengeJSON(c)
	dst = append(dst, `{"sid":`...)
	dst = appendString(dst, string(r.Sid))
	dst = append(dst, `,"account_sid":`...)
	dst = appendString(dst, string(r.AccountSid))
	dst = append(dst, `,"service_sid":`...)
	dst = appendString(dst, string(r.ServiceSid))
	dst = append(dst, `,"entity_sid":`...)
	dst = appendString(dst, string(r.EntitySid))
	dst = append(dst, `,"identity":`...)
	dst = appendString(dst, r.Identity)
	dst = append(dst, `,"factor_sid":`...)
	dst = appendString(dst, string(r.FactorSid))
	dst = append(dst, `,"date_created":`...)
	dst = appendDateValue(dst, r.DateCreated)
	dst = append(dst, `,"date_updated":`...)
	dst = appendDateValue(dst, r.DateUpdated)
	dst = append(dst, `,"date_responded":`...)
	dst = appendDateValue(dst, r.DateResponded)
	dst = append(dst, `,"expiration_date":`...)
	dst = appendDateValue(dst, r.ExpirationDate)
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, r.Status)
	dst = append(dst, `,"responded_reason":`...)
	dst = appendString(dst, r.RespondedReason)
	dst = append(dst, `,"details":`...)
	dst = appendDetails(dst, r.Details)
	dst = append(dst, `,"hidden_details":`...)
	dst = appendStringMap(dst, r.HiddenDetails)
	dst = append(dst, `,"metadata":`...)
	dst = appendStringMap(dst, r.Metadata)
	dst = append(dst, `,"factor_type":`...)
	dst = appendString(dst, r.FactorType)
	dst = append(dst, `,"url":`...)
	dst = appendString(dst, r.URL)
	dst = append(dst, `,"links":{"notifications":`...)
	dst = appendString(dst, r.Links.Notifications)
	return append(dst, '}', '}')
}

// appendDateValue appends a date as its MarshalJSON does: null when unset.
func appendDateValue(dst []byte, d date) []byte {
	if d.t == nil {
		return append(dst, "null"...)
	}
	return appendDate(dst, *d.t)
}

// appendDetails follows challengeDetails' omitempty tags and field order.
func appendDetails(dst []byte, d challengeDetails) []byte {
	dst = append(dst, '{')
	sep := false
	next := func(key string) {
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, key...)
	}
	if d.Message != "" {
		next(`"message":`)
		dst = appendString(dst, d.Message)
	}
	if d.Date != nil {
		next(`"date":`)
		dst = appendDateValue(dst, *d.Date)
	}
	if len(d.Fields) > 0 {
		next(`"fields":[`)
		for i, f := range d.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"label":`...)
			dst = appendString(dst, f.Label)
			dst = append(dst, `,"value":`...)
			dst = appendString(dst, f.Value)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}
