package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// dateLayout is RFC 3339 in UTC with whole seconds and a literal Z: the only
// form both mobile SDKs parse (no fractions, no offsets), and one twilio-go
// accepts.
const dateLayout = "2006-01-02T15:04:05Z"

// date renders a time as dateLayout, or null when unset. Wire types use it
// for every date_* field so that no other format can slip out.
type date struct{ t *time.Time }

// dateOf returns t as a date; the zero time renders as null.
func dateOf(t time.Time) date {
	if t.IsZero() {
		return date{}
	}
	return date{&t}
}

// datePtr returns *t as a date; nil renders as null.
func datePtr(t *time.Time) date {
	if t == nil {
		return date{}
	}
	return dateOf(*t)
}

// MarshalJSON implements json.Marshaler: UTC, truncated to the second, Z.
func (d date) MarshalJSON() ([]byte, error) {
	if d.t == nil {
		return []byte("null"), nil
	}
	return []byte(strconv.Quote(d.t.UTC().Truncate(time.Second).Format(dateLayout))), nil
}

// nullable returns nil for "" so that optional strings render as null, the
// way Twilio renders unset settings. Never use it for a string the SDKs read
// (friendly_name, details.message): those must not be null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// writeJSON writes v as a JSON response with the given status: 201 for
// create, 200 for fetch, update and list.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s.error(w, r, err)
		return
	}
	writeBody(w, status, buf.Bytes())
}

// writeBody writes a JSON body that is already encoded.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeNoContent answers a delete: 204 with no body.
func writeNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}

// CORS header values, sent on every response. The spec declares these
// headers on every 200/201; answering preflight is our choice, so that
// browser-based tools can call a self-hosted server.
const (
	corsMethods = "GET, POST, DELETE, OPTIONS"
	corsHeaders = "Content-Type, Authorization"
	corsExpose  = "ETag, " + headerSignatureFields
)

// cors sets the CORS headers on every response and answers OPTIONS
// preflight requests itself, with 204 and without authentication.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Allow-Credentials", "false")
		h.Set("Access-Control-Expose-Headers", corsExpose)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
