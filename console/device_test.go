package console

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/verifyd/verify"
	"github.com/verifyd/verify/internal/verifytest"
)

// deviceSetup is a console with a service in each account and a browser
// that open signs in to account A and takes to the device page.
type deviceSetup struct {
	e            *testEnv
	b            *browser
	mine, theirs *verify.Service
	page         string // the device page's HTML
}

var deviceCSRFData = regexp.MustCompile(`data-csrf="([^"]+)"`)

func newDeviceSetup(t *testing.T) *deviceSetup {
	t.Helper()
	d := &deviceSetup{e: newTestEnv(t, Config{})}
	for _, s := range []struct {
		acct verify.Sid
		name string
		dst  **verify.Service
	}{{acctA, "Mine", &d.mine}, {acctB, "Theirs", &d.theirs}} {
		name := s.name
		var err error
		if *s.dst, err = d.e.v.CreateService(d.e.ctx, s.acct, verify.ServiceParams{FriendlyName: &name}); err != nil {
			t.Fatal(err)
		}
	}
	d.b = d.e.browser()
	return d
}

// open signs in and opens the device page, whose script must get the
// session's CSRF token from its data-csrf.
func (d *deviceSetup) open() {
	t := d.e.t
	t.Helper()
	d.b.signIn(string(acctA), tokenA)
	status, page := d.b.get(Prefix + "/device")
	if status != http.StatusOK {
		t.Fatalf("GET /console/device: HTTP %d", status)
	}
	m := deviceCSRFData.FindStringSubmatch(page)
	if m == nil || html.UnescapeString(m[1]) != d.b.csrf {
		t.Fatalf("the device page's data-csrf is %q, want the session's token %q", m, d.b.csrf)
	}
	d.page = page
}

// deviceTokenReply is the token endpoint's answer, success or refusal.
type deviceTokenReply struct {
	status             int
	Token              string `json:"token"`
	ServiceSid         string `json:"service_sid"`
	Identity           string `json:"identity"`
	FactorFriendlyName string `json:"factor_friendly_name"`
	Code               int    `json:"code"`
	Message            string `json:"message"`
	raw                string
}

// token posts body to the token endpoint as the page's script does, with
// csrf in X-CSRF-Token unless it is empty.
func (d *deviceSetup) token(contentType, csrf, body string) deviceTokenReply {
	t := d.e.t
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, d.e.srv.URL+Prefix+"/device/token", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := d.b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := deviceTokenReply{status: resp.StatusCode, raw: string(b)}
	json.Unmarshal(b, &r)
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the token answer has Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	return r
}

func deviceTokenBody(service verify.Sid, identity string) string {
	b, _ := json.Marshal(map[string]string{"service": string(service), "identity": identity})
	return string(b)
}

// TestDevicePage checks what the page gives its script: the account's own
// services only, the session's CSRF token (checked by open) and the
// script itself, a file of the console's own as the policy requires.
func TestDevicePage(t *testing.T) {
	d := newDeviceSetup(t)
	if status, loc := d.b.get(Prefix + "/device"); status != http.StatusSeeOther || loc != Prefix+"/signin" {
		t.Errorf("signed out, GET /console/device: HTTP %d %s, want a redirect to sign in", status, loc)
	}
	d.open()
	for _, want := range []string{
		`<option value="` + string(d.mine.Sid) + `">`,
		`id="device-enroll"`, `id="device-log"`, `id="device-factor-sid"`, `id="device-status"`, `id="device-refresh"`,
		`data-account="` + string(acctA) + `"`,
		`<script src="/console/static/device.js" defer></script>`,
	} {
		if !strings.Contains(d.page, want) {
			t.Errorf("the device page lacks %s", want)
		}
	}
	if strings.Contains(d.page, string(d.theirs.Sid)) {
		t.Errorf("the device page offers another account's service %s", d.theirs.Sid)
	}
	if status, js := d.b.get(Prefix + "/static/device.js"); status != http.StatusOK || !strings.Contains(js, "Twilio-Verify-Signature-Fields") {
		t.Errorf("GET device.js: HTTP %d, %d bytes", status, len(js))
	}
}

