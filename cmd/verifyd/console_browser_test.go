package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	v2010 "github.com/twilio/twilio-go/rest/api/v2010"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifyd/verify/otp"
	"github.com/verifyd/verify/sqlstore"
)

// The console test's data: a service with enough entities for twenty
// pages of the console's fifty, and the one the test searches for, enrolls
// a TOTP factor for and opens.
const (
	consoleEntities = 1000
	consolePageSize = 50
	consoleService  = "Acme sign-in"
	consoleTarget   = "user-0537"
)

// TestConsoleBrowser drives the console in headless Chromium on a --dev
// server, as a person would: it signs in, pages through a thousand
// entities and back, searches one, enrolls a TOTP factor by scanning the
// QR code the page shows, creates an API key and reads the development
// inbox, checking each page against the API through twilio-go. It then
// checks what keeps one browser's session to itself: the CSRF token, the
// cookie's flags, the security headers, another account that cannot reach
// these pages, and a sign-out that ends the session on the server. On the
// way it takes a screenshot of each main page; with
// VERIFYD_CONSOLE_SCREENSHOTS set to a directory (docs/console) the SQLite
// run writes them there, else they go to a temporary directory, so that
// every run still checks that they can be taken.
func TestConsoleBrowser(t *testing.T) {
	path := chromiumPath(t)
	forEachBackend(t, func(t *testing.T, db string) {
		r := newConsoleRun(t, path, db, screenshotDir(t, db))
		r.signIn()
		r.entities()
		r.entity()
		r.totp()
		r.keys()
		r.inbox()
		r.csrf()
		r.otherAccount()
		r.signOut()
		for _, p := range r.tabs {
			if bad := p.problems(); len(bad) > 0 {
				t.Errorf("the pages logged errors:\n%s", strings.Join(bad, "\n"))
			}
		}
	})
}

// consoleRun is one run of the console test: the server, the browser tab
// signed in to the development account, and what the steps learn for the
// next ones.
type consoleRun struct {
	t       *testing.T
	s       *server
	base    string // as the browser opens it: http://localhost:PORT
	c       *openapi.ApiService
	browser context.Context
	p       *tab   // the development account's browser
	tabs    []*tab // every tab opened, p first
	shots   string
	service string   // the SID of consoleService
	order   []string // its entities' identities, in the API's order
	factor  string   // the TOTP factor enrolled for consoleTarget
}

func newConsoleRun(t *testing.T, path, db, shots string) *consoleRun {
	// A server started with the other account's credentials creates it;
	// the --dev server that follows keeps it beside the development one.
	startServer(t, db, accountEnv(otherAccount, otherToken)).stop()
	s := startServer(t, db, map[string]string{}, "--dev")
	r := &consoleRun{t: t, s: s, c: twilioClient(t, s, DevAccountSid, DevAuthToken), shots: shots,
		// localhost, not 127.0.0.1: the address a person opens.
		base: strings.Replace(s.base, "127.0.0.1", "localhost", 1)}
	svc, err := r.c.CreateService(new(openapi.CreateServiceParams).SetFriendlyName(consoleService))
	if err != nil {
		t.Fatal(err)
	}
	r.service = *svc.Sid
	start := time.Now()
	r.order = createEntities(t, r.c, r.service, consoleEntities)
	t.Logf("%d entities created in %v", consoleEntities, time.Since(start).Round(time.Millisecond))
	r.browser = newBrowser(t, path)
	r.p = r.newTab(3 * time.Minute)
	return r
}

// newTab opens another browser, as far as cookies go, for timeout at most.
func (r *consoleRun) newTab(timeout time.Duration) *tab {
	p := newTab(r.t, r.browser, timeout)
	r.tabs = append(r.tabs, p)
	return p
}

// createEntities creates identities user-0000… in service, many at once,
// and returns them in the order the API lists them.
func createEntities(t *testing.T, c *openapi.ApiService, service string, n int) []string {
	t.Helper()
	ids := make(chan string)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for id := range ids {
				if _, err := c.CreateEntity(service, new(openapi.CreateEntityParams).SetIdentity(id)); err != nil {
					errs <- fmt.Errorf("%s: %w", id, err)
				}
			}
		})
	}
	for i := range n {
		ids <- fmt.Sprintf("user-%04d", i)
	}
	close(ids)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	list, err := c.ListEntity(service, new(openapi.ListEntityParams).SetPageSize(1000))
	if err != nil {
		t.Fatal(err)
	}
	order := make([]string, len(list))
	for i, e := range list {
		order[i] = deref(t, e.Identity, "identity")
	}
	if len(order) != n {
		t.Fatalf("the API lists %d entities, want %d", len(order), n)
	}
	return order
}

