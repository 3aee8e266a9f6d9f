package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// pushDeviceTab is a tab on the console's push device page.
type pushDeviceTab struct {
	*tab
	shots string // where the page's screenshot goes
	seen  int    // the entries of the tab's log that faults has read
}

// openPushDeviceTab signs in to the console at base in a new tab of
// browser and opens the push device page.
func openPushDeviceTab(t *testing.T, browser context.Context, base string) *pushDeviceTab {
	t.Helper()
	p := &pushDeviceTab{tab: newTab(t, browser, 90*time.Second)}
	p.do(
		chromedp.Navigate(base+"/console/signin"),
		chromedp.SetValue(chromedp.CSS("#user"), DevAccountSid),
		chromedp.SetValue(chromedp.CSS("#secret"), DevAuthToken),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#services")),
		chromedp.Navigate(base+"/console/device"),
	)
	p.waitFor(`document.getElementById("device-app").dataset.state !== "loading"`)
	return p
}

// do is tab.do with the page's own log line in a failure.
func (p *pushDeviceTab) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%v (the page's log: %q)", err, p.logLine())
	}
}

// logLine is the page's status line, without failing: it explains other
// failures.
func (p *pushDeviceTab) logLine() string {
	v, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`(document.getElementById("device-log") || {}).textContent || ""`))
	return v
}

// waitFor waits until a JavaScript condition holds; the page polls the
// server every three seconds, so 20 s is several rounds.
func (p *pushDeviceTab) waitFor(cond string) {
	p.t.Helper()
	err := chromedp.Do(p.ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		p.t.Fatalf("waiting for %s: %v (the page's log: %q)", cond, err, p.logLine())
	}
}

// faults returns what the page reported to its console as faults since
// the last call: exceptions, errors (a request the API refused among
// them: the flow has none, not even a 401 for the clock), and
// Content-Security-Policy refusals. The browser's own request for a
// favicon, which the API answers 404, is not one.
func (p *pushDeviceTab) faults() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var f []string
	for _, m := range p.log[p.seen:] {
		if strings.HasSuffix(m.URL, "/favicon.ico") {
			continue
		}
		if m.IsException() || m.Type == chromedp.ConsoleError || strings.Contains(m.Text, "Content Security Policy") {
			f = append(f, m.String()+" at "+m.URL)
		}
	}
	p.seen = len(p.log)
	return f
}

// TestConsoleDeviceBrowser enrolls headless Chromium as a Verify Push
// device through the console's page, over the SDK protocol with a
// WebCrypto key, and checks each step from the other side through
// twilio-go: the factor is a verified push factor, a challenge created for
// it appears on the page, approving it there makes the API read
// "approved", the device survives a reload (IndexedDB), corrects a clock
// two hours ahead from the Date of a 401, a denial reads "denied", and
// forgetting the device deletes the factor.
func TestConsoleDeviceBrowser(t *testing.T) {
	path := chromiumPath(t)
	forEachBackend(t, func(t *testing.T, db string) {
		s := startServer(t, db, map[string]string{}, "--dev")
		// WebCrypto's subtle is for secure contexts only, which plain
		// HTTP is at localhost but not at 127.0.0.1.
		base := strings.Replace(s.base, "127.0.0.1", "localhost", 1)
		c := twilioClient(t, s, DevAccountSid, DevAuthToken)
		p := openPushDeviceTab(t, newBrowser(t, path), base)
		p.shots = screenshotDir(t, db)
		testPushDevice(t, p, c)
		if f := p.faults(); len(f) > 0 {
			t.Errorf("the page reported faults to its console:\n%s", strings.Join(f, "\n"))
		}
	})
}

