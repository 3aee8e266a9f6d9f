package passkeydemo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/verifyd/verify"
	"github.com/verifyd/verify/api"
	"github.com/verifyd/verify/internal/verifytest"
	"github.com/verifyd/verify/sqlstore"
)

// closedAPI returns the base URL of a port nothing listens on: a request
// the backend passes on fails there with a 502, which tells it apart from
// the backend's own refusals. The whole flow against a real verifyd is
// cmd/verifyd's TestPasskeyDemoBrowser.
func closedAPI(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	return base
}

func testHandler(t *testing.T) http.Handler {
	return Handler(Config{APIBase: closedAPI(t), AccountSid: "AC00000000000000000000000000000000",
		AuthToken: "devtokendevtokendevtokendevtoken", ServiceSid: "VA00000000000000000000000000000000"})
}

// TestPasskeyDemoPage: the page loads its script and style from files,
// under a policy that forbids inline script, and has every element the
// script and the browser test use.
func TestPasskeyDemoPage(t *testing.T) {
	h := testHandler(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", Prefix, nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	body, js := rec.Body.String(), string(mustRead(t, "demo.js"))
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1)
	if len(scripts) != 1 || scripts[0] != `<script src="/dev/passkeys/demo.js" defer>` {
		t.Errorf("script tags: %q", scripts)
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(body) {
		t.Error("the page has an inline event handler")
	}
	for _, id := range []string{"identity", "register", "login-username", "login-discoverable", "replay",
		"factor-sid", "factor-status", "challenge-sid", "challenge-status", "challenge-identity",
		"challenge-factor", "replay-status", "replay-message", "error", "json-mode"} {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("no element #%s", id)
		}
		if id != "identity" && !strings.Contains(js, `"`+id+`"`) {
			t.Errorf("demo.js never uses #%s", id)
		}
	}
	if !strings.Contains(body, "VA00000000000000000000000000000000") {
		t.Error("the page does not name the service")
	}
	for file, typ := range map[string]string{"demo.js": "text/javascript", "demo.css": "text/css"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", Prefix+"/"+file, nil))
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), typ) ||
			rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Body.Len() == 0 {
			t.Errorf("%s: %d %v", file, rec.Code, rec.Header())
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", Prefix+"/page.html", nil))
	if rec.Code != 404 {
		t.Errorf("the template itself is served: %d", rec.Code)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := files.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPasskeyDemoRefusals: the backend answers what it cannot pass on with
// a 4xx JSON error of its own, before any call to the API (which would be
// a 502 here), and a good request does reach the API.
func TestPasskeyDemoRefusals(t *testing.T) {
	h := testHandler(t)
	const origin = "http://localhost:8080"
	big := `{"identity":"` + strings.Repeat("a", maxBody) + `"}`
	for _, c := range []struct {
		name, method, path, contentType, origin, body string
		status                                        int
		message                                       string
	}{
		{"GET", "GET", "register/start", "application/json", origin, "", 405, "POST"},
		{"form", "POST", "register/start", "application/x-www-form-urlencoded", origin, "identity=user-1234", 415, "application/json"},
		{"too large", "POST", "register/finish", "application/json", origin, big, 413, "larger"},
		{"not JSON", "POST", "register/start", "application/json", origin, `{"identity":`, 400, "not a JSON object"},
		{"array", "POST", "login/finish", "application/json", origin, `[{"id":"x"}]`, 400, "not a JSON object"},
		{"string", "POST", "login/start", "application/json", origin, `"user-1234"`, 400, "not a JSON object"},
		{"wrong type", "POST", "login/start", "application/json", origin, `{"identity":12345678}`, 400, "identity"},
		{"no Origin", "POST", "register/start", "application/json", "", `{"identity":"user-1234"}`, 400, "Origin"},
		{"opaque Origin", "POST", "login/start", "application/json", "null", `{}`, 400, "not a web origin"},
		{"other site", "POST", "register/start", "application/json", "https://evil.example", `{"identity":"user-1234"}`, 403, "its own page"},
		{"IP address", "POST", "register/start", "application/json", "http://127.0.0.1:8080", `{"identity":"user-1234"}`, 400, "http://localhost:8080/dev/passkeys"},
		{"unknown call", "POST", "delete-everything", "application/json", origin, `{}`, 404, "no such demo call"},
		// These pass every check, and fail only at the closed API.
		{"passed on", "POST", "register/start", "application/json; charset=utf-8", origin, `{"identity":"user-1234"}`, 502, "did not answer"},
		{"finish passed on", "POST", "login/finish", "application/json", origin, `{"id":"AQ","response":{}}`, 502, "did not answer"},
		{"discoverable passed on", "POST", "login/start", "application/json", origin, `{}`, 502, "did not answer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, Prefix+"/api/"+c.path, strings.NewReader(c.body))
			req.Host = strings.TrimPrefix(strings.TrimPrefix(c.origin, "http://"), "https://")
			if c.name == "other site" || c.origin == "" || c.origin == "null" {
				req.Host = "localhost:8080"
			}
			req.Header.Set("Content-Type", c.contentType)
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var answer struct {
				Status  int    `json:"status"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%d, not a JSON answer (%v): %q", rec.Code, err, rec.Body)
			}
			if rec.Code != c.status || answer.Status != c.status || !strings.Contains(answer.Message, c.message) {
				t.Errorf("%d %+v, want %d with %q", rec.Code, answer, c.status, c.message)
			}
			if c.status == 405 && rec.Header().Get("Allow") != "POST" {
				t.Errorf("Allow = %q", rec.Header().Get("Allow"))
			}
		})
	}
}

// The account and service of the demo, as verifyd --dev has them.
const (
	devAccount = "AC00000000000000000000000000000000"
	devToken   = "devtokendevtokendevtokendevtoken"
	devService = "VA00000000000000000000000000000000"
)

// realVerifyd serves the real Verify API on 127.0.0.1, over a real SQLite
// file in t.TempDir(), with the development account and its "Dev"
// service, as verifyd --dev starts. wrap, if not nil, is put in front of
// the API's handler. It returns the API's base URL and its Verifier.
func realVerifyd(t *testing.T, wrap func(http.Handler) http.Handler) (string, *verify.Verifier) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, verifytest.DSN(t, verifytest.SQLite), randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PutAccount(ctx, &verify.Account{Sid: devAccount, TokenHash: verify.HashToken(devToken), DateCreated: time.Now().UTC().Truncate(time.Second)}); err != nil {
		t.Fatal(err)
	}
	v := &verify.Verifier{Store: db, Now: time.Now, Rand: rand.Reader, TokenKey: randomKey(t)}
	name := "Dev"
	if _, err := v.CreateServiceSid(ctx, devAccount, devService, verify.ServiceParams{FriendlyName: &name}); err != nil {
		t.Fatal(err)
	}
	srv := &api.Server{Verifier: v, Now: time.Now}
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewUnstartedServer(h) // listens on 127.0.0.1
	srv.BaseURL = "http://" + ts.Listener.Addr().String()
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL, v
}

func randomKey(t *testing.T) []byte {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

// settingsWrites stands in front of the real API's handler and only
// records the Passkeys.RelyingParty.Id of each POST to the service's own
// URL, a write of its settings, before passing the request on as it came.
type settingsWrites struct {
	next http.Handler
	path string

	mu  sync.Mutex
	ids []string
}

func (s *settingsWrites) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == s.path {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		id := "(unreadable body: " + fmt.Sprint(err) + ")"
		if q, perr := url.ParseQuery(string(body)); err == nil && perr == nil {
			id = q.Get("Passkeys.RelyingParty.Id")
		}
		s.mu.Lock()
		s.ids = append(s.ids, id)
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	s.next.ServeHTTP(w, r)
}

func (s *settingsWrites) written() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids)
}

// demoCall POSTs body to the demo backend's call as the page at host
// does, and returns the status and the JSON object answered.
func demoCall(t *testing.T, h http.Handler, call, host, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("POST", Prefix+"/api/"+call, strings.NewReader(body))
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://"+host)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var answer map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		t.Errorf("%s at %s: %d, not a JSON object (%v): %q", call, host, rec.Code, err, rec.Body)
	}
	return rec.Code, answer
}

// rpIDOf is the rpId of a passkeys challenge's request options.
func rpIDOf(answer map[string]any) any {
	options, _ := answer["options"].(map[string]any)
	publicKey, _ := options["publicKey"].(map[string]any)
	return publicKey["rpId"]
}

// TestPasskeyDemoSettingsWrittenOnce: a discoverable login sets the
// service's Passkeys settings only when they differ from what the backend
// set last: once for many logins, even concurrent ones, again for another
// relying party, and again after a write that failed. A login for an
// identity never writes them. The backend talks to the real Verify API,
// which creates every challenge and refuses a relying party it must.
func TestPasskeyDemoSettingsWrittenOnce(t *testing.T) {
	writes := &settingsWrites{path: "/v2/Services/" + devService}
	base, v := realVerifyd(t, func(next http.Handler) http.Handler {
		writes.next = next
		return writes
	})
	h := Handler(Config{APIBase: base, AccountSid: devAccount, AuthToken: devToken, ServiceSid: devService})
	// expect wants the settings written so far for the relying parties
	// want, in order, refused writes included.
	expect := func(what string, want ...string) {
		t.Helper()
		if got := writes.written(); !slices.Equal(got, want) {
			t.Errorf("%s: settings written for %q, want %q", what, got, want)
		}
	}
	// stored wants the service's relying party id, as the Verifier reads
	// it from the database, to be id.
	stored := func(what, id string) {
		t.Helper()
		svc, err := v.FetchService(context.Background(), devAccount, devService)
		if err != nil {
			t.Fatal(err)
		}
		if svc.Passkeys.RelyingPartyID != id {
			t.Errorf("%s: the service's relying party id is %q, want %q", what, svc.Passkeys.RelyingPartyID, id)
		}
	}
	// login starts a login at host and wants the challenge the real API
	// creates, for the relying party rpID.
	login := func(host, body, rpID string) {
		t.Helper()
		code, answer := demoCall(t, h, "login/start", host, body)
		if sid, _ := answer["sid"].(string); code != http.StatusCreated || !strings.HasPrefix(sid, "YC") || rpIDOf(answer) != rpID {
			t.Errorf("login at %s with %s: %d %v, want 201 and a challenge for %q", host, body, code, answer, rpID)
		}
	}

	// A passkey for user-1234, registered through the demo with a
	// software authenticator, so that the login with a username has a
	// factor to challenge. Registration names its relying party in the
	// factor's config: it writes no settings either.
	auth, cred := virtualwebauthn.NewAuthenticator(), verifytest.PasskeyCredential(t)
	code, answer := demoCall(t, h, "register/start", "localhost:8080", `{"identity":"user-1234"}`)
	if code != http.StatusCreated {
		t.Fatalf("register/start: %d %v", code, answer)
	}
	options, err := virtualwebauthn.ParseAttestationOptions(string(mustJSON(answer["options"])))
	if err != nil {
		t.Fatal(err)
	}
	auth.Options.UserHandle = []byte(options.UserID)
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: rpName, Origin: "http://localhost:8080"}
	if code, answer = demoCall(t, h, "register/finish", "localhost:8080", virtualwebauthn.CreateAttestationResponse(rp, auth, cred, *options)); code != http.StatusOK || answer["status"] != "verified" {
		t.Fatalf("register/finish: %d %v", code, answer)
	}
	expect("registration")
	stored("registration", "")

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { login("localhost:8080", `{}`, "localhost") })
	}
	wg.Wait()
	expect("8 concurrent logins", "localhost")
	stored("8 concurrent logins", "localhost")
	login("localhost:8080", `{}`, "localhost")
	login("localhost:8080", `{"identity":"user-1234"}`, "localhost")
	expect("two more logins", "localhost")

	login("demo.localhost:8080", `{}`, "demo.localhost")
	login("demo.localhost:8080", `{}`, "demo.localhost")
	expect("another relying party", "localhost", "demo.localhost")
	stored("another relying party", "demo.localhost")
	login("localhost:8080", `{}`, "localhost")
	expect("the first one again", "localhost", "demo.localhost", "localhost")
	stored("the first one again", "localhost")

	// A single-label host name (a machine's bare name) passes the
	// backend's checks, but the API refuses it as a relying party id: the
	// backend answers the API's refusal, and the settings stay as they were.
	code, answer = demoCall(t, h, "login/start", "devbox:8080", `{}`)
	if want := api.StatusOf(verify.EPasskeyRPID); code != want || code/100 != 4 || answer["code"] != float64(verify.EPasskeyRPID) || answer["status"] != float64(want) {
		t.Errorf("login with refused settings: %d %v, want the API's %d with code %d", code, answer, want, verify.EPasskeyRPID)
	}
	expect("a refused write", "localhost", "demo.localhost", "localhost", "devbox")
	stored("a refused write", "localhost")
	login("localhost:8080", `{}`, "localhost")
	expect("after a refused write", "localhost", "demo.localhost", "localhost", "devbox", "localhost")
	stored("after a refused write", "localhost")
}