// url is the browser's address of a console path.
func (r *consoleRun) url(path string) string { return r.base + path }

func (r *consoleRun) servicePath() string { return "/console/services/" + r.service }

func (r *consoleRun) entityPath() string { return r.servicePath() + "/entities/" + consoleTarget }

// want checks a page's response: its status, the path it ended on after
// any redirect, and the headers every console answer carries.
func (r *consoleRun) want(resp *network.Response, status int, path string) {
	r.t.Helper()
	u, err := url.Parse(resp.URL)
	if err != nil || int(resp.Status) != status || u.Path != path {
		r.t.Fatalf("got HTTP %d at %s, want %d at %s", resp.Status, resp.URL, status, path)
	}
	wantSecurityHeaders(r.t, resp.URL, func(name string) string {
		for k, v := range resp.Headers {
			if strings.EqualFold(k, name) {
				s, _ := v.(string)
				return s
			}
		}
		return ""
	})
}

// wantSecurityHeaders checks the headers of a console answer: a CSP that
// allows no inline script or style, no framing, no referrer to other sites.
func wantSecurityHeaders(t *testing.T, where string, header func(string) string) {
	t.Helper()
	csp := header("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", where, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-") {
		t.Errorf("%s: Content-Security-Policy %q allows unsafe sources", where, csp)
	}
	if got := header("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s: X-Frame-Options = %q", where, got)
	}
	switch got := header("Referrer-Policy"); got {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("%s: Referrer-Policy = %q", where, got)
	}
}

// signInAs fills the sign-in form of p and sends it.
func (r *consoleRun) signInAs(p *tab, user, secret string) *network.Response {
	r.t.Helper()
	p.do(chromedp.SetValue(chromedp.CSS("#user"), user), chromedp.SetValue(chromedp.CSS("#secret"), secret))
	return p.click("#signin")
}

// signIn: the console sends a browser without a session to the sign-in
// page, refuses a wrong token, and signs the right one in to the services
// page, with one cookie that scripts cannot read and other sites cannot
// send.
func (r *consoleRun) signIn() {
	t, p := r.t, r.p
	r.want(p.open(r.url("/console/services")), http.StatusOK, "/console/signin")
	r.shot("signin")

	r.want(r.signInAs(p, DevAccountSid, "wrongtokenwrongtokenwrongtoken00"), http.StatusUnauthorized, "/console/signin")
	if got := p.text("#error"); !strings.Contains(got, "refused") {
		t.Errorf("a wrong token: the page says %q", got)
	}
	if p.has("#signout") {
		t.Fatal("a wrong token signed in")
	}

	r.want(r.signInAs(p, DevAccountSid, DevAuthToken), http.StatusOK, "/console/services")
	if who := p.text("#who"); who != DevAccountSid {
		t.Errorf("signed in as %q, want %s", who, DevAccountSid)
	}
	if !p.has(`#services a[href="/console/services/`+DevServiceSid+`"]`) || !slices.Contains(p.texts("#services tbody td:first-child"), "Dev") {
		t.Errorf("the services page does not list the Dev service: %q", p.texts("#services tbody tr"))
	}
	r.shot("services")

	cookies := p.cookies(r.url("/console/"))
	if len(cookies) != 1 {
		t.Fatalf("after sign-in the browser holds %d console cookies, want the session's alone: %v", len(cookies), cookies)
	}
	for _, k := range cookies {
		if !k.HTTPOnly || k.SameSite != network.CookieSameSiteStrict || k.Path != "/console/" || k.Secure {
			t.Errorf("session cookie %s: HttpOnly %v, SameSite %q, Path %q, Secure %v; want HttpOnly, Strict, /console/, not Secure over plain HTTP",
				k.Name, k.HTTPOnly, k.SameSite, k.Path, k.Secure)
		}
	}
}

