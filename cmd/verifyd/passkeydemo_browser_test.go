package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// demoPage is one tab on the demo page with a virtual authenticator: a
// platform one (transport internal) that keeps discoverable credentials
// and verifies its user without asking, like a laptop's passkey store.
type demoPage struct {
	*tab
	auth webauthn.AuthenticatorID
}

// openDemoPage opens url in a new tab of browser, after giving the tab its
// virtual authenticator.
func openDemoPage(t *testing.T, browser context.Context, url string) *demoPage {
	t.Helper()
	p := &demoPage{tab: newTab(t, browser, 60*time.Second)}
	ctx := p.ctx
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	added, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	p.auth = added.AuthenticatorID
	p.do(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#register")))
	return p
}

// click presses a button and waits for the action it starts to end (the
// page counts ended actions in body[data-done]), then returns the text of
// every element with an id.
func (p *demoPage) click(button string) map[string]string {
	p.t.Helper()
	done := tabEval[string](p.tab, `document.body.dataset.done`)
	n, err := strconv.Atoi(done)
	if err != nil {
		p.t.Fatalf("body[data-done] = %q", done)
	}
	err = chromedp.Do(p.ctx,
		chromedp.Click(chromedp.CSS(button)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`Number(document.body.dataset.done) > %d`, n), chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		p.t.Fatalf("%s: the action did not end: %v (the page shows error %q)", button, err, tabEval[string](p.tab, `document.getElementById("error").textContent`))
	}
	return tabEval[map[string]string](p.tab, `Object.fromEntries([...document.querySelectorAll("[id]")].map((e) => [e.id, e.textContent]))`)
}

// credentials returns what the virtual authenticator holds.
func (p *demoPage) credentials() []*webauthn.Credential {
	p.t.Helper()
	res, err := chromedp.Call(p.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: p.auth})
	if err != nil {
		p.t.Fatalf("WebAuthn.getCredentials: %v", err)
	}
	return res.Credentials
}

// TestPasskeyDemoBrowser drives the demo page in headless Chromium with a
// virtual platform authenticator, on a --dev server: it registers a
// passkey, logs in with the username and then without one, and checks each
// result the page shows against the API through twilio-go, and the
// authenticator's own record of what it did. It runs twice per backend:
// once with the browser's WebAuthn JSON helpers, once with them deleted,
// so that the page's fallback is exercised too.
func TestPasskeyDemoBrowser(t *testing.T) {
	path := chromiumPath(t)
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, map[string]string{}, "--dev")
		// WebAuthn refuses an IP address as relying party; localhost is a
		// domain and, over plain HTTP, still a secure context.
		url := strings.Replace(s.base, "127.0.0.1", "localhost", 1) + "/dev/passkeys"
		c := twilioClient(t, s, DevAccountSid, DevAuthToken)
		browser := newBrowser(t, path)
		for i, mode := range []string{"native", "fallback"} {
			t.Run(mode, func(t *testing.T) {
				testDemoFlow(t, openDemoPage(t, browser, url), c, mode, fmt.Sprintf("browser-user-%d", i))
			})
		}
	})
}

func testDemoFlow(t *testing.T, p *demoPage, c *openapi.ApiService, mode, identity string) {
	if mode == "fallback" {
		tabEval[chromedp.Void](p.tab, `delete PublicKeyCredential.parseCreationOptionsFromJSON;
			delete PublicKeyCredential.parseRequestOptionsFromJSON;
			delete PublicKeyCredential.prototype.toJSON;`)
	}
	p.do(chromedp.SetValue(chromedp.CSS("#identity"), identity))

	page := p.click("#register")
	factor := page["factor-sid"]
	if page["error"] != "" || !strings.HasPrefix(factor, "YF") || page["factor-status"] != "verified" {
		t.Fatalf("register: factor %q %q, error %q", factor, page["factor-status"], page["error"])
	}
	if page["json-mode"] != mode {
		t.Errorf("the page used the %q WebAuthn JSON, want %q", page["json-mode"], mode)
	}
	f, err := c.FetchFactor(DevServiceSid, identity, factor)
	if err != nil || deref(t, f.Status, "status") != "verified" || deref(t, f.FactorType, "factor_type") != "passkeys" {
		t.Fatalf("the factor through the API: %+v, %v", f, err)
	}
	creds := p.credentials()
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" || len(creds[0].UserHandle) == 0 {
		t.Fatalf("the authenticator holds %+v, want one discoverable credential for localhost", creds)
	}

	// Log in with the username, then replay that assertion: the API must
	// refuse it, and the challenge stays as the first approval left it.
	page = p.click("#login-username")
	byName := wantApproved(t, c, page, identity, factor)
	page = p.click("#replay")
	if code, err := strconv.Atoi(page["replay-status"]); err != nil || code < 400 || code >= 500 || !strings.Contains(page["replay-message"], "Twilio error 60322") {
		t.Errorf("replayed assertion: HTTP %q %q, want a 4xx refusal with code 60322", page["replay-status"], page["replay-message"])
	}
	if ch, err := c.FetchChallenge(DevServiceSid, identity, byName); err != nil || deref(t, ch.Status, "status") != "approved" {
		t.Errorf("after the replay: %+v, %v", ch, err)
	}

	// Log in without a username: the field is cleared, so only the
	// credential can say whose the login is.
	p.do(chromedp.Clear(chromedp.CSS("#identity")))
	page = p.click("#login-discoverable")
	if discovered := wantApproved(t, c, page, identity, factor); discovered == byName {
		t.Errorf("the discoverable login reused challenge %s", byName)
	}
	if creds := p.credentials(); len(creds) != 1 || creds[0].SignCount < 2 {
		t.Errorf("after two logins the authenticator holds %+v, want one credential that signed twice", creds)
	}
}

// wantApproved checks that the page shows an approved challenge of
// identity's factor, and that the API, asked through twilio-go, agrees; it
// returns the challenge's SID.
func wantApproved(t *testing.T, c *openapi.ApiService, page map[string]string, identity, factor string) string {
	t.Helper()
	sid := page["challenge-sid"]
	if page["error"] != "" || !strings.HasPrefix(sid, "YC") || page["challenge-status"] != "approved" ||
		page["challenge-identity"] != identity || page["challenge-factor"] != factor {
		t.Fatalf("login: challenge %q %q for %q %q, error %q; want approved for %s %s",
			sid, page["challenge-status"], page["challenge-identity"], page["challenge-factor"], page["error"], identity, factor)
	}
	ch, err := c.FetchChallenge(DevServiceSid, identity, sid)
	if err != nil {
		t.Fatalf("FetchChallenge %s: %v", sid, err)
	}
	if deref(t, ch.Status, "status") != "approved" || deref(t, ch.FactorSid, "factor_sid") != factor ||
		deref(t, ch.FactorType, "factor_type") != "passkeys" || ch.DateResponded == nil {
		t.Fatalf("the challenge through the API: %+v", ch)
	}
	return sid
}