// TestDeviceToken checks the enrollment token endpoint: it needs a
// session and its CSRF token, takes JSON only, mints tokens for the
// account's own services and valid identities only, and what it mints is
// a real enrollment token that creates a push factor once.
func TestDeviceToken(t *testing.T) {
	d := newDeviceSetup(t)
	good := deviceTokenBody(d.mine.Sid, "browser-0001")
	if r := d.token("application/json", "", good); r.status != http.StatusUnauthorized || r.Token != "" {
		t.Errorf("signed out: HTTP %d %s, want 401 without a token", r.status, r.raw)
	}
	d.open()
	csrf := d.b.csrf

	refusals := []struct {
		name, contentType, csrf, body string
		status, code                  int
	}{
		{"no CSRF token", "application/json", "", good, http.StatusForbidden, 0},
		{"a wrong CSRF token", "application/json", "not-" + csrf, good, http.StatusForbidden, 0},
		{"a form post", "application/x-www-form-urlencoded", csrf, "service=" + string(d.mine.Sid) + "&identity=browser-0001", http.StatusUnsupportedMediaType, 0},
		{"not JSON", "application/json", csrf, "service=x", http.StatusBadRequest, 0},
		{"an unknown member", "application/json", csrf, `{"service":"` + string(d.mine.Sid) + `","identity":"browser-0001","ttl":300}`, http.StatusBadRequest, 0},
		{"another account's service", "application/json", csrf, deviceTokenBody(d.theirs.Sid, "browser-0001"), http.StatusNotFound, verify.ENotFound},
		{"no such service", "application/json", csrf, deviceTokenBody("VA00000000000000000000000000000000", "browser-0001"), http.StatusNotFound, verify.ENotFound},
		{"not a service SID", "application/json", csrf, deviceTokenBody("../../etc", "browser-0001"), http.StatusNotFound, verify.ENotFound},
		{"no identity", "application/json", csrf, deviceTokenBody(d.mine.Sid, "  "), http.StatusBadRequest, verify.EAccessToken},
		{"a short identity", "application/json", csrf, deviceTokenBody(d.mine.Sid, "short"), http.StatusBadRequest, verify.EAccessToken},
		{"an identity with a slash", "application/json", csrf, deviceTokenBody(d.mine.Sid, "browser/0001"), http.StatusBadRequest, verify.EAccessToken},
	}
	for _, c := range refusals {
		r := d.token(c.contentType, c.csrf, c.body)
		if r.status != c.status || c.code != 0 && r.Code != c.code || r.Token != "" {
			t.Errorf("%s: HTTP %d %s, want %d (code %d) without a token", c.name, r.status, r.raw, c.status, c.code)
		}
	}

	r := d.token("application/json; charset=utf-8", csrf, deviceTokenBody(d.mine.Sid, " browser-0001 "))
	if r.status != http.StatusCreated || r.Token == "" || r.ServiceSid != string(d.mine.Sid) ||
		r.Identity != "browser-0001" || r.FactorFriendlyName != deviceFriendlyName {
		t.Fatalf("token: HTTP %d %s", r.status, r.raw)
	}

	// The token enrolls a push factor of account A at that service and
	// identity, named as the console asked, and only once.
	enroll := func(token string) (*verify.NewFactor, error) {
		_, pub := verifytest.DeviceKey(t)
		push, alg, sdk, app, none := "push", "ES256", "verifyd-console-1", "verifyd-console", verify.PlatformNone
		return d.e.v.EnrollFactor(d.e.ctx, token, d.mine.Sid, "browser-0001", verify.FactorParams{
			FactorType: &push, BindingAlg: &alg, BindingPublicKey: &pub,
			Config: verify.FactorConfig{SdkVersion: &sdk, AppID: &app, NotificationPlatform: &none},
		})
	}
	nf, err := enroll(r.Token)
	if err != nil {
		t.Fatalf("enrolling with the console's token: %v", err)
	}
	if nf.AccountSid != acctA || nf.Type != verify.FactorPush || nf.FriendlyName != deviceFriendlyName {
		t.Errorf("enrolled %+v", nf.Factor)
	}
	if _, err := enroll(r.Token); !verify.IsCode(err, verify.ENotAuthorized) {
		t.Errorf("a second enrollment with the same token: %v, want %d", err, verify.ENotAuthorized)
	}
}