// entities pages forward through the service's thousand entities and back,
// and searches one: each page shows fifty, in the API's order, and every
// entity is seen exactly once.
func (r *consoleRun) entities() {
	t, p := r.t, r.p
	r.want(p.click(`#services a[href="`+r.servicePath()+`"]`), http.StatusOK, r.servicePath())
	if got := p.text("h1"); !strings.Contains(got, consoleService) || !strings.Contains(got, r.service) {
		t.Errorf("the service page's title is %q", got)
	}
	r.shot("service")
	entities := r.servicePath() + "/entities"
	r.want(p.click("#entities-link"), http.StatusOK, entities)
	r.shot("entities")

	var pages [][]string
	seen := map[string]int{}
	lastCreated := ""
	for {
		rows := p.rows("#entities")
		i := len(pages)
		if (i+1)*consolePageSize > len(r.order) {
			t.Fatalf("page %d is past the %d entities", i+1, len(r.order))
		}
		var ids []string
		for _, row := range rows {
			if len(row) != 3 || !strings.HasPrefix(row[1], "YE") || row[2] < lastCreated {
				t.Fatalf("page %d: row %q (after one created %s)", i+1, row, lastCreated)
			}
			ids = append(ids, row[0])
			seen[row[0]]++
			lastCreated = row[2]
		}
		if want := r.order[i*consolePageSize : (i+1)*consolePageSize]; !slices.Equal(ids, want) {
			t.Fatalf("page %d shows %q, want %q", i+1, ids, want)
		}
		if p.has("#prev") != (i > 0) {
			t.Errorf("page %d: a link to the previous page: %v", i+1, p.has("#prev"))
		}
		pages = append(pages, ids)
		if !p.has("#next") {
			break
		}
		r.want(p.click("#next"), http.StatusOK, entities)
	}
	if len(pages) != consoleEntities/consolePageSize || len(seen) != consoleEntities {
		t.Fatalf("%d pages showed %d entities, want %d and %d", len(pages), len(seen), consoleEntities/consolePageSize, consoleEntities)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s was shown %d times", id, n)
		}
	}
	for i := len(pages) - 2; i >= 0; i-- {
		r.want(p.click("#prev"), http.StatusOK, entities)
		if got := p.texts("#entities tbody td:first-child"); !slices.Equal(got, pages[i]) {
			t.Fatalf("back on page %d: %q, want %q", i+1, got, pages[i])
		}
		if !p.has("#next") {
			t.Fatalf("back on page %d: no link to the next page", i+1)
		}
	}
	if p.has("#prev") {
		t.Error("the first page, reached going back, links to a previous one")
	}

	// The target last: the entity step opens it from the result.
	for _, c := range []struct {
		search string
		want   []string
	}{{"user-9999", nil}, {consoleTarget, []string{consoleTarget}}} {
		search, want := c.search, c.want
		p.do(chromedp.SetValue(chromedp.CSS("#search"), search))
		r.want(p.click("#search-button"), http.StatusOK, entities)
		var got []string
		for _, row := range p.rows("#entities") {
			if len(row) == 3 {
				got = append(got, row[0])
			}
		}
		if !slices.Equal(got, want) || p.has("#next") || p.has("#prev") {
			t.Errorf("searching %s: %q (pager %v %v), want %q", search, got, p.has("#prev"), p.has("#next"), want)
		}
	}
}

// entity opens the entity just searched for: its factors and challenges,
// none yet.
func (r *consoleRun) entity() {
	t, p := r.t, r.p
	r.want(p.click(`#entities a[href="`+r.entityPath()+`"]`), http.StatusOK, r.entityPath())
	if got := p.text("h1"); !strings.HasPrefix(got, consoleTarget) {
		t.Errorf("the entity page's title is %q", got)
	}
	for table, empty := range map[string]string{"#factors": "No factor.", "#challenges": "No challenge."} {
		if rows := p.rows(table); len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] != empty {
			t.Errorf("%s of a new entity: %q", table, rows)
		}
	}
}

