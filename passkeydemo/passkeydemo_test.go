package passkeydemo

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
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
