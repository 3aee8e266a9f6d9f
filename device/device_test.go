package device

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAndroidEncode checks the form/query encoding against the rules of
// android.net.Uri.encode: only A-Za-z0-9 and _-!.~'()* stay as they are,
// everything else is %XX of its UTF-8 bytes, upper-case, and space is %20.
func TestAndroidEncode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abcXYZ0189", "abcXYZ0189"},
		{"_-!.~'()*", "_-!.~'()*"},
		{"Ana's phone", "Ana's%20phone"},
		{"a+b", "a%2Bb"},
		{"MFkw/x+y==", "MFkw%2Fx%2By%3D%3D"},
		{"a&b=c;d", "a%26b%3Dc%3Bd"},
		{"k:v@h,?#[]$", "k%3Av%40h%2C%3F%23%5B%5D%24"},
		{`{"os":"Android"}`, "%7B%22os%22%3A%22Android%22%7D"},
		{"100%", "100%25"},
		{"é€", "%C3%A9%E2%82%AC"},
		{"tab\tnl\n", "tab%09nl%0A"},
		{"", ""},
	} {
		if got := androidEncode(tc.in); got != tc.want {
			t.Errorf("androidEncode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	got := encodeForm([]param{{"Config.AppId", "a b"}, {"Binding.PublicKey", "x+/="}, {"Metadata", ""}})
	if want := "Config.AppId=a%20b&Binding.PublicKey=x%2B%2F%3D&Metadata="; got != want {
		t.Errorf("encodeForm = %q, want %q", got, want)
	}
}

// TestStateRoundTrip saves and loads a state, and checks that the file is
// 0600 even when it replaces a world-readable one.
func TestStateRoundTrip(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	st := &State{BaseURL: "https://h/v2/", ServiceSid: "VA1", Identity: "id-0001", FactorSid: "YF1", AccountSid: "AC1",
		CredentialSid: "CR1", FriendlyName: "Ana's phone", Status: "verified", NotificationPlatform: "none",
		Metadata: map[string]string{"os": "Android"}, ClockCorrection: -7200}
	if err := st.setKey(key); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "device.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(st)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Fatalf("round trip:\n%s\n%s", a, b)
	}
	k2, err := got.Key()
	if err != nil || !k2.Equal(key) {
		t.Fatalf("key after round trip: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); !os.IsNotExist(err) {
		t.Fatalf("Load of a missing file: %v", err)
	}
}

func TestNormalizeBaseURL(t *testing.T) {
	for _, in := range []string{"https://h:4010", "https://h:4010/", "https://h:4010/v2", "https://h:4010/v2/"} {
		if got := NormalizeBaseURL(in); got != "https://h:4010/v2/" {
			t.Errorf("NormalizeBaseURL(%q) = %q", in, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	if d, err := parseDate("d", "2020-02-19T16:39:57Z"); err != nil || d.Unix() != 1582130397 {
		t.Fatalf("parseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"2020-02-19T16:39:57.123Z", "2020-02-19T16:39:57+05:30", "2020-02-19T16:39:57-08:00", "2020-02-19 16:39:57Z", ""} {
		if _, err := parseDate("d", bad); err == nil {
			t.Errorf("parseDate(%q) accepted", bad)
		}
	}
}

// recorded is one request the fake server saw.
type recorded struct {
	method, path, query, body string
	header                    http.Header
}

// fake is a loopback HTTP server that answers with queued responses and
// records every request, for checking the bytes the device sends.
type fake struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	answers []func(w http.ResponseWriter)
}

func newFake(t *testing.T) *fake {
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b), r.Header.Clone()})
		var a func(http.ResponseWriter)
		if len(f.answers) > 0 {
			a, f.answers = f.answers[0], f.answers[1:]
		}
		f.mu.Unlock()
		if a == nil {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		a(w)
	}))
	t.Cleanup(f.Close)
	return f
}

