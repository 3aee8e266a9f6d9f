package loadtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CheckLoopback returns an error unless rawURL is an absolute http(s) URL
// whose host is localhost or a loopback IP. The tool generates enough load
// to hurt a real server, so it refuses to aim anywhere else.
func CheckLoopback(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("loadtest: target %q is not an absolute http(s) URL", rawURL)
	}
	if h := u.Hostname(); h != "localhost" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("loadtest: target host %q is not loopback; the load tool only drives a server on this machine", h)
		}
	}
	return nil
}

// newTransport returns the one transport every worker shares. Keep-alive
// with at least as many idle connections per host as workers means a
// closed loop reuses its connections, so the numbers measure requests, not
// TCP handshakes. MaxConnsPerHost holds every host (the server, the floors)
// to conc connections, so that the open loop, which can have many more
// operations due at once, measures conc connections as the closed loop
// does (driveOpen queues its operations for them). The closed loop never
// has more than conc requests in flight, so the cap only stops the
// transport from dialing a spare connection when a request finds none idle
// while an answered one is on its way back to the pool; it then waits for
// that one. The dialer resolves the address itself and refuses any
// non-loopback IP, so not even a next_page_url can lead the tool away.
func newTransport(conc int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
			if err != nil {
				return nil, err
			}
			for _, ip := range ips {
				if ip.IP.IsLoopback() {
					return d.DialContext(ctx, network, net.JoinHostPort(ip.IP.String(), port))
				}
			}
			return nil, fmt.Errorf("loadtest: refusing to dial non-loopback %s", addr)
		},
		MaxIdleConns:        4 * conc,
		MaxIdleConnsPerHost: 2 * conc,
		MaxConnsPerHost:     conc,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		// A factor page (35 KB) comes in one read from the socket, not nine
		// of the default 4 KB.
		ReadBufferSize: 64 << 10,
	}
}

// client sends the tool's requests: hc is shared by all workers, base is
// the API's base URL without a trailing slash and auth the account's
// Authorization header.
type client struct {
	hc   *http.Client
	base string
	auth string
}

// basic returns the value of an HTTP Basic Authorization header.
func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// reply is an HTTP answer read to the end, so its connection goes back to
// the pool.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request. form, if not empty, is the encoded POST body, or
// a JSON object if it starts with "{" (the peer's API takes JSON); auth is
// the Authorization header value (the account's when empty).
func (c *client) do(ctx context.Context, method, target, auth, form string) (reply, error) {
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	if !strings.HasPrefix(target, "http") {
		target = c.base + target
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return reply{}, err
	}
	if auth == "" {
		auth = c.auth
	}
	req.Header["Authorization"] = []string{auth}
	switch {
	case strings.HasPrefix(form, "{"):
		req.Header["Content-Type"] = []string{"application/json"}
	case form != "":
		req.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := readBody(resp)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// readBody reads an answer's body. One of known length, as verifyd's are,
// is read into a slice of that length, straight from the connection when
// it is larger than what the transport has buffered: io.ReadAll grows its
// slice from 512 bytes, so a 35 KB factor page took about ten reads and
// copies and left twice its size as garbage, in the process the measured
// server shares the CPU with.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxKnownBody {
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(resp.Body)
}

// maxKnownBody bounds the body readBody allocates up front on the server's
// word (Content-Length).
const maxKnownBody = 8 << 20

// expect sends a request and returns an error unless the status is want.
func (c *client) expect(ctx context.Context, want int, method, target, auth, form string) (reply, error) {
	r, err := c.do(ctx, method, target, auth, form)
	if err != nil {
		return r, err
	}
	if r.status != want {
		return r, fmt.Errorf("%s %s: HTTP %d, want %d: %s", method, shortPath(target), r.status, want, snippet(r.body))
	}
	return r, nil
}

// expectStatus is expect plus a check of the JSON "status" field, which is
// how a challenge tells approved from pending.
func (c *client) expectStatus(ctx context.Context, want int, status, method, target, auth, form string) (reply, error) {
	r, err := c.expect(ctx, want, method, target, auth, form)
	if err != nil {
		return r, err
	}
	if got, _ := jsonString(r.body, "status"); got != status {
		return r, fmt.Errorf("%s %s: status %q, want %q", method, shortPath(target), got, status)
	}
	return r, nil
}

// shortPath keeps error samples readable: the path without the host.
func shortPath(target string) string {
	if u, err := url.Parse(target); err == nil && u.Path != "" {
		return u.Path
	}
	return target
}

func snippet(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// jsonString returns the string value of the first "key": "…" in body, or
// "" and false if the key is absent or its value is not a string (null).
// Checking every answer with a full JSON decode would cost the client, which
// shares the CPU with the server, as much as a small server; the fields read
// this way (status, sid, next_page_url) occur once, at the top level of
// verifyd's answers.
func jsonString(body []byte, key string) (string, bool) {
	i := bytes.Index(body, []byte(`"`+key+`"`))
	if i < 0 {
		return "", false
	}
	rest := bytes.TrimLeft(body[i+len(key)+2:], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return "", false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return "", false
	}
	escaped := false
	for j := 1; j < len(rest); j++ {
		switch rest[j] {
		case '\\':
			escaped = true
			j++ // the escaped character cannot end the string
		case '"':
			if !escaped {
				return string(rest[1:j]), true
			}
			var s string
			if json.Unmarshal(rest[:j+1], &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	return "", false
}