func testPushDevice(t *testing.T, p *pushDeviceTab, c *openapi.ApiService) {
	const identity = "browser-device-0001"
	if state := tabEval[string](p.tab, `document.getElementById("device-app").dataset.state`); state != "none" {
		t.Fatalf("a new browser's device page is in state %q (log %q), want none", state, p.logLine())
	}

	// Enroll: the page gets a token from the console, creates the factor
	// with it and verifies it with the device's own signature.
	p.do(
		chromedp.SetValue(chromedp.CSS("#device-service"), DevServiceSid),
		chromedp.SetValue(chromedp.CSS("#device-identity"), identity),
		chromedp.Click(chromedp.CSS("#device-enroll")),
	)
	p.waitFor(`document.getElementById("device-status").textContent === "verified" || document.getElementById("device-log").classList.contains("error")`)
	factor := p.text("#device-factor-sid")
	if p.text("#device-status") != "verified" || !strings.HasPrefix(factor, "YF") {
		t.Fatalf("enroll: factor %q status %q, log %q", factor, p.text("#device-status"), p.logLine())
	}
	f, err := c.FetchFactor(DevServiceSid, identity, factor)
	if err != nil {
		t.Fatalf("FetchFactor: %v", err)
	}
	cfg, _ := deref(t, f.Config, "config").(map[string]any)
	if deref(t, f.Status, "status") != "verified" || deref(t, f.FactorType, "factor_type") != "push" ||
		deref(t, f.FriendlyName, "friendly_name") != "Browser" || cfg["notification_platform"] != "none" {
		t.Fatalf("the factor through the API: %+v, config %v", f, cfg)
	}

	// A challenge with a non-ASCII message, fields, hidden details and a
	// "/" (which the SDK's JSON escapes and a browser's does not) is
	// listed, answered by the device's signature and read back approved.
	approveSid := createPushDeviceChallenge(t, c, identity, factor, "Sign in to the console — from Zürich?")
	row := fmt.Sprintf(`document.querySelector('#device-challenges tr[data-challenge-sid=%q]')`, approveSid)
	p.waitFor(row + ` !== null`)
	if got := tabEval[string](p.tab, row+`.textContent`); !strings.Contains(got, "Sign in to the console — from Zürich?") ||
		!strings.Contains(got, "Location: https://example.com/login") {
		t.Errorf("the challenge's row reads %q", got)
	}
	screenshot(t, p.ctx, p.shots, "device")
	p.answer(t, c, identity, factor, approveSid, "approve", "approved")

	// Reload: the device comes back from IndexedDB with its key.
	p.do(chromedp.Reload())
	p.waitFor(`document.getElementById("device-app").dataset.state === "enrolled"`)
	if got := p.text("#device-factor-sid"); got != factor {
		t.Fatalf("after a reload the page shows factor %q, want %s", got, factor)
	}
	if f := p.faults(); len(f) > 0 {
		t.Errorf("the page reported faults to its console:\n%s", strings.Join(f, "\n"))
	}

	// Put the device's clock two hours ahead: its JWTs are refused with a
	// 401 that carries the server's Date, from which it corrects its clock
	// (kept in IndexedDB) and retries, as the SDK does. The test waits for
	// the Refresh button's listing to come back, so that no poll minted
	// before the clock moved is still in flight; then Refresh lists a new
	// challenge, which is denied.
	tabEval[chromedp.Void](p.tab, `{ const now = Date.now.bind(Date); Date.now = () => now() + 2 * 3600 * 1000; }`)
	tabEval[chromedp.Void](p.tab, `document.getElementById("device-log").textContent = ""`)
	p.do(chromedp.Click(chromedp.CSS("#device-refresh")))
	p.waitFor(`document.getElementById("device-log").textContent.startsWith("Refreshed:") || document.getElementById("device-log").classList.contains("error")`)
	if log := p.logLine(); !strings.HasPrefix(log, "Refreshed:") {
		t.Fatalf("Refresh with the clock ahead: the page says %q", log)
	}
	refused := p.faults()
	for _, f := range refused {
		if !strings.Contains(f, "status of 401") {
			t.Errorf("with the clock ahead the page reported %s, want only the 401s that taught it the time", f)
		}
	}
	if len(refused) == 0 {
		t.Errorf("with the clock two hours ahead no request was refused")
	}
	correction := tabEval[float64](p.tab, `new Promise((resolve, reject) => {
		const open = indexedDB.open("verifyd-console-device");
		open.onerror = () => reject(open.error);
		open.onsuccess = () => {
			const get = open.result.transaction("devices").objectStore("devices").get(`+fmt.Sprintf("%q", DevAccountSid)+`);
			get.onsuccess = () => resolve(get.result.clockCorrection);
			get.onerror = () => reject(get.error);
		};
	})`)
	if correction > -7200+60 || correction < -7200-60 {
		t.Errorf("the device keeps a clock correction of %v s, want about -7200", correction)
	}
	denySid := createPushDeviceChallenge(t, c, identity, factor, "Delete the account?")
	p.do(chromedp.Click(chromedp.CSS("#device-refresh")))
	row = fmt.Sprintf(`document.querySelector('#device-challenges tr[data-challenge-sid=%q]')`, denySid)
	p.waitFor(row + ` !== null`)
	if f := p.faults(); len(f) > 0 {
		t.Errorf("with the clock corrected the page reported faults:\n%s", strings.Join(f, "\n"))
	}
	p.answer(t, c, identity, factor, denySid, "deny", "denied")

	// Forget: the factor is deleted on the server with the device's JWT,
	// and the page offers to enroll again, also after a reload.
	tabEval[chromedp.Void](p.tab, `window.confirm = () => true`)
	p.do(chromedp.Click(chromedp.CSS("#device-forget")))
	p.waitFor(`document.getElementById("device-app").dataset.state === "none" || document.getElementById("device-log").classList.contains("error")`)
	if _, err := c.FetchFactor(DevServiceSid, identity, factor); err == nil {
		t.Fatalf("the factor %s is still there after Forget (page log %q)", factor, p.logLine())
	} else {
		wantTwilioError(t, err, 20404, 404)
	}
	p.do(chromedp.Reload())
	p.waitFor(`document.getElementById("device-app").dataset.state !== "loading"`)
	if state := tabEval[string](p.tab, `document.getElementById("device-app").dataset.state`); state != "none" {
		t.Errorf("after Forget and a reload the page is in state %q", state)
	}
}

