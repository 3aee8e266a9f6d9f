package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/verifyd/verify"
)

// The factor list is the one list a login path may call on every sign-in
// (an app shows the user's factors), and at a page of 50 its JSON was a
// third of the handler's CPU time: encoding/json walks every factor by
// reflection and allocates for each date and config. appendFactor writes
// the same bytes by hand into one pooled buffer.

// appendFactor appends f as encoding/json renders s.factorJSON(f). Its url
// is urlPrefix+f.Sid when urlPrefix is set (the page's Factors url and a
// slash, valid UTF-8), and s.factorURL(f) otherwise.
func (s *Server) appendFactor(dst []byte, f *verify.Factor, urlPrefix string) []byte {
	dst = append(dst, `{"sid":`...)
	dst = appendString(dst, string(f.Sid))
	dst = append(dst, `,"account_sid":`...)
	dst = appendString(dst, string(f.AccountSid))
	dst = append(dst, `,"service_sid":`...)
	dst = appendString(dst, string(f.ServiceSid))
	dst = append(dst, `,"entity_sid":`...)
	dst = appendString(dst, string(f.EntitySid))
	dst = append(dst, `,"identity":`...)
	dst = appendString(dst, f.Identity)
	dst = append(dst, `,"date_created":`...)
	dst = appendDate(dst, f.DateCreated)
	dst = append(dst, `,"date_updated":`...)
	dst = appendDate(dst, f.DateUpdated)
	dst = append(dst, `,"friendly_name":`...)
	dst = appendString(dst, f.FriendlyName)
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, string(f.Status))
	dst = append(dst, `,"factor_type":`...)
	dst = appendString(dst, string(f.Type))
	dst = append(dst, `,"config":`...)
	dst = appendFactorConfig(dst, f)
	dst = append(dst, `,"metadata":`...)
	dst = appendStringMap(dst, f.Metadata)
	dst = append(dst, `,"url":`...)
	if urlPrefix != "" {
		dst = appendJoined(dst, urlPrefix, string(f.Sid))
	} else {
		dst = appendString(dst, s.factorURL(f))
	}
	return append(dst, '}')
}

// appendFactorConfig appends the config object factorJSON chooses: the
// TOTP part first, then the push part, then the passkeys one, else {}.
func appendFactorConfig(dst []byte, f *verify.Factor) []byte {
	switch {
	case f.Totp != nil:
		t := f.Totp
		dst = append(dst, `{"alg":`...)
		dst = appendString(dst, t.Alg)
		dst = append(dst, `,"skew":`...)
		dst = appendInt(dst, t.Skew)
		dst = append(dst, `,"code_length":`...)
		dst = appendInt(dst, t.CodeLength)
		dst = append(dst, `,"time_step":`...)
		dst = appendInt(dst, t.TimeStep)
		return append(dst, '}')
	case f.Push != nil:
		p := f.Push
		dst = append(dst, `{"sdk_version":`...)
		dst = appendString(dst, p.SdkVersion)
		dst = append(dst, `,"app_id":`...)
		dst = appendString(dst, p.AppID)
		dst = append(dst, `,"notification_platform":`...)
		dst = appendString(dst, p.NotificationPlatform)
		if p.NotificationToken != "" { // omitempty
			dst = append(dst, `,"notification_token":`...)
			dst = appendString(dst, p.NotificationToken)
		}
		dst = append(dst, `,"credential_sid":`...)
		dst = appendString(dst, string(p.CredentialSid))
		return append(dst, '}')
	case f.Passkey != nil:
		// Rare in a list, and nested: encoding/json is fast enough here.
		b, err := json.Marshal(passkeyConfig(f.Passkey))
		if err != nil {
			return append(dst, "{}"...)
		}
		return append(dst, b...)
	}
	return append(dst, "{}"...)
}

// appendStringMap appends m with its keys in byte order, as encoding/json
// sorts them; a nil map is null, an empty one {}.
func appendStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, m[k])
	}
	return append(dst, '}')
}

// factorCursor is the keyset position of a factor in its list.
func factorCursor(f *verify.Factor) verify.Cursor {
	return verify.Cursor{Time: f.DateCreated, Sid: f.Sid}
}

// pageBuffers recycles the buffers of list pages: a page of 50 factors is
// about 50 KB, and growing a fresh one for every request was most of the
// bytes the handler allocated. Buffers that grew past maxPooledPage (a
// PageSize=1000 page) are left to the collector rather than kept.
var pageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

const maxPooledPage = 1 << 20

// writeFactorList writes a page of factors exactly as writeList with
// factorJSON would: {"factors":[...],"meta":{...}} and a newline, 200.
func (s *Server) writeFactorList(w http.ResponseWriter, service verify.Sid, identity string,
	pr pageRequest, items []*verify.Factor, more bool) {
	base := s.entityURL(service, identity) + "/Factors"
	meta := pageMeta("factors", base, nil, pr, items, more, factorCursor)

	// Every factor listed is the entity's, so their urls share one prefix.
	prefix := base + "/"
	if !utf8.ValidString(prefix) {
		prefix = ""
	}
	writePooled(w, http.StatusOK, func(buf []byte) []byte {
		buf = append(buf, `{"factors":[`...)
		for i, f := range items {
			if i > 0 {
				buf = append(buf, ',')
			}
			p := prefix
			if f.ServiceSid != service || f.Identity != identity {
				p = ""
			}
			buf = s.appendFactor(buf, f, p)
		}
		buf = append(buf, `],"meta":`...)
		buf = appendMeta(buf, &meta)
		return append(buf, '}')
	})
}

// writePooled writes the JSON value that appendBody appends to a pooled
// buffer, with the newline json.Encoder ends every value with, so the body
// is what writeJSON would have written.
func writePooled(w http.ResponseWriter, status int, appendBody func([]byte) []byte) {
	bp := pageBuffers.Get().(*[]byte)
	buf := append(appendBody((*bp)[:0]), '\n')
	writeBody(w, status, buf)
	if cap(buf) <= maxPooledPage {
		*bp = buf
		pageBuffers.Put(bp)
	}
}