// totp enrolls a TOTP factor from the entity page: it decodes the QR code
// the page shows, as the image file and as the browser draws it, checks it
// against the URI and secret shown, refuses a wrong code, verifies with the
// current one, and finds the factor verified on the entity page and through
// the API; a challenge answered with the next code then shows there too.
func (r *consoleRun) totp() {
	t, p := r.t, r.p
	r.want(p.click("#enroll-totp"), http.StatusOK, r.entityPath()+"/totp")
	p.do(chromedp.SetValue(chromedp.CSS("#totp-name"), "Alice's phone"))
	r.want(p.click("#totp-create"), http.StatusCreated, r.entityPath()+"/totp")

	uri, secret, sid := p.text("#totp-uri"), p.text("#totp-secret"), p.text("#totp-factor-sid")
	src := tabEval[string](p, `document.getElementById("totp-qr").getAttribute("src")`)
	data, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Fatalf("the QR image's src is %.40q…, want a data: URL of a PNG", src)
	}
	file, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	drawn, err := chromedp.Run(p.ctx, chromedp.Screenshot(chromedp.CSS("#totp-qr")))
	if err != nil {
		t.Fatal(err)
	}
	for what, img := range map[string][]byte{"the image file": file, "the image on the page": drawn} {
		if got := decodeQR(t, img); got != uri {
			t.Errorf("%s: the QR code holds %q, the page shows the URI %q", what, got, uri)
		}
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != secret || !strings.HasPrefix(sid, "YF") {
		t.Fatalf("factor %q with URI %q and secret %q", sid, uri, secret)
	}
	r.factor = sid
	r.shot("totp")

	params := otpauthParams(t, u.Query())
	code := func(at time.Time) string {
		key, err := otp.DecodeSecret(secret)
		if err != nil {
			t.Fatal(err)
		}
		c, err := otp.Code(key, at, params)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if f, err := r.c.FetchFactor(r.service, consoleTarget, sid); err != nil || deref(t, f.Status, "status") != "unverified" {
		t.Fatalf("the new factor through the API: %+v, %v", f, err)
	}
	wrong := strings.Repeat("0", params.Digits)
	if wrong == code(time.Now()) {
		wrong = strings.Repeat("1", params.Digits)
	}
	p.do(chromedp.SetValue(chromedp.CSS("#totp-code"), wrong))
	r.want(p.click("#totp-verify"), http.StatusBadRequest, r.entityPath()+"/totp/"+sid+"/verify")
	if got := p.text("#error"); !strings.Contains(got, "Wrong code") {
		t.Errorf("a wrong code: the page says %q", got)
	}
	p.do(chromedp.SetValue(chromedp.CSS("#totp-code"), code(time.Now())))
	r.want(p.click("#totp-verify"), http.StatusOK, r.entityPath())
	if row := rowOf(p.rows("#factors"), sid); len(row) != 7 || row[0] != "Alice's phone" || row[1] != "totp" || row[2] != "verified" {
		t.Errorf("the entity page shows the factor as %q", row)
	}
	if f, err := r.c.FetchFactor(r.service, consoleTarget, sid); err != nil || deref(t, f.Status, "status") != "verified" {
		t.Errorf("the factor through the API: %+v, %v", f, err)
	}

	// Each code is accepted once: the challenge takes the next step's.
	next := code(time.Now().Add(time.Duration(params.Period) * time.Second))
	ch, err := r.c.CreateChallenge(r.service, consoleTarget, new(openapi.CreateChallengeParams).SetFactorSid(sid).SetAuthPayload(next))
	if err != nil || deref(t, ch.Status, "status") != "approved" {
		t.Fatalf("a challenge with the next code: %+v, %v", ch, err)
	}
	r.want(p.open(r.url(r.entityPath())), http.StatusOK, r.entityPath())
	if row := rowOf(p.rows("#challenges"), *ch.Sid); len(row) != 8 || row[1] != "approved" || row[3] != "totp" {
		t.Errorf("the entity page shows the challenge as %q", row)
	}
	r.shot("entity")
}

// otpauthParams reads the code's parameters from an otpauth URI's query.
func otpauthParams(t *testing.T, q url.Values) otp.Params {
	t.Helper()
	digits, err1 := strconv.Atoi(q.Get("digits"))
	period, err2 := strconv.Atoi(q.Get("period"))
	p := otp.Params{Alg: strings.ToLower(q.Get("algorithm")), Digits: digits, Period: period}
	if err1 != nil || err2 != nil || p.Check() != nil {
		t.Fatalf("the URI's parameters: %v", q)
	}
	return p
}

// decodeQR reads the text of the QR code in a PNG.
func decodeQR(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the QR image: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("no QR code in the %v image: %v", img.Bounds().Size(), err)
	}
	return res.GetText()
}

// rowOf returns the row whose last cell is sid.
func rowOf(rows [][]string, sid string) []string {
	for _, row := range rows {
		if len(row) > 0 && row[len(row)-1] == sid {
			return row
		}
	}
	return nil
}