// createPushDeviceChallenge creates a push challenge for the factor as a
// backend does, with twilio-go.
// answer clicks the button (approve or deny) of challenge sid's row, waits
// for the row to go, and checks that the page and twilio-go both read the
// challenge as status.
func (p *pushDeviceTab) answer(t *testing.T, c *openapi.ApiService, identity, factor, sid, button, status string) {
	t.Helper()
	row := fmt.Sprintf(`document.querySelector('#device-challenges tr[data-challenge-sid=%q]')`, sid)
	p.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#device-challenges tr[data-challenge-sid=%q] button.%s`, sid, button))))
	p.waitFor(row + ` === null || document.getElementById("device-log").classList.contains("error")`)
	if log := p.logLine(); log != "Challenge "+sid+" "+status+"." {
		t.Fatalf("%s: the page says %q", button, log)
	}
	wantPushDeviceStatus(t, c, identity, sid, factor, status)
}

func createPushDeviceChallenge(t *testing.T, c *openapi.ApiService, identity, factor, message string) string {
	t.Helper()
	ch, err := c.CreateChallenge(DevServiceSid, identity, new(openapi.CreateChallengeParams).
		SetFactorSid(factor).
		SetDetailsMessage(message).
		SetDetailsFields([]any{map[string]any{"label": "Location", "value": "https://example.com/login"}}).
		SetHiddenDetails(map[string]any{"ip": "203.0.113.7"}))
	if err != nil {
		t.Fatalf("CreateChallenge: %v", err)
	}
	if deref(t, ch.Status, "status") != "pending" {
		t.Fatalf("a new challenge is %q", *ch.Status)
	}
	return deref(t, ch.Sid, "sid")
}

// wantPushDeviceStatus checks through twilio-go that the page's answer
// reached the server.
func wantPushDeviceStatus(t *testing.T, c *openapi.ApiService, identity, sid, factor, status string) {
	t.Helper()
	ch, err := c.FetchChallenge(DevServiceSid, identity, sid)
	if err != nil {
		t.Fatalf("FetchChallenge %s: %v", sid, err)
	}
	if deref(t, ch.Status, "status") != status || deref(t, ch.FactorSid, "factor_sid") != factor || ch.DateResponded == nil {
		t.Fatalf("challenge %s through the API: status %q, factor %v, responded %v; want %s", sid, *ch.Status, ch.FactorSid, ch.DateResponded, status)
	}
}
