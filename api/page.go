package api

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifyd/verify"
)

// A page token is "PT" followed by the unpadded base64url of a small binary
// record: one direction byte ('a' after, 'b' before), the cursor's Unix
// seconds (8 bytes, big-endian), its nanoseconds (4 bytes) and the SID. The
// base64url alphabet has no '.', so the token can never contain the "\.\d+"
// that twilio-go deletes from the query strings it encodes; it is opaque to
// clients and carries the whole keyset position, so the server keeps no
// paging state.
const tokenPrefix = "PT"

const (
	dirAfter  = 'a'
	dirBefore = 'b'
)

// encodeToken returns the page token for cursor c read in direction dir.
func encodeToken(dir byte, c verify.Cursor) string {
	b := make([]byte, 13, 13+len(c.Sid))
	b[0] = dir
	binary.BigEndian.PutUint64(b[1:9], uint64(c.Time.Unix()))
	binary.BigEndian.PutUint32(b[9:13], uint32(c.Time.Nanosecond()))
	b = append(b, c.Sid...)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

var errToken = errors.New("malformed page token")

// decodeToken parses a page token made by encodeToken. The base64 must be
// strict (unused bits zero, no line breaks), so that each cursor has one
// token.
func decodeToken(tok string) (byte, verify.Cursor, error) {
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok || strings.ContainsAny(rest, "\r\n") { // base64 skips them, even Strict
		return 0, verify.Cursor{}, errToken
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) < 13+2 || len(b) > 13+64 || (b[0] != dirAfter && b[0] != dirBefore) {
		return 0, verify.Cursor{}, errToken
	}
	nsec := binary.BigEndian.Uint32(b[9:13])
	if nsec >= 1e9 {
		return 0, verify.Cursor{}, errToken
	}
	sid := b[13:]
	for _, c := range sid {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return 0, verify.Cursor{}, errToken
		}
	}
	t := time.Unix(int64(binary.BigEndian.Uint64(b[1:9])), int64(nsec)).UTC()
	return b[0], verify.Cursor{Time: t, Sid: verify.Sid(sid)}, nil
}

// pageRequest is the paging part of a list request.
type pageRequest struct {
	page  verify.Page
	num   int    // Page, echoed in meta.page
	token string // the PageToken as received, echoed in meta.url
}

// readPage reads PageSize (1..1000, default 50), Page (>= 0, default 0) and
// PageToken, also spelt pageToken as the iOS SDK does.
func readPage(p *params) (pageRequest, error) {
	pr := pageRequest{page: verify.Page{Size: verify.DefaultPageSize}}
	if n := p.int("PageSize"); n != nil {
		if *n < 1 || *n > verify.MaxPageSize {
			p.fail("PageSize", "between 1 and "+strconv.Itoa(verify.MaxPageSize))
		} else {
			pr.page.Size = *n
		}
	}
	if n := p.int("Page"); n != nil {
		if *n < 0 {
			p.fail("Page", "a non-negative integer")
		} else {
			pr.num = *n
		}
	}
	tok := p.str("PageToken")
	if tok == nil {
		tok = p.str("pageToken")
	}
	if tok != nil && p.err == nil {
		dir, c, err := decodeToken(*tok)
		if err != nil {
			p.fail("PageToken", "a page token from a previous page's next_page_url or previous_page_url")
		} else if dir == dirAfter {
			pr.page.After = &c
		} else {
			pr.page.Before = &c
		}
		pr.token = *tok
	}
	return pr, p.err
}

// listMeta is the meta object of every list response.
type listMeta struct {
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	FirstPageURL    string  `json:"first_page_url"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
	NextPageURL     *string `json:"next_page_url"`
	Key             string  `json:"key"`
}

// filter is one list filter echoed into the paging urls, in order.
type filter struct{ name, value string }

// listURL builds a page url from base, the list's absolute url without a
// query. Filters come first and PageToken last, as Twilio writes them; every
// url is absolute, because both libraries request next_page_url verbatim and
// fail on a relative one.
func listURL(base string, filters []filter, size, num int, token string) string {
	var b strings.Builder
	b.WriteString(base + "?")
	for _, f := range filters {
		b.WriteString(f.name + "=" + url.QueryEscape(f.value) + "&")
	}
	b.WriteString("PageSize=" + strconv.Itoa(size) + "&Page=" + strconv.Itoa(num))
	if token != "" {
		b.WriteString("&PageToken=" + url.QueryEscape(token))
	}
	return b.String()
}

// readListParams reads a list request's parameters and its paging.
func readListParams(r *http.Request, code int) (*params, pageRequest, error) {
	p, err := readParams(r, code)
	if err != nil {
		return nil, pageRequest{}, err
	}
	pg, err := readPage(p)
	return p, pg, err
}

// writeList writes a list page as {"<key>": [...], "meta": {...}} with
// status 200 exactly (twilio-node accepts nothing else for lists).
func writeList[T any](s *Server, w http.ResponseWriter, r *http.Request, key, base string, filters []filter,
	pr pageRequest, items []T, more bool, cursor func(T) verify.Cursor, render func(T) any) {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = render(it)
	}
	meta := pageMeta(key, base, filters, pr, items, more, cursor)
	s.writeJSON(w, r, http.StatusOK, map[string]any{key: out, "meta": meta})
}

// pageMeta returns the meta object of a list page.
//
// next_page_url holds the cursor of the last item read forward; it exists
// when the store found more items forward, or when this page was read
// backward (the items it was read back from lie ahead). previous_page_url
// holds the cursor of the first item read backward; it exists when this page
// was read forward from a token, or read backward and the store found more.
func pageMeta[T any](key, base string, filters []filter, pr pageRequest, items []T, more bool,
	cursor func(T) verify.Cursor) listMeta {
	size := pr.page.Size
	meta := listMeta{
		Page:         pr.num,
		PageSize:     size,
		FirstPageURL: listURL(base, filters, size, 0, ""),
		URL:          listURL(base, filters, size, pr.num, pr.token),
		Key:          key,
	}
	if len(items) > 0 {
		backward := pr.page.Before != nil
		if more || backward {
			u := listURL(base, filters, size, pr.num+1, encodeToken(dirAfter, cursor(items[len(items)-1])))
			meta.NextPageURL = &u
		}
		if pr.page.After != nil || backward && more {
			u := listURL(base, filters, size, max(pr.num-1, 0), encodeToken(dirBefore, cursor(items[0])))
			meta.PreviousPageURL = &u
		}
	}
	return meta
}

// appendMeta appends m as encoding/json renders a listMeta, for the
// hand-written list encoders.
func appendMeta(dst []byte, m *listMeta) []byte {
	dst = append(dst, `{"page":`...)
	dst = appendInt(dst, m.Page)
	dst = append(dst, `,"page_size":`...)
	dst = appendInt(dst, m.PageSize)
	dst = append(dst, `,"first_page_url":`...)
	dst = appendString(dst, m.FirstPageURL)
	dst = append(dst, `,"previous_page_url":`...)
	dst = appendNullableString(dst, m.PreviousPageURL)
	dst = append(dst, `,"url":`...)
	dst = appendString(dst, m.URL)
	dst = append(dst, `,"next_page_url":`...)
	dst = appendNullableString(dst, m.NextPageURL)
	dst = append(dst, `,"key":`...)
	dst = appendString(dst, m.Key)
	return append(dst, '}')
}