// reply queues a response with the given status, headers ("K: v") and body.
func (f *fake) reply(status int, body string, headers ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, func(w http.ResponseWriter) {
		w.Header()["Date"] = nil // net/http adds Date unless told not to
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ": ")
			w.Header().Add(k, v)
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

const factorJSON = `{"sid":"YF0123456789abcdef0123456789abcdef","account_sid":"AC0123456789abcdef0123456789abcdef",
 "friendly_name":"Ana's phone","status":"unverified","date_created":"2024-01-02T03:04:05Z",
 "config":{"credential_sid":"CR0123456789abcdef0123456789abcdef","notification_platform":"none"},"metadata":{"os":"Android"}}`

// enrolled returns a client enrolled against f (one create-factor exchange).
func enrolled(t *testing.T, f *fake) *Client {
	t.Helper()
	f.reply(201, factorJSON)
	c := &Client{}
	if _, err := c.Enroll(context.Background(), f.URL, "VA1", "user-0001", "AT", "Ana's phone", "", "", nil); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.reqs = nil
	f.mu.Unlock()
	return c
}

// TestEnrollWire checks create factor on the wire and the response rules.
func TestEnrollWire(t *testing.T) {
	f := newFake(t)
	f.reply(201, factorJSON)
	c := &Client{}
	st, err := c.Enroll(context.Background(), f.URL+"/v2/", "VA1", "user-0001", "enrollment.token", "Ana's phone", "fcm", "fcm-token:1", map[string]string{"os": "Android"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.method != "POST" || r.path != "/v2/Services/VA1/Entities/user-0001/Factors" {
		t.Fatalf("request %s %s", r.method, r.path)
	}
	if r.header.Get("Authorization") != "Basic dG9rZW46ZW5yb2xsbWVudC50b2tlbg==" || r.header.Get("Accept") != "application/json" ||
		r.header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.header.Get("User-Agent") != DefaultUserAgent {
		t.Fatalf("headers %v", r.header)
	}
	if len(strings.Split(DefaultUserAgent, "; ")) != 9 {
		t.Fatalf("User-Agent %q does not have nine fields", DefaultUserAgent)
	}
	key, _ := st.Key()
	pub := spkiBase64(t, key)
	want := "FriendlyName=Ana's%20phone&FactorType=push&Binding.PublicKey=" + androidEncode(pub) +
		"&Binding.Alg=ES256&Config.SdkVersion=0.9.0&Config.AppId=io.verifyd.device&Config.NotificationPlatform=fcm" +
		"&Config.NotificationToken=fcm-token%3A1&Metadata=%7B%22os%22%3A%22Android%22%7D"
	if r.body != want {
		t.Fatalf("body\n got %s\nwant %s", r.body, want)
	}
	if !strings.HasPrefix(pub, "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE") || len(pub) != 124 {
		t.Fatalf("public key %q is not a P-256 SPKI", pub)
	}
	if st.FactorSid != "YF0123456789abcdef0123456789abcdef" || st.CredentialSid != "CR0123456789abcdef0123456789abcdef" ||
		st.AccountSid != "AC0123456789abcdef0123456789abcdef" || st.Status != "unverified" || st.NotificationPlatform != "none" ||
		st.BaseURL != f.URL+"/v2/" || st.DateCreated != "2024-01-02T03:04:05Z" || st.Metadata["os"] != "Android" || c.State != st {
		t.Fatalf("state %+v", st)
	}

	// No token: platform none and no Config.NotificationToken.
	f.reply(201, factorJSON)
	if _, err := c.Enroll(context.Background(), f.URL, "VA1", "user-0001", "AT", "x", "fcm", " ", nil); err != nil {
		t.Fatal(err)
	}
	if b := f.requests()[1].body; !strings.HasSuffix(b, "Config.NotificationPlatform=none") {
		t.Fatalf("no-token body %s", b)
	}

	// Responses the SDK refuses, and no retry even on a 401 with Date.
	for name, body := range map[string]string{
		"no credential_sid":  strings.Replace(factorJSON, `"credential_sid"`, `"credential"`, 1),
		"fractional seconds": strings.Replace(factorJSON, "05Z", "05.123Z", 1),
		"offset date":        strings.Replace(factorJSON, "05Z", "05-08:00", 1),
		"null friendly_name": strings.Replace(factorJSON, `"Ana's phone"`, "null", 1),
		"no account_sid":     strings.Replace(factorJSON, `"account_sid"`, `"acct"`, 1),
	} {
		f.reply(201, body)
		if _, err := c.Enroll(context.Background(), f.URL, "VA1", "user-0001", "AT", "x", "", "", nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	n := len(f.requests())
	f.reply(401, `{"code":20003,"message":"Authenticate","more_info":"x","status":401}`, "Date: "+time.Now().UTC().Format(http.TimeFormat))
	_, err = c.Enroll(context.Background(), f.URL, "VA1", "user-0001", "AT", "x", "", "", nil)
	var e *Error
	if !errors.As(err, &e) || e.Code != 20003 || e.Status != 401 || len(f.requests()) != n+1 {
		t.Fatalf("create factor after 401: %v, %d requests", err, len(f.requests())-n)
	}
}