// keys lists an API key made with the API, without its secret (the
// console shows no credential but a new TOTP factor's), then signs in with
// it in another browser: an API key signs in to its account.
func (r *consoleRun) keys() {
	t, p := r.t, r.p
	admin := v2010.NewApiServiceWithClient(restClient(t, r.s, DevAccountSid, DevAuthToken, DevAccountSid, nil))
	admin.RequestHandler().Edge, admin.RequestHandler().Region = "", ""
	key, err := admin.CreateNewKey(new(v2010.CreateNewKeyParams).SetFriendlyName("CI deploy"))
	if err != nil {
		t.Fatal(err)
	}
	sid, secret := deref(t, key.Sid, "sid"), deref(t, key.Secret, "secret")
	r.want(p.click(`header nav a[href="/console/keys"]`), http.StatusOK, "/console/keys")
	if body := tabEval[string](p, `document.body.textContent`); strings.Contains(body, secret) || !strings.Contains(body, sid) || !strings.Contains(body, "CI deploy") {
		t.Errorf("the keys page: lists the key %v, shows its secret %v", strings.Contains(body, sid), strings.Contains(body, secret))
	}
	if p.has("#create-key") {
		t.Error("the keys page offers to make a key")
	}
	r.shot("keys")

	k := r.newTab(time.Minute)
	r.want(k.open(r.url("/console/signin")), http.StatusOK, "/console/signin")
	r.want(r.signInAs(k, sid, secret), http.StatusOK, "/console/services")
	if who := k.text("#who"); who != DevAccountSid || !k.has(`#services a[href="/console/services/`+DevServiceSid+`"]`) {
		t.Errorf("signed in with an API key: account %q, services %q", who, k.texts("#services tbody tr"))
	}
}

// inbox sends a code by SMS and finds it on the inbox page.
func (r *consoleRun) inbox() {
	t, p := r.t, r.p
	v, err := r.c.CreateVerification(DevServiceSid, newVerification("+14155552671", "sms"))
	if err != nil {
		t.Fatal(err)
	}
	r.want(p.click(`header nav a[href="/console/inbox"]`), http.StatusOK, "/console/inbox")
	digits := regexp.MustCompile(`^[0-9]{4,10}$`)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if row := rowOf(p.rows("#inbox"), *v.Sid); row != nil {
			if len(row) != 6 || row[1] != "sms" || row[2] != "+14155552671" || !digits.MatchString(row[3]) {
				t.Errorf("the inbox shows %q", row)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("verification %s is not in the inbox: %q", *v.Sid, p.rows("#inbox"))
		}
		time.Sleep(200 * time.Millisecond)
		r.want(p.open(r.url("/console/inbox")), http.StatusOK, "/console/inbox")
	}
	r.shot("inbox")
}

// csrf: a POST that carries the session cookie but no CSRF token, or a
// wrong one, is refused and changes nothing; the page's own form, with
// the token, works.
func (r *consoleRun) csrf() {
	t, p := r.t, r.p
	r.want(p.open(r.url("/console/services")), http.StatusOK, "/console/services")
	for name, init := range map[string]string{
		"No token":     `{method: "POST", body: new URLSearchParams({friendly_name: "No token"})}`,
		"Wrong field":  `{method: "POST", body: new URLSearchParams({friendly_name: "Wrong field", csrf: "x"})}`,
		"Wrong header": `{method: "POST", headers: {"X-CSRF-Token": "x"}, body: new URLSearchParams({friendly_name: "Wrong header"})}`,
	} {
		if status := tabEval[int](p, `fetch("/console/services", `+init+`).then((r) => r.status)`); status != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", name, status)
		}
	}
	p.do(chromedp.SetValue(chromedp.CSS("#new-service-name"), "Made in the console"))
	resp := p.click("#create-service")
	if !strings.HasPrefix(p.location(), "/console/services/VA") {
		t.Fatalf("creating a service through the form ended at %s (HTTP %d)", p.location(), resp.Status)
	}
	list, err := r.c.ListService(&openapi.ListServiceParams{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list {
		names = append(names, deref(t, s.FriendlyName, "friendly_name"))
	}
	slices.Sort(names)
	if want := []string{consoleService, "Dev", "Made in the console"}; !slices.Equal(names, want) {
		t.Errorf("the account's services are %q, want %q", names, want)
	}
}

// otherAccount signs another account in, in a browser of its own: it sees
// none of the first account's services, and their pages and forms answer
// 404 even with its own valid CSRF token.
func (r *consoleRun) otherAccount() {
	t := r.t
	q := r.newTab(time.Minute)
	r.want(q.open(r.url("/console/signin")), http.StatusOK, "/console/signin")
	r.want(r.signInAs(q, otherAccount, otherToken), http.StatusOK, "/console/services")
	if rows := q.rows("#services"); len(rows) != 1 || len(rows[0]) != 1 {
		t.Errorf("the other account's services page lists %q", rows)
	}
	for _, path := range []string{"/console/services/" + DevServiceSid, r.servicePath(), r.servicePath() + "/entities",
		r.entityPath(), r.entityPath() + "/totp", r.servicePath() + "/entities?identity=" + consoleTarget} {
		resp := q.open(r.url(path))
		r.want(resp, http.StatusNotFound, strings.Split(path, "?")[0])
		if body := tabEval[string](q, `document.body.textContent`); !strings.Contains(body, "Not found") ||
			strings.Contains(body, consoleTarget) || strings.Contains(body, consoleService) {
			t.Errorf("%s shows the other account:\n%s", path, body)
		}
	}
	token := tabEval[string](q, `document.querySelector("input[name=csrf]").value`)
	for _, path := range []string{r.entityPath() + "/delete", r.servicePath(), r.entityPath() + "/totp"} {
		status := tabEval[int](q, `fetch(`+jsString(path)+`, {method: "POST", headers: {"X-CSRF-Token": `+jsString(token)+`},
			body: new URLSearchParams({friendly_name: "Hijacked"})}).then((r) => r.status)`)
		if status != http.StatusNotFound {
			t.Errorf("POST %s as the other account: HTTP %d, want 404", path, status)
		}
	}
	if f, err := r.c.FetchFactor(r.service, consoleTarget, r.factor); err != nil || deref(t, f.Status, "status") != "verified" {
		t.Errorf("after the other account's POSTs the factor is %+v, %v", f, err)
	}
	if s, err := r.c.FetchService(r.service); err != nil || deref(t, s.FriendlyName, "friendly_name") != consoleService {
		t.Errorf("after the other account's POSTs the service is %+v, %v", s, err)
	}
	if factors, err := r.c.ListFactor(r.service, consoleTarget, &openapi.ListFactorParams{}); err != nil || len(factors) != 1 {
		t.Errorf("after the other account's POSTs the entity has factors %d, %v; want 1", len(factors), err)
	}
}

// signOut ends the session on the server: the cookie it had no longer
// opens a page, even sent again by hand.
func (r *consoleRun) signOut() {
	t, p := r.t, r.p
	var session *network.Cookie
	for _, k := range p.cookies(r.url("/console/")) {
		session = k
	}
	if session == nil {
		t.Fatal("no session cookie before sign-out")
	}
	replay := func() *http.Response {
		req, _ := http.NewRequest(http.MethodGet, r.s.base+"/console/services", nil)
		req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := replay(); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session cookie, sent by hand before sign-out: HTTP %d", resp.StatusCode)
	}
	r.want(p.click("#signout"), http.StatusOK, "/console/signin")
	r.want(p.open(r.url("/console/services")), http.StatusOK, "/console/signin")
	if resp := replay(); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Errorf("the session cookie, sent by hand after sign-out: HTTP %d to %q, want 303 to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// shot saves a screenshot of the page's viewport as name.png in the run's
// directory, after checking it is a real picture of a page: 1280x800, and
// not one flat colour.
func (r *consoleRun) shot(name string) {
	r.t.Helper()
	screenshot(r.t, r.p.ctx, r.shots, name)
}

// screenshotDir is where a browser test on db writes its screenshots: the
// directory VERIFYD_CONSOLE_SCREENSHOTS names (docs/console) for the
// SQLite run, else a temporary one, so that every run still checks that
// they can be taken.
func screenshotDir(t *testing.T, db string) string {
	dir := os.Getenv("VERIFYD_CONSOLE_SCREENSHOTS")
	if dir == "" || sqlstore.IsPostgres(db) {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot writes the tab's viewport to dir/name.png, once it is sure
// the image is a 1280x800 page with something on it.
func screenshot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	b, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if size := img.Bounds().Size(); size != image.Pt(1280, 800) {
		t.Errorf("screenshot %s is %v, want 1280x800", name, size)
	}
	if colours, ink := imageStats(img); colours < 16 || ink < 0.02 {
		t.Errorf("screenshot %s looks empty: %d colours, %.1f%% of pixels off the background", name, colours, 100*ink)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// imageStats counts an image's colours and the share of its pixels that
// differ from the most common one (the background).
func imageStats(img image.Image) (colours int, ink float64) {
	counts := map[[4]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			counts[[4]uint32{r, g, bl, a}]++
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	total := b.Dx() * b.Dy()
	return len(counts), float64(total-most) / float64(total)
}
